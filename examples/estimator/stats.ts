/** Summary statistics of latency samples (ms). */

/** Mean, median and standard deviation of a sample set. */
export interface Summary {
  /** Number of samples. */
  readonly n: number;
  readonly mean: number;
  /** The middle sample (the mean of the two middle ones for an even count). */
  readonly median: number;
  /** Population standard deviation (divides by n). */
  readonly std: number;
}

/**
 * Summarises `samples`.
 *
 * @throws RangeError for an empty sample set or a non-finite sample.
 */
export function summarize(samples: readonly number[]): Summary {
  const n = samples.length;
  if (n === 0) throw new RangeError('no samples');
  let sum = 0;
  for (const s of samples) {
    if (!Number.isFinite(s)) throw new RangeError(`sample ${s} is not finite`);
    sum += s;
  }
  const mean = sum / n;
  let squares = 0;
  for (const s of samples) squares += (s - mean) ** 2;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = n >> 1;
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { n, mean, median, std: Math.sqrt(squares / n) };
}
