/**
 * Exact non-negative rationals over bigint, for the bandwidth model: shares, remaining bytes and
 * transmission times are computed without rounding, so a long run accumulates no error and two
 * flows that should finish together finish at exactly the same instant.
 *
 * @module
 */

/** `n / d` in lowest terms, `d > 0`. */
export interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  while (b !== 0n) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** `n / d` reduced (`d` must be non-zero; the sign moves to the numerator). */
export function ratio(n: bigint, d: bigint = 1n): Rational {
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  if (d === 1n) return { n, d };
  const g = gcd(n, d);
  return g === 1n ? { n, d } : { n: n / g, d: d / g };
}

/** Zero. */
export const ZERO: Rational = Object.freeze({ n: 0n, d: 1n });

export function add(a: Rational, b: Rational): Rational {
  return a.d === b.d ? ratio(a.n + b.n, a.d) : ratio(a.n * b.d + b.n * a.d, a.d * b.d);
}

export function sub(a: Rational, b: Rational): Rational {
  return a.d === b.d ? ratio(a.n - b.n, a.d) : ratio(a.n * b.d - b.n * a.d, a.d * b.d);
}

export function mul(a: Rational, b: Rational): Rational {
  return ratio(a.n * b.n, a.d * b.d);
}

/** `a / b` (`b` must be non-zero). */
export function div(a: Rational, b: Rational): Rational {
  return ratio(a.n * b.d, a.d * b.n);
}

/** -1, 0 or 1 as `a` is below, equal to or above `b`. */
export function cmp(a: Rational, b: Rational): -1 | 0 | 1 {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function isZero(a: Rational): boolean {
  return a.n === 0n;
}

/** The nearest double (for the clock; the exact value stays authoritative). */
export function toNumber(a: Rational): number {
  const q = a.n / a.d;
  return Number(q) + Number(a.n - q * a.d) / Number(a.d);
}

/**
 * An exact rational for a clock reading `t` (ms): integers exactly, anything else rounded to
 * the microsecond.
 */
export function fromClock(t: number): Rational {
  if (Number.isSafeInteger(t)) return { n: BigInt(t), d: 1n };
  return ratio(BigInt(Math.round(t * 1000)), 1000n);
}
