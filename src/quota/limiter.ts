import type { Clock } from '../runtime/context.js';
import { MAX_TOLERANCE_NS, type Quota } from './quota.js';

const NS_PER_MS = 1_000_000;

/** The only part of a {@link Clock} the limiters use. */
export type NowClock = Pick<Clock, 'now'>;

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The next double above `x` (x finite). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  f64[0] = x;
  u64[0] = x > 0 ? (u64[0] as bigint) + 1n : (u64[0] as bigint) - 1n;
  return f64[0] as number;
}

/**
 * The GCRA core shared by both limiters (internal). State is a "theoretical arrival time" (TAT)
 * in integer ns relative to `start`, an integer ms timestamp. `governor`'s rule, with
 * `t` = replenish interval and `tau` = `t × burst`:
 *
 *     tat      = stored TAT, or now if none
 *     earliest = tat - tau + t × n
 *     now < earliest ? refuse (retry at earliest) : store max(tat, now) + t × n
 *
 * Every stored value stays within [-2^52, 2^53] so the double arithmetic is exact; the origin is
 * moved forward (rebased) once `now` is more than 2^52 ns (~52 days) past it.
 *
 * @internal
 */
class Gcra {
  readonly t: number;
  readonly tau: number;
  readonly burst: number;
  start: number;

  constructor(quota: Quota, clock: NowClock) {
    this.t = quota.replenishIntervalNs;
    this.burst = quota.burstSize;
    this.tau = this.t * this.burst;
    this.start = Math.floor(clock.now());
  }

  /** Converts an absolute ms time to ns since `start` (clamped at 0, like `governor`). */
  toNs(ms: number): number {
    const ns = Math.round((ms - this.start) * NS_PER_MS);
    return Math.max(ns, 0);
  }

  /**
   * The smallest ms time whose {@link toNs} is at least `ns`: the retry time reported to callers,
   * so that checking again exactly then succeeds (no off-by-one-ulp retry loops).
   */
  toMs(ns: number): number {
    let ms = this.start + ns / NS_PER_MS;
    while (this.toNs(ms) < ns) ms = nextUp(ms);
    return ms;
  }

  /** Moves the origin forward by whole ms so `ns` becomes small; returns the shift in ns. */
  rebase(nowMs: number): number {
    const shiftMs = Math.floor(nowMs - this.start);
    this.start += shiftMs;
    return shiftMs * NS_PER_MS;
  }

  needsRebase(ns: number): boolean {
    return ns > MAX_TOLERANCE_NS;
  }

  checkWeight(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1 || n > this.burst) {
      throw new RangeError(`checkN needs an integer in [1, burst=${this.burst}], got ${n}`);
    }
    return this.t * n;
  }
}

/**
 * A direct (single-state) GCRA rate limiter, as `governor::RateLimiter::direct`.
 *
 * `check()` either consumes a cell and returns `true`, or consumes nothing and returns the
 * earliest time (ms since the epoch, per `clock.now()`) at which a cell will be available;
 * checking at exactly that time succeeds (absent other checks).
 */
export class RateLimiter {
  readonly #g: Gcra;
  readonly #clock: NowClock;
  #tat: number | undefined;

  constructor(quota: Quota, clock: NowClock) {
    this.#g = new Gcra(quota, clock);
    this.#clock = clock;
  }

  /** Takes one cell: `true`, or the earliest ms time a cell is available. */
  check(): true | number {
    return this.#check(this.#g.t);
  }

  /**
   * Takes `n` cells at once (all or nothing): `true`, or the earliest ms time they are available.
   *
   * @throws RangeError if `n` is not an integer in `[1, burstSize]` (it could never succeed).
   */
  checkN(n: number): true | number {
    return this.#check(this.#g.checkWeight(n));
  }

  #check(weight: number): true | number {
    const g = this.#g;
    const nowMs = this.#clock.now();
    let t0 = g.toNs(nowMs);
    if (g.needsRebase(t0)) {
      const shift = g.rebase(nowMs);
      t0 = g.toNs(nowMs);
      if (this.#tat !== undefined) {
        const tat = this.#tat - shift;
        this.#tat = tat > t0 ? tat : undefined;
      }
    }
    const tat = this.#tat ?? t0;
    const earliest = tat - g.tau + weight;
    if (t0 < earliest) return g.toMs(earliest);
    this.#tat = Math.max(tat, t0) + weight;
    return true;
  }
}

/** Keys a keyed limiter holds before a new key makes it sweep the fully replenished ones. */
export const SELF_SWEEP = 64;

/**
 * A keyed GCRA rate limiter (`governor::RateLimiter::keyed`): one independent state per key
 * (peer hex, IP, subnet). Keys whose state is fully replenished carry no information and are
 * removed by {@link retainRecent}. The limiter also sweeps them itself whenever a new key finds
 * it holding twice as many keys as after its last sweep (at least 64): amortised
 * O(1) per check, and a burst of one-off keys (a listener's per-IP handshake limiter during a
 * burst of connections) leaves about as many keys as arrived within the last `burst × interval`,
 * not all of them until the caller's next periodic sweep.
 */
export class KeyedRateLimiter<K extends string | number> {
  readonly #g: Gcra;
  readonly #clock: NowClock;
  readonly #tats = new Map<K, number>();
  #sweepAt = SELF_SWEEP;

  constructor(quota: Quota, clock: NowClock) {
    this.#g = new Gcra(quota, clock);
    this.#clock = clock;
  }

  /** Takes one cell for `key`: `true`, or the earliest ms time a cell is available for it. */
  check(key: K): true | number {
    return this.#check(key, this.#g.t);
  }

  /**
   * Takes `n` cells for `key` at once: `true`, or the earliest ms time they are available.
   *
   * @throws RangeError if `n` is not an integer in `[1, burstSize]`.
   */
  checkN(key: K, n: number): true | number {
    return this.#check(key, this.#g.checkWeight(n));
  }

  #check(key: K, weight: number): true | number {
    const g = this.#g;
    const nowMs = this.#clock.now();
    let t0 = g.toNs(nowMs);
    if (g.needsRebase(t0)) t0 = this.#rebase(nowMs);
    const stored = this.#tats.get(key);
    const tat = stored ?? t0;
    const earliest = tat - g.tau + weight;
    if (t0 < earliest) return g.toMs(earliest);
    // The key just set is retained by the sweep: its state is above t0.
    this.#tats.set(key, Math.max(tat, t0) + weight);
    if (stored === undefined && this.#tats.size >= this.#sweepAt) this.#sweep(t0);
    return true;
  }

  /** Forgets the keys replenished at `t0` (ns); the next self-sweep at twice what is left. */
  #sweep(t0: number): void {
    for (const [k, v] of this.#tats) if (v <= t0) this.#tats.delete(k);
    this.#sweepAt = Math.max(SELF_SWEEP, 2 * this.#tats.size);
  }

  #rebase(nowMs: number): number {
    const shift = this.#g.rebase(nowMs);
    const t0 = this.#g.toNs(nowMs);
    for (const [k, v] of this.#tats) {
      const tat = v - shift;
      if (tat > t0) this.#tats.set(k, tat);
      else this.#tats.delete(k);
    }
    return t0;
  }

  /** Forgets every key whose state is fully replenished (indistinguishable from a new key). */
  retainRecent(): void {
    const nowMs = this.#clock.now();
    let t0 = this.#g.toNs(nowMs);
    if (this.#g.needsRebase(t0)) t0 = this.#rebase(nowMs);
    this.#sweep(t0);
  }

  /** Forgets `key` entirely. */
  delete(key: K): boolean {
    return this.#tats.delete(key);
  }

  /** Number of keys with retained state. */
  get size(): number {
    return this.#tats.size;
  }
}
