/**
 * Lengths (`usize` on the wire) and the range limits that bound them.
 *
 * A length is a u32 varint. Decoders of variable-size values take a {@link RangeCfg} and check
 * the decoded length against it before allocating or reading anything else, so an attacker's
 * huge length prefix costs at most five bytes of parsing.
 */
import type { Codec } from './codec.js';
import { CodecError } from './errors.js';
import type { Reader } from './reader.js';
import { readVarUint, varintU32Size, writeVarUint32 } from './varint.js';
import type { Writer } from './writer.js';

/** An inclusive range `[min, max]` for a decoded length or count (commonware `RangeCfg`). */
export interface RangeCfg {
  /** Smallest accepted length (inclusive). Default 0. */
  readonly min?: number;
  /** Largest accepted length (inclusive). */
  readonly max: number;
}

/** Largest length a `usize` prefix can carry (u32::MAX). */
export const MAX_USIZE = 0xffffffff;

/** Throws `InvalidLength` unless `cfg.min <= n <= cfg.max`. */
export function checkLength(n: number, cfg: RangeCfg, context?: string): void {
  if (n > cfg.max || n < (cfg.min ?? 0)) {
    const where = context === undefined ? '' : `${context}: `;
    throw new CodecError(
      'InvalidLength',
      `${where}length ${n} outside [${cfg.min ?? 0}, ${cfg.max}]`,
      context === undefined ? undefined : { context },
    );
  }
}

/** Reads a `usize` length prefix and checks it against `cfg` (before the caller allocates). */
export function readLength(r: Reader, cfg: RangeCfg, context?: string): number {
  const n = readVarUint(r, 32);
  checkLength(n, cfg, context);
  return n;
}

/** Writes a `usize` length prefix. @throws RangeError if `n` is not in [0, 2^32 - 1]. */
export function writeLength(n: number, w: Writer): void {
  writeVarUint32(n, w);
}

/** Encoded size of a `usize` length prefix. */
export function lengthSize(n: number): number {
  return varintU32Size(n);
}

/** `usize`: a u32 varint, decoded under a {@link RangeCfg} (violations are `InvalidLength`). */
export const usize: Codec<number, RangeCfg> = {
  encodeSize: (v) => varintU32Size(v),
  write: (v, w) => writeVarUint32(v, w),
  read: (r, cfg) => readLength(r, cfg),
};
