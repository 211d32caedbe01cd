import { CodecError } from './errors.js';

/**
 * A bounds-checked, big-endian read cursor over a `Uint8Array`.
 *
 * Every read checks the remaining length first and throws `CodecError('EndOfBuffer')` instead of
 * reading past the end, so a decoder built on it cannot be driven out of bounds by a short input.
 * {@link Reader.readBytes} returns a view into the input (no copy): callers that keep the bytes
 * beyond the life of the input buffer must copy them.
 */
export class Reader {
  readonly #buf: Uint8Array;
  // Created on first multi-byte read: most small decodes never need it.
  #view: DataView | undefined;
  #pos = 0;

  /** @param buf - the bytes to read; not copied, and must not be mutated while reading. */
  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  get #dv(): DataView {
    this.#view ??= new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
    return this.#view;
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.#pos;
  }

  /** Bytes not yet consumed. */
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  /** Total length of the underlying input. */
  get length(): number {
    return this.#buf.length;
  }

  /** Throws `EndOfBuffer` unless at least `n` bytes remain. */
  ensure(n: number): void {
    if (n > this.#buf.length - this.#pos) {
      throw new CodecError('EndOfBuffer', `need ${n} bytes, ${this.remaining} remain`);
    }
  }

  /** Advances past `n` bytes. */
  skip(n: number): void {
    this.ensure(n);
    this.#pos += n;
  }

  /** The next byte without consuming it. */
  peekU8(): number {
    this.ensure(1);
    return this.#buf[this.#pos]!;
  }

  /** A view (no copy) of the next `n` bytes. */
  readBytes(n: number): Uint8Array {
    this.ensure(n);
    const start = this.#pos;
    this.#pos = start + n;
    return this.#buf.subarray(start, start + n);
  }

  /**
   * A view (no copy) of the bytes consumed since offset `start` (an earlier {@link Reader.offset}).
   * Lets a decoder compare the raw encoding of what it just read (map key order).
   */
  bytesSince(start: number): Uint8Array {
    if (start < 0 || start > this.#pos) throw new RangeError(`bad start ${start}`);
    return this.#buf.subarray(start, this.#pos);
  }

  /** An unsigned 8-bit integer. */
  u8(): number {
    this.ensure(1);
    return this.#buf[this.#pos++]!;
  }

  /** An unsigned 16-bit big-endian integer. */
  u16(): number {
    this.ensure(2);
    const b = this.#buf;
    const p = this.#pos;
    this.#pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  /** An unsigned 32-bit big-endian integer. */
  u32(): number {
    this.ensure(4);
    const b = this.#buf;
    const p = this.#pos;
    this.#pos = p + 4;
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** An unsigned 64-bit big-endian integer. */
  u64(): bigint {
    this.ensure(8);
    const v = this.#dv.getBigUint64(this.#pos);
    this.#pos += 8;
    return v;
  }

  /** An unsigned 128-bit big-endian integer. */
  u128(): bigint {
    const hi = this.u64();
    return (hi << 64n) | this.u64();
  }

  /** A signed 8-bit integer. */
  i8(): number {
    this.ensure(1);
    const v = this.#dv.getInt8(this.#pos);
    this.#pos += 1;
    return v;
  }

  /** A signed 16-bit big-endian integer. */
  i16(): number {
    this.ensure(2);
    const v = this.#dv.getInt16(this.#pos);
    this.#pos += 2;
    return v;
  }

  /** A signed 32-bit big-endian integer. */
  i32(): number {
    this.ensure(4);
    const v = this.#dv.getInt32(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** A signed 64-bit big-endian integer. */
  i64(): bigint {
    this.ensure(8);
    const v = this.#dv.getBigInt64(this.#pos);
    this.#pos += 8;
    return v;
  }

  /** A signed 128-bit big-endian integer (two's complement). */
  i128(): bigint {
    return BigInt.asIntN(128, this.u128());
  }

  /** An IEEE-754 binary32, big-endian. */
  f32(): number {
    this.ensure(4);
    const v = this.#dv.getFloat32(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** An IEEE-754 binary64, big-endian. */
  f64(): number {
    this.ensure(8);
    const v = this.#dv.getFloat64(this.#pos);
    this.#pos += 8;
    return v;
  }
}
