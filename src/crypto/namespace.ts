/**
 * Namespaced messages: commonware's `union_unique` (utils/src/lib.rs). Every signature in the
 * protocol covers `varint_u32(len(namespace)) || namespace || message`, so a signature made for one
 * namespace (or one purpose) can never be replayed as a valid signature in another: the length
 * prefix makes the split between namespace and message unambiguous.
 *
 * @module
 */

import { CryptoError } from './errors.js';

const MAX_U32 = 0xffffffff;

/** Bytes taken by the unsigned LEB128 encoding of `n` (`n` a u32). */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/**
 * `varint_u32(len(namespace)) || namespace || message` in one allocation: the exact byte string
 * that namespaced ed25519 signs and verifies.
 *
 * @throws {@link CryptoError} `InvalidLength` if the namespace is longer than u32::MAX bytes
 */
export function unionUnique(namespace: Uint8Array, message: Uint8Array): Uint8Array {
  const n = namespace.length;
  if (n > MAX_U32) throw new CryptoError('InvalidLength', 'namespace longer than u32::MAX');
  const prefix = varintSize(n);
  const out = new Uint8Array(prefix + n + message.length);
  // Unsigned LEB128: 7 bits per byte, least significant group first, MSB = "more follows".
  let v = n;
  let i = 0;
  while (v >= 0x80) {
    out[i++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[i] = v;
  out.set(namespace, prefix);
  out.set(message, prefix + n);
  return out;
}
