/**
 * A fixed-length bit vector (commonware `utils::bitmap::BitMap<1>`), used by discovery's BitVec
 * gossip to say which peers of a set a node knows.
 *
 * Wire form: the bit length as a u64 big-endian (8 bytes, not a varint), then `ceil(len / 8)`
 * bytes. Bit `i` lives in byte `floor(i / 8)` under mask `1 << (i % 8)` (least-significant bit
 * first). Decoding rejects a length above `cfg.max` (`InvalidLength`, before reading the body)
 * and any set bit at index >= length (`Invalid`, context `'BitMap'`), so every bitmap has
 * exactly one encoding.
 */
import type { Codec } from './codec.js';
import { CodecError } from './errors.js';

// Gives the codec below read access to a bitmap's storage without making it public.
let storageOf: (b: BitMap) => Uint8Array;

/** A fixed-length sequence of bits, all initially clear. */
export class BitMap {
  readonly #length: number;
  readonly #bytes: Uint8Array;

  static {
    storageOf = (b) => b.#bytes;
  }

  /** @param length - number of bits; a non-negative safe integer. */
  constructor(length: number) {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`invalid bit length ${length}`);
    }
    this.#length = length;
    this.#bytes = new Uint8Array(Math.ceil(length / 8));
  }

  /** A bitmap of `bools.length` bits with bit `i` set iff `bools[i]`. */
  static fromBools(bools: readonly boolean[]): BitMap {
    const b = new BitMap(bools.length);
    for (let i = 0; i < bools.length; i++) if (bools[i]) b.#bytes[i >> 3]! |= 1 << (i & 7);
    return b;
  }

  /**
   * A bitmap of `length` bits over a copy of `bytes` (the LSB-first layout of the wire body).
   * @throws RangeError if `bytes` is not `ceil(length / 8)` long or has a bit set past `length`.
   */
  static fromBytes(length: number, bytes: Uint8Array): BitMap {
    const b = new BitMap(length);
    if (bytes.length !== b.#bytes.length) throw new RangeError('byte length does not match');
    if (hasTrailingBits(length, bytes)) throw new RangeError('bits set past the length');
    b.#bytes.set(bytes);
    return b;
  }

  /** Number of bits. */
  get length(): number {
    return this.#length;
  }

  #check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.#length) {
      throw new RangeError(`bit index ${i} out of range [0, ${this.#length})`);
    }
  }

  /** Whether bit `i` is set. @throws RangeError if `i` is out of range. */
  get(i: number): boolean {
    this.#check(i);
    return (this.#bytes[i >> 3]! & (1 << (i & 7))) !== 0;
  }

  /** Sets bit `i` to `value` (default `true`). @throws RangeError if `i` is out of range. */
  set(i: number, value = true): void {
    this.#check(i);
    if (value) this.#bytes[i >> 3]! |= 1 << (i & 7);
    else this.#bytes[i >> 3]! &= ~(1 << (i & 7));
  }

  /** Number of set bits. */
  count(): number {
    let n = 0;
    for (let b of this.#bytes) {
      while (b !== 0) {
        b &= b - 1;
        n++;
      }
    }
    return n;
  }

  /** The bits as booleans. */
  toBools(): boolean[] {
    const out: boolean[] = new Array(this.#length);
    for (let i = 0; i < this.#length; i++) out[i] = (this.#bytes[i >> 3]! & (1 << (i & 7))) !== 0;
    return out;
  }

  /** A copy of the body bytes (LSB-first, `ceil(length / 8)` bytes). */
  toBytes(): Uint8Array {
    return this.#bytes.slice();
  }

  /** Whether `other` has the same length and bits. */
  equals(other: BitMap): boolean {
    if (other.#length !== this.#length) return false;
    const a = this.#bytes;
    const b = other.#bytes;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
}

function hasTrailingBits(length: number, bytes: Uint8Array): boolean {
  const used = length & 7;
  if (used === 0 || bytes.length === 0) return false;
  return (bytes[bytes.length - 1]! & ~((1 << used) - 1) & 0xff) !== 0;
}

/** Config for {@link bitMap}: the largest bit length accepted. */
export interface BitMapCfg {
  /** Maximum number of bits (inclusive). */
  readonly max: number;
}

/** `BitMap<1>`: u64 big-endian bit length, then `ceil(len / 8)` LSB-first bytes. */
export const bitMap: Codec<BitMap, BitMapCfg> = {
  encodeSize: (v) => 8 + Math.ceil(v.length / 8),
  write: (v, w) => {
    // Split the length into two u32 halves so no bigint is needed.
    w.u32(Math.floor(v.length / 0x100000000));
    w.u32(v.length % 0x100000000);
    w.bytes(storageOf(v));
  },
  read: (r, cfg) => {
    const hi = r.u32();
    const lo = r.u32();
    // Above 2^53 this product is inexact but still far above any sane `max`.
    const len = hi * 0x100000000 + lo;
    if (len > cfg.max) {
      throw new CodecError('InvalidLength', `BitMap: ${len} bits exceeds max ${cfg.max}`, {
        context: 'BitMap',
      });
    }
    const body = r.readBytes(Math.ceil(len / 8));
    if (hasTrailingBits(len, body)) {
      throw new CodecError('Invalid', 'BitMap: invalid trailing bits in encoded data', {
        context: 'BitMap',
      });
    }
    return BitMap.fromBytes(len, body);
  },
};
