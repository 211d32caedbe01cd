/**
 * The addresses of the lookup directory's bare entries (peers that are only set members, see
 * `RecordTable`): a bare entry is the key itself, as in discovery, and its address is kept
 * here, under the key's hex, so that a registration stores no object per peer (a
 * `[key, address]` pair per member was 64 B of new objects each, ~4 MB for 65,536 peers, for
 * the next young-generation collection to copy).
 *
 * Split into the record table's shards ({@link SHARDS}, by the key's first hex digit) for the
 * same reason: one `Map` of 65,536 entries rehashes them all in one insertion when it grows.
 *
 * An entry is set when a key joins as a bare entry (or a bare entry's address changes) and
 * deleted when the directory forgets the key; while the key has a record, the record's address
 * is the one that counts (an entry left from before is never read for it).
 *
 * @module
 */

import type { PublicKey } from '../../../../crypto/ed25519.js';
import type { RegisteredAddress } from '../../../registered-address.js';
import { SHARDS, shardOf } from '../../tracker/record-table.js';

/** Registered addresses by key, for bare entries. */
export class BareAddresses {
  readonly #shards: Map<string, RegisteredAddress>[] = Array.from(
    { length: SHARDS },
    () => new Map(),
  );

  /** `key`'s address. @throws Error if it has none (a directory bookkeeping bug). */
  get(key: PublicKey): RegisteredAddress {
    const hex = key.toHex();
    const address = this.#shards[shardOf(hex)]!.get(hex);
    if (address === undefined) throw new Error(`invariant: bare entry ${hex} has no address`);
    return address;
  }

  /** Sets `key`'s address. */
  set(key: PublicKey, address: RegisteredAddress): void {
    const hex = key.toHex();
    this.#shards[shardOf(hex)]!.set(hex, address);
  }

  /** Forgets `key`'s address, if any. */
  delete(key: PublicKey): void {
    const hex = key.toHex();
    this.#shards[shardOf(hex)]!.delete(hex);
  }
}
