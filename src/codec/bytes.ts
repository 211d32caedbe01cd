/**
 * Byte strings: length-prefixed (`Bytes`/`Vec<u8>`) and fixed-size (`[u8; N]`).
 *
 * Decoded bytes are views into the input buffer (no copy). A caller that keeps them after the
 * input buffer is reused must copy them (`slice()`).
 */
import type { Codec } from './codec.js';
import { lengthSize, type RangeCfg, readLength, writeLength } from './range.js';

/**
 * `Bytes`: a `usize` length then that many bytes. Decoding checks the length against the
 * {@link RangeCfg} (`InvalidLength`) and against the remaining input (`EndOfBuffer`) before
 * touching the body, and returns a view (no copy).
 */
export const bytes: Codec<Uint8Array, RangeCfg> = {
  encodeSize: (v) => lengthSize(v.length) + v.length,
  write: (v, w) => {
    writeLength(v.length, w);
    w.bytes(v);
  },
  read: (r, cfg) => r.readBytes(readLength(r, cfg)),
};

/**
 * `[u8; N]`: exactly `n` bytes, no prefix (keys, signatures, digests). Decodes to a view.
 * @throws RangeError on encode if the value is not exactly `n` bytes long.
 */
export function fixedBytes(n: number): Codec<Uint8Array> {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`invalid fixed size ${n}`);
  return {
    encodeSize: () => n,
    write: (v, w) => {
      if (v.length !== n) throw new RangeError(`expected ${n} bytes, got ${v.length}`);
      w.bytes(v);
    },
    read: (r) => r.readBytes(n),
  };
}
