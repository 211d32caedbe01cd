/** Nanoseconds per millisecond. */
const NS_PER_MS = 1_000_000;
/**
 * Largest delay tolerance (`burst × interval`) and largest time offset the limiters keep, in ns:
 * 2^52 ns ≈ 52 days. Keeping every stored instant at or below 2^53 makes all GCRA arithmetic exact
 * integer arithmetic on doubles.
 */
export const MAX_TOLERANCE_NS = 2 ** 52;

function checkCount(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`${what} must be a positive integer, got ${n}`);
  }
}

/**
 * A GCRA rate-limit quota, as in the `governor` crate: at most `burstSize` cells at once, one cell
 * replenished every `replenishIntervalMs`.
 *
 * Time is kept in integer nanoseconds, exactly as `governor` does: `perSecond(n)` replenishes one
 * cell every `floor(1e9 / n)` ns (so `perSecond(3)` uses 333 333 333 ns and
 * `replenishIntervalMs` is 333.333333), `perMinute`/`perHour` likewise. Quotas are immutable.
 */
export class Quota {
  readonly #intervalNs: number;
  readonly #burst: number;

  private constructor(intervalNs: number, burst: number) {
    if (intervalNs * burst > MAX_TOLERANCE_NS) {
      throw new RangeError(
        `quota burst × interval must be at most 2^52 ns (about 52 days), got ${intervalNs * burst} ns`,
      );
    }
    this.#intervalNs = intervalNs;
    this.#burst = burst;
  }

  static #per(what: string, periodNs: number, n: number): Quota {
    checkCount(what, n);
    const interval = Math.floor(periodNs / n);
    if (interval < 1) throw new RangeError(`${what} ${n} gives a replenish interval below 1 ns`);
    return new Quota(interval, n);
  }

  /** `n` cells per second: burst `n`, one cell every `floor(1e9 / n)` ns. */
  static perSecond(n: number): Quota {
    return Quota.#per('perSecond', 1e9, n);
  }

  /** `n` cells per minute: burst `n`, one cell every `floor(60e9 / n)` ns. */
  static perMinute(n: number): Quota {
    return Quota.#per('perMinute', 60e9, n);
  }

  /** `n` cells per hour: burst `n`, one cell every `floor(3600e9 / n)` ns. */
  static perHour(n: number): Quota {
    return Quota.#per('perHour', 3600e9, n);
  }

  /**
   * Burst 1, one cell every `ms` milliseconds (rounded to the nearest nanosecond; fractions allowed).
   *
   * @throws RangeError if `ms` is not finite or rounds to less than 1 ns.
   */
  static withPeriod(ms: number): Quota {
    if (!Number.isFinite(ms) || ms <= 0) {
      throw new RangeError(`withPeriod needs a positive finite number of ms, got ${ms}`);
    }
    const ns = Math.round(ms * NS_PER_MS);
    if (ns < 1) throw new RangeError(`withPeriod ${ms} ms rounds to 0 ns`);
    return new Quota(ns, 1);
  }

  /** A copy of this quota with burst size `n` (same replenish interval). */
  allowBurst(n: number): Quota {
    checkCount('allowBurst', n);
    return new Quota(this.#intervalNs, n);
  }

  /** Maximum number of cells available at once. */
  get burstSize(): number {
    return this.#burst;
  }

  /** Time to replenish one cell, in ms (may be fractional; exact value is {@link replenishIntervalNs}). */
  get replenishIntervalMs(): number {
    return this.#intervalNs / NS_PER_MS;
  }

  /** Time to replenish one cell, in whole nanoseconds. */
  get replenishIntervalNs(): number {
    return this.#intervalNs;
  }
}
