/**
 * Canonical unsigned LEB128 varints (commonware `UInt<T>`) and ZigZag signed varints
 * (`SInt<T>`).
 *
 * Each byte carries 7 value bits, least-significant group first; the high bit (0x80) says another
 * byte follows. Decoding is strict so that every value has exactly one encoding (signatures and
 * hashes over encoded bytes must not be malleable):
 * - a final `0x00` byte after a continuation byte is non-canonical (`80 00` for 0) and rejected;
 * - the byte that holds a type's top bits may not carry bits past the width (u16: 3rd byte
 *   <= 0x03; u32: 5th byte <= 0x0F; u64: 10th byte <= 0x01; u128: 19th byte <= 0x03), which also
 *   bounds the length (u16 3, u32 5, u64 10, u128 19 bytes);
 * - input that ends mid-varint is `EndOfBuffer` (Reader) or `undefined` (the peek helper).
 */
import type { Codec } from './codec.js';
import { CodecError } from './errors.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

const U32_MAX = 0xffffffff;
const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;
const TWO_POW_28 = 0x10000000;

function nonCanonical(): CodecError {
  return new CodecError('InvalidVarint', 'non-canonical varint (trailing zero byte)');
}

function overflow(bits: number): CodecError {
  return new CodecError('InvalidVarint', `varint overflows u${bits}`);
}

// ---------- Low-level u32 helpers (used by the stream framing) ----------

/** Bytes needed to encode `value` (a u32) as a varint: 1..5. */
export function varintU32Size(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < TWO_POW_28) return 4;
  return 5;
}

/**
 * Writes `value` (a u32) as a varint into `out` at `offset` and returns the number of bytes
 * written. The caller guarantees room for {@link varintU32Size}(value) bytes.
 *
 * @throws RangeError if `value` is not an integer in [0, 2^32 - 1] or `out` is too short.
 */
export function writeVarintU32(value: number, out: Uint8Array, offset: number): number {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new RangeError(`u32 varint out of range: ${value}`);
  }
  const size = varintU32Size(value);
  if (offset < 0 || offset + size > out.length) throw new RangeError('varint does not fit');
  let o = offset;
  while (value >= 0x80) {
    out[o++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[o] = value;
  return size;
}

/**
 * Parses a u32 varint at `offset` of a possibly incomplete buffer (a stream's receive buffer).
 *
 * @returns the value and its encoded length, or `undefined` if `buf` ends before the varint does.
 * @throws CodecError `InvalidVarint` as soon as the bytes present are invalid (non-canonical, or
 *   a 5th byte above 0x0F, which also covers any attempt at a 6th byte), so an endless stream of
 *   continuation bytes is rejected after at most 5 bytes instead of being buffered.
 */
export function peekVarintU32(
  buf: Uint8Array,
  offset = 0,
): { value: number; length: number } | undefined {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`bad offset ${offset}`);
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const idx = offset + i;
    if (idx >= buf.length) return undefined;
    const b = buf[idx]!;
    if (b === 0 && i > 0) throw nonCanonical();
    if (i === 4) {
      if (b > 0x0f) throw overflow(32);
      return { value: value + b * TWO_POW_28, length: 5 };
    }
    // i <= 3: at most 28 bits, so the int32 arithmetic below stays positive.
    value |= (b & 0x7f) << (7 * i);
    if (b < 0x80) return { value, length: i + 1 };
  }
  // Unreachable: the 5th byte always returns or throws above.
  throw overflow(32);
}

// ---------- Reader/Writer helpers ----------

/** Reads an unsigned varint of at most `bits` (<= 32) bits as a number. */
export function readVarUint(r: Reader, bits: 16 | 32): number {
  let value = 0;
  let mul = 1;
  for (let shift = 0; ; shift += 7) {
    const b = r.u8();
    if (b === 0 && shift > 0) throw nonCanonical();
    const rem = bits - shift;
    if (rem <= 7 && b >= 1 << rem) throw overflow(bits);
    value += (b & 0x7f) * mul;
    if (b < 0x80) return value;
    mul *= 0x80;
  }
}

/** Writes a u32 varint to `w`. @throws RangeError if out of range. */
export function writeVarUint32(value: number, w: Writer): void {
  const n = varintU32Size(value);
  const offset = w.claim(n);
  writeVarintU32(value, w.storage, offset);
}

// The low 28 bits of the last u64 read; lets readU64Hi return two numbers without allocating.
let lastLo = 0;

// Reads a u64 varint as (hi, lo) where value = hi * 2^28 + lo: hi has at most 36 bits, so both
// halves are exact doubles and no bigint is needed for values that fit a JS number.
function readU64Hi(r: Reader): number {
  let lo = 0;
  let hi = 0;
  let mul = 1;
  for (let i = 0; ; i++) {
    const b = r.u8();
    if (b === 0 && i > 0) throw nonCanonical();
    if (i === 9 && b > 0x01) throw overflow(64);
    if (i < 4) {
      lo |= (b & 0x7f) << (7 * i);
    } else {
      hi += (b & 0x7f) * mul;
      mul *= 0x80;
    }
    if (b < 0x80) {
      lastLo = lo;
      return hi;
    }
  }
}

/** Reads a u64 varint as a bigint. */
export function readVarUint64(r: Reader): bigint {
  const hi = readU64Hi(r);
  const lo = lastLo;
  if (hi === 0) return BigInt(lo);
  return (BigInt(hi) << 28n) | BigInt(lo);
}

/**
 * Reads a u64 varint as a number (timestamps in ms, sizes).
 * @throws CodecError `InvalidUsize` if the value exceeds `Number.MAX_SAFE_INTEGER`.
 */
export function readVarUint64Number(r: Reader): number {
  const hi = readU64Hi(r);
  // value <= 2^53 - 1  <=>  hi <= 2^25 - 1, because lo < 2^28.
  if (hi >= 0x2000000) {
    throw new CodecError('InvalidUsize', 'u64 exceeds Number.MAX_SAFE_INTEGER');
  }
  return hi * TWO_POW_28 + lastLo;
}

/** Bytes needed to encode `value` (a non-negative safe integer or bigint) as a varint. */
export function varintSize(value: number | bigint): number {
  if (typeof value === 'number') {
    if (value <= U32_MAX) return varintU32Size(value);
    let n = 1;
    while (value >= 0x80) {
      value = Math.floor(value / 0x80);
      n++;
    }
    return n;
  }
  if (value <= 0xffffffffn) return varintU32Size(Number(value));
  return Math.ceil(value.toString(2).length / 7);
}

/** Writes a non-negative safe integer (up to 2^53 - 1) as a varint. */
function writeVarNumber(value: number, w: Writer): void {
  if (value <= U32_MAX) {
    writeVarUint32(value, w);
    return;
  }
  const n = varintSize(value);
  const off = w.claim(n);
  const out = w.storage;
  for (let i = 0; i < n - 1; i++) {
    out[off + i] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[off + n - 1] = value;
}

function writeVarBig(value: bigint, w: Writer): void {
  if (value <= BigInt(Number.MAX_SAFE_INTEGER)) {
    writeVarNumber(Number(value), w);
    return;
  }
  const n = varintSize(value);
  const off = w.claim(n);
  const out = w.storage;
  for (let i = 0; i < n - 1; i++) {
    out[off + i] = Number(value & 0x7fn) | 0x80;
    value >>= 7n;
  }
  out[off + n - 1] = Number(value);
}

/** Writes a u64 varint. @throws RangeError if `value` is not in [0, 2^64 - 1]. */
export function writeVarUint64(value: bigint, w: Writer): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new RangeError(`u64 varint out of range: ${String(value)}`);
  }
  writeVarBig(value, w);
}

function readVarUint128(r: Reader): bigint {
  let value = 0n;
  for (let shift = 0n; ; shift += 7n) {
    const b = r.u8();
    if (b === 0 && shift > 0n) throw nonCanonical();
    // 18 bytes carry 126 bits; the 19th may only carry the top 2.
    if (shift === 126n && b > 0x03) throw overflow(128);
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return value;
  }
}

// ---------- Codecs ----------

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} out of range: ${v}`);
}

/** `UInt<u16>`: a u16 as a varint (1..3 bytes). */
export const varU16: Codec<number> = {
  encodeSize: (v) => varintU32Size(v),
  write: (v, w) => {
    checkUint(v, 0xffff, 'u16');
    writeVarUint32(v, w);
  },
  read: (r) => readVarUint(r, 16),
};

/** `UInt<u32>`: a u32 as a varint (1..5 bytes). */
export const varU32: Codec<number> = {
  encodeSize: (v) => varintU32Size(v),
  write: (v, w) => writeVarUint32(v, w),
  read: (r) => readVarUint(r, 32),
};

/** `UInt<u64>`: a u64 as a varint (1..10 bytes), as a bigint. */
export const varU64: Codec<bigint> = {
  encodeSize: (v) => varintSize(v),
  write: (v, w) => writeVarUint64(v, w),
  read: (r) => readVarUint64(r),
};

/**
 * `UInt<u64>` narrowed to a number, for ms timestamps and sizes: same bytes as {@link varU64};
 * decoding a value above `Number.MAX_SAFE_INTEGER` fails with `InvalidUsize`.
 */
export const varU64Number: Codec<number> = {
  encodeSize: (v) => varintSize(v),
  write: (v, w) => {
    checkUint(v, Number.MAX_SAFE_INTEGER, 'u64 (safe integer)');
    writeVarNumber(v, w);
  },
  read: (r) => readVarUint64Number(r),
};

/** `UInt<u128>`: a u128 as a varint (1..19 bytes), as a bigint. */
export const varU128: Codec<bigint> = {
  encodeSize: (v) => varintSize(v),
  write: (v, w) => {
    if (typeof v !== 'bigint' || v < 0n || v > U128_MAX) {
      throw new RangeError(`u128 varint out of range: ${String(v)}`);
    }
    writeVarBig(v, w);
  },
  read: (r) => readVarUint128(r),
};

// ZigZag maps signed to unsigned so small magnitudes stay short: 0->0, -1->1, 1->2, -2->3 ...
function zigzag32(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}
function unzigzag32(u: number): number {
  return (u >>> 1) ^ -(u & 1);
}
function zigzagBig(v: bigint, bits: bigint): bigint {
  return BigInt.asUintN(Number(bits), (v << 1n) ^ (v >> (bits - 1n)));
}
function unzigzagBig(u: bigint): bigint {
  return (u >> 1n) ^ -(u & 1n);
}

function checkInt(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`${what} out of range: ${v}`);
}

/** `SInt<i16>`: ZigZag then a u16 varint. */
export const varI16: Codec<number> = {
  encodeSize: (v) => varintU32Size(zigzag32(v)),
  write: (v, w) => {
    checkInt(v, -0x8000, 0x7fff, 'i16');
    writeVarUint32(zigzag32(v), w);
  },
  read: (r) => unzigzag32(readVarUint(r, 16)),
};

/** `SInt<i32>`: ZigZag then a u32 varint. */
export const varI32: Codec<number> = {
  encodeSize: (v) => varintU32Size(zigzag32(v)),
  write: (v, w) => {
    checkInt(v, -0x80000000, 0x7fffffff, 'i32');
    writeVarUint32(zigzag32(v), w);
  },
  read: (r) => unzigzag32(readVarUint(r, 32)),
};

function checkBigInt(v: bigint, bits: bigint, what: string): void {
  const lim = 1n << (bits - 1n);
  if (typeof v !== 'bigint' || v < -lim || v >= lim) {
    throw new RangeError(`${what} out of range: ${String(v)}`);
  }
}

/** `SInt<i64>`: ZigZag then a u64 varint, as a bigint. */
export const varI64: Codec<bigint> = {
  encodeSize: (v) => varintSize(zigzagBig(v, 64n)),
  write: (v, w) => {
    checkBigInt(v, 64n, 'i64');
    writeVarBig(zigzagBig(v, 64n), w);
  },
  read: (r) => unzigzagBig(readVarUint64(r)),
};

/** `SInt<i128>`: ZigZag then a u128 varint, as a bigint. */
export const varI128: Codec<bigint> = {
  encodeSize: (v) => varintSize(zigzagBig(v, 128n)),
  write: (v, w) => {
    checkBigInt(v, 128n, 'i128');
    writeVarBig(zigzagBig(v, 128n), w);
  },
  read: (r) => unzigzagBig(readVarUint128(r)),
};
