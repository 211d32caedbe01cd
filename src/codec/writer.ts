function checkInt(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${what} out of range: ${v}`);
  }
}

function checkBig(v: bigint, min: bigint, max: bigint, what: string): void {
  if (typeof v !== 'bigint' || v < min || v > max) {
    throw new RangeError(`${what} out of range: ${String(v)}`);
  }
}

const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const I128_MIN = -(1n << 127n);
const I128_MAX = (1n << 127n) - 1n;

/**
 * A big-endian write cursor.
 *
 * Two modes: fixed (`new Writer(size)` or {@link Writer.wrap}) writes into exactly-sized storage
 * and throws `RangeError` on overflow, which is how `encode()` turns a wrong `encodeSize` into a
 * loud bug instead of a short buffer; growable ({@link Writer.growable}) doubles its storage as
 * needed, for callers that do not know the size up front.
 *
 * Writing an out-of-range value (a u8 of 300, a negative u32) is a programmer error and throws
 * `RangeError`; the codec never silently truncates.
 */
export class Writer {
  #buf: Uint8Array;
  // Created on first multi-byte write: most small encodes never need it.
  #view: DataView | undefined;
  #pos = 0;
  #growable = false;

  /** A fixed-capacity writer over a fresh zeroed buffer of exactly `size` bytes. */
  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid size ${size}`);
    this.#buf = new Uint8Array(size);
  }

  /** A writer that grows (doubling) from `initialCapacity` bytes as needed. */
  static growable(initialCapacity = 64): Writer {
    const w = new Writer(Math.max(1, initialCapacity));
    w.#growable = true;
    return w;
  }

  /** A fixed-capacity writer over the caller's `buf`; writes start at index 0 of `buf`. */
  static wrap(buf: Uint8Array): Writer {
    const w = new Writer(0);
    w.#buf = buf;
    return w;
  }

  get #dv(): DataView {
    this.#view ??= new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
    return this.#view;
  }

  /** Bytes written so far. */
  get offset(): number {
    return this.#pos;
  }

  /** Bytes that fit before the storage is full (fixed mode: before a write overflows). */
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  /** The written bytes: a view of the first `offset` bytes of the storage (no copy). */
  finish(): Uint8Array {
    return this.#pos === this.#buf.length ? this.#buf : this.#buf.subarray(0, this.#pos);
  }

  /** Writes `b` verbatim (no length prefix). */
  bytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** An unsigned 8-bit integer. */
  u8(v: number): void {
    checkInt(v, 0, 0xff, 'u8');
    this.#reserve(1);
    this.#buf[this.#pos++] = v;
  }

  /** An unsigned 16-bit big-endian integer. */
  u16(v: number): void {
    checkInt(v, 0, 0xffff, 'u16');
    this.#reserve(2);
    const b = this.#buf;
    b[this.#pos++] = v >>> 8;
    b[this.#pos++] = v & 0xff;
  }

  /** An unsigned 32-bit big-endian integer. */
  u32(v: number): void {
    checkInt(v, 0, 0xffffffff, 'u32');
    this.#reserve(4);
    const b = this.#buf;
    const p = this.#pos;
    b[p] = v >>> 24;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    this.#pos = p + 4;
  }

  /** An unsigned 64-bit big-endian integer. */
  u64(v: bigint): void {
    checkBig(v, 0n, U64_MAX, 'u64');
    this.#reserve(8);
    this.#dv.setBigUint64(this.#pos, v);
    this.#pos += 8;
  }

  /** An unsigned 128-bit big-endian integer. */
  u128(v: bigint): void {
    checkBig(v, 0n, U128_MAX, 'u128');
    this.#reserve(16);
    this.#dv.setBigUint64(this.#pos, v >> 64n);
    this.#dv.setBigUint64(this.#pos + 8, v & U64_MAX);
    this.#pos += 16;
  }

  /** A signed 8-bit integer. */
  i8(v: number): void {
    checkInt(v, -0x80, 0x7f, 'i8');
    this.#reserve(1);
    this.#dv.setInt8(this.#pos, v);
    this.#pos += 1;
  }

  /** A signed 16-bit big-endian integer. */
  i16(v: number): void {
    checkInt(v, -0x8000, 0x7fff, 'i16');
    this.#reserve(2);
    this.#dv.setInt16(this.#pos, v);
    this.#pos += 2;
  }

  /** A signed 32-bit big-endian integer. */
  i32(v: number): void {
    checkInt(v, -0x80000000, 0x7fffffff, 'i32');
    this.#reserve(4);
    this.#dv.setInt32(this.#pos, v);
    this.#pos += 4;
  }

  /** A signed 64-bit big-endian integer. */
  i64(v: bigint): void {
    checkBig(v, I64_MIN, I64_MAX, 'i64');
    this.#reserve(8);
    this.#dv.setBigInt64(this.#pos, v);
    this.#pos += 8;
  }

  /** A signed 128-bit big-endian integer (two's complement). */
  i128(v: bigint): void {
    checkBig(v, I128_MIN, I128_MAX, 'i128');
    this.u128(BigInt.asUintN(128, v));
  }

  /** An IEEE-754 binary32, big-endian. */
  f32(v: number): void {
    this.#reserve(4);
    this.#dv.setFloat32(this.#pos, v);
    this.#pos += 4;
  }

  /** An IEEE-754 binary64, big-endian. */
  f64(v: number): void {
    this.#reserve(8);
    this.#dv.setFloat64(this.#pos, v);
    this.#pos += 8;
  }

  /**
   * Makes room for `n` more bytes, advances past them and returns the offset at which the caller
   * must now write them into {@link Writer.storage}. For low-level helpers (varints) that write
   * bytes directly.
   */
  claim(n: number): number {
    this.#reserve(n);
    const offset = this.#pos;
    this.#pos += n;
    return offset;
  }

  /** The current backing storage; valid only until the next write (growing replaces it). */
  get storage(): Uint8Array {
    return this.#buf;
  }

  #reserve(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    if (!this.#growable) {
      throw new RangeError(
        `writer overflow: ${n} bytes at offset ${this.#pos} of ${this.#buf.length}`,
      );
    }
    let cap = this.#buf.length * 2;
    while (cap < this.#pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = undefined;
  }
}
