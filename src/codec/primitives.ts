/**
 * Fixed-width primitives: integers and floats big-endian, bool as one byte (0 or 1).
 */
import type { Codec } from './codec.js';
import { CodecError } from './errors.js';

/** `bool`: one byte, `0x00` false or `0x01` true; any other byte is `InvalidBool`. */
export const bool: Codec<boolean> = {
  encodeSize: () => 1,
  write: (v, w) => {
    if (typeof v !== 'boolean') throw new TypeError('bool codec needs a boolean');
    w.u8(v ? 1 : 0);
  },
  read: (r) => {
    const b = r.u8();
    if (b > 1) throw new CodecError('InvalidBool', `bool byte 0x${b.toString(16)}`);
    return b === 1;
  },
};

/** `u8`: one byte. */
export const u8: Codec<number> = {
  encodeSize: () => 1,
  write: (v, w) => w.u8(v),
  read: (r) => r.u8(),
};

/** `u16`: 2 bytes big-endian. */
export const u16: Codec<number> = {
  encodeSize: () => 2,
  write: (v, w) => w.u16(v),
  read: (r) => r.u16(),
};

/** `u32`: 4 bytes big-endian. */
export const u32: Codec<number> = {
  encodeSize: () => 4,
  write: (v, w) => w.u32(v),
  read: (r) => r.u32(),
};

/** `u64`: 8 bytes big-endian, as a bigint. */
export const u64: Codec<bigint> = {
  encodeSize: () => 8,
  write: (v, w) => w.u64(v),
  read: (r) => r.u64(),
};

/**
 * `u64` narrowed to a number (ms timestamps, sizes): 8 bytes big-endian; decoding a value above
 * `Number.MAX_SAFE_INTEGER` fails with `InvalidUsize`.
 */
export const u64Number: Codec<number> = {
  encodeSize: () => 8,
  write: (v, w) => {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`u64 (safe integer): ${v}`);
    w.u32(Math.floor(v / 0x100000000));
    w.u32(v % 0x100000000);
  },
  read: (r) => {
    const hi = r.u32();
    const lo = r.u32();
    // 2^53 - 1 = hi 0x1fffff, lo 0xffffffff.
    if (hi > 0x1fffff) throw new CodecError('InvalidUsize', 'u64 exceeds Number.MAX_SAFE_INTEGER');
    return hi * 0x100000000 + lo;
  },
};

/** `u128`: 16 bytes big-endian, as a bigint. */
export const u128: Codec<bigint> = {
  encodeSize: () => 16,
  write: (v, w) => w.u128(v),
  read: (r) => r.u128(),
};

/** `i8`: one byte, two's complement. */
export const i8: Codec<number> = {
  encodeSize: () => 1,
  write: (v, w) => w.i8(v),
  read: (r) => r.i8(),
};

/** `i16`: 2 bytes big-endian, two's complement. */
export const i16: Codec<number> = {
  encodeSize: () => 2,
  write: (v, w) => w.i16(v),
  read: (r) => r.i16(),
};

/** `i32`: 4 bytes big-endian, two's complement. */
export const i32: Codec<number> = {
  encodeSize: () => 4,
  write: (v, w) => w.i32(v),
  read: (r) => r.i32(),
};

/** `i64`: 8 bytes big-endian, two's complement, as a bigint. */
export const i64: Codec<bigint> = {
  encodeSize: () => 8,
  write: (v, w) => w.i64(v),
  read: (r) => r.i64(),
};

/** `i128`: 16 bytes big-endian, two's complement, as a bigint. */
export const i128: Codec<bigint> = {
  encodeSize: () => 16,
  write: (v, w) => w.i128(v),
  read: (r) => r.i128(),
};

/** `f32`: IEEE-754 binary32 big-endian (values are rounded to single precision). */
export const f32: Codec<number> = {
  encodeSize: () => 4,
  write: (v, w) => w.f32(v),
  read: (r) => r.f32(),
};

/** `f64`: IEEE-754 binary64 big-endian. */
export const f64: Codec<number> = {
  encodeSize: () => 8,
  write: (v, w) => w.f64(v),
  read: (r) => r.f64(),
};
