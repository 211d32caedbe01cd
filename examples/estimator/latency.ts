/**
 * Region-to-region latency tables: a directory holding `p50.json` and `p90.json`, each
 * `{ "data": { "<from>": { "<to>": <round-trip ms> } } }` (the cloudping.co layout; other
 * top-level fields, such as `source`, are ignored). A link from region A to region B gets
 * latency = p50 / 2 and jitter = (p90 - p50) / 2: half the round trip is one way.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One direction's link model between two regions, in ms. */
export interface RegionLink {
  /** Mean one-way latency: p50 / 2. */
  readonly latency: number;
  /** Standard deviation of the latency: (p90 - p50) / 2, at least 0. */
  readonly jitter: number;
}

/** Round-trip percentiles by `from` then `to` region, in ms. */
export type Percentiles = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** A loaded table. */
export interface LatencyTable {
  /** The regions that have a row in both files, sorted. */
  readonly regions: readonly string[];
  /** The link model from `from` to `to`. @throws Error if the table lacks the pair. */
  link(from: string, to: string): RegionLink;
}

/** A table that cannot be loaded or lacks what is asked of it. */
export class LatencyError extends Error {
  override readonly name = 'LatencyError';
}

function table(json: unknown, what: string): Percentiles {
  const data = (json as { data?: unknown } | null)?.data;
  if (typeof data !== 'object' || data === null) {
    throw new LatencyError(`${what}: expected { "data": { from: { to: ms } } }`);
  }
  for (const [from, row] of Object.entries(data)) {
    if (typeof row !== 'object' || row === null) throw new LatencyError(`${what}: row ${from}`);
    for (const [to, ms] of Object.entries(row)) {
      if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
        throw new LatencyError(`${what}: ${from} -> ${to} is not a latency in ms`);
      }
    }
  }
  return data as Percentiles;
}

/** A table from parsed p50 and p90 documents. */
export function latencyTable(p50json: unknown, p90json: unknown): LatencyTable {
  const p50 = table(p50json, 'p50');
  const p90 = table(p90json, 'p90');
  const regions = Object.keys(p50)
    .filter((r) => r in p90)
    .sort();
  return {
    regions,
    link(from: string, to: string): RegionLink {
      const a = p50[from]?.[to];
      const b = p90[from]?.[to];
      if (a === undefined || b === undefined) {
        throw new LatencyError(`no latency from ${from} to ${to} in the table`);
      }
      return { latency: a / 2, jitter: Math.max(0, (b - a) / 2) };
    },
  };
}

/**
 * Loads `dir/p50.json` and `dir/p90.json`.
 *
 * @throws LatencyError if a file is missing or malformed.
 */
export function loadLatency(dir: string): LatencyTable {
  const read = (name: string): unknown => {
    const path = join(dir, name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new LatencyError(`cannot read ${path}: ${(err as Error).message}`);
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new LatencyError(`${path} is not JSON: ${(err as Error).message}`);
    }
  };
  return latencyTable(read('p50.json'), read('p90.json'));
}
