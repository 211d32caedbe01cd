import type { Rng } from './context.js';

const POOL = 4096;
const TWO_32 = 2 ** 32;
const TWO_53 = 2 ** 53;

/**
 * An {@link Rng} drawing from a byte source through a small pool, so that `int` and `float`
 * cost a few array reads rather than a call into the source. The Node runtime fills the pool
 * from the OS CSPRNG; the deterministic runtime from a seeded ChaCha20 keystream.
 */
export class PoolRng implements Rng {
  readonly #refill: (buf: Uint8Array) => void;
  readonly #pool = new Uint8Array(POOL);
  readonly #view = new DataView(this.#pool.buffer);
  #pos = POOL;

  /** `refill(buf)` must overwrite all of `buf` with fresh random bytes. */
  constructor(refill: (buf: Uint8Array) => void) {
    this.#refill = refill;
  }

  #u32(): number {
    if (this.#pos > POOL - 4) {
      this.#refill(this.#pool);
      this.#pos = 0;
    }
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }

  fill(buf: Uint8Array): Uint8Array {
    let off = 0;
    while (off < buf.length) {
      const want = buf.length - off;
      if (this.#pos === POOL) {
        // Large requests skip the pool: one call into the source, no extra copy.
        if (want >= POOL) {
          this.#refill(buf.subarray(off));
          return buf;
        }
        this.#refill(this.#pool);
        this.#pos = 0;
      }
      const k = Math.min(want, POOL - this.#pos);
      buf.set(this.#pool.subarray(this.#pos, this.#pos + k), off);
      this.#pos += k;
      off += k;
    }
    return buf;
  }

  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) {
      throw new RangeError(`rng.int: need safe integers with max > min, got [${min}, ${max})`);
    }
    const range = max - min;
    if (range <= TWO_32) {
      // Rejection sampling keeps the draw exactly uniform.
      const limit = TWO_32 - (TWO_32 % range);
      for (;;) {
        const x = this.#u32();
        if (x < limit) return min + (x % range);
      }
    }
    if (range > TWO_53) throw new RangeError('rng.int: range exceeds 2^53');
    const limit = TWO_53 - (TWO_53 % range);
    for (;;) {
      const x = (this.#u32() & 0x1fffff) * TWO_32 + this.#u32();
      if (x < limit) return min + (x % range);
    }
  }

  u64(): bigint {
    const hi = this.#u32();
    return (BigInt(hi) << 32n) | BigInt(this.#u32());
  }

  float(): number {
    const hi = this.#u32() >>> 5;
    return (hi * 2 ** 26 + (this.#u32() >>> 6)) / TWO_53;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }
}
