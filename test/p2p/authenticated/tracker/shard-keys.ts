/**
 * Keys that land in one shard of a `RecordTable` (the same first hex digit), for tests of the
 * pauses around a shard's growth.
 */

import { PrivateKey, type PublicKey } from '../../../../src/crypto/ed25519.js';

/** The first `count` keys of seeds `from`, `from + 1`, ... whose hex form starts with `digit`. */
export function keysInShard(digit: string, count: number, from = 100): PublicKey[] {
  const keys: PublicKey[] = [];
  for (let seed = from; keys.length < count; seed++) {
    const key = PrivateKey.fromSeed(BigInt(seed)).publicKey;
    if (key.toHex()[0] === digit) keys.push(key);
  }
  return keys;
}
