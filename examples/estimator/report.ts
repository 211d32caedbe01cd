/** Aggregation of an estimate's samples per scenario line and region, and its text table. */

import type { PlacedPeer } from './distribution.js';
import type { Scenario } from './scenario.js';
import type { RunSamples } from './simulate.js';
import { type Summary, summarize } from './stats.js';

/** The statistics of one scenario line. */
export interface LineReport {
  /** 1-based line number in the scenario file. */
  readonly line: number;
  readonly text: string;
  /** Per region (in placement order); regions without samples are left out. */
  readonly regions: readonly { readonly region: string; readonly summary: Summary }[];
  /** Over every peer; `undefined` if no peer completed the line. */
  readonly overall: Summary | undefined;
  /** Samples that timed out (not in the statistics). */
  readonly timeouts: number;
}

/**
 * Groups the samples of every run by scenario line and by the region of the peer that produced
 * them, and summarises each group.
 */
export function aggregate(
  scenario: Scenario,
  peers: readonly PlacedPeer[],
  runs: readonly RunSamples[],
): LineReport[] {
  const order = [...new Set(peers.map((p) => p.region))];
  return scenario.commands.map((cmd, c) => {
    const byRegion = new Map<string, number[]>(order.map((r) => [r, []]));
    const all: number[] = [];
    let timeouts = 0;
    for (const run of runs) {
      const row = run[c]!;
      for (let p = 0; p < peers.length; p++) {
        const s = row[p];
        if (s === undefined) continue;
        if (s === null) {
          timeouts++;
          continue;
        }
        byRegion.get(peers[p]!.region)!.push(s);
        all.push(s);
      }
    }
    const regions = order
      .filter((r) => byRegion.get(r)!.length > 0)
      .map((region) => ({ region, summary: summarize(byRegion.get(region)!) }));
    return {
      line: cmd.line,
      text: cmd.text,
      regions,
      overall: all.length > 0 ? summarize(all) : undefined,
      timeouts,
    };
  });
}

const ms = (v: number): string => v.toFixed(1).padStart(9);

/** The reports as a text table: per line, one row per region and one overall, in ms. */
export function format(reports: readonly LineReport[]): string {
  const width = Math.max(
    'overall'.length,
    ...reports.flatMap((r) => r.regions.map((g) => g.region.length)),
  );
  const out: string[] = [];
  const header = `  ${'region'.padEnd(width)} ${'n'.padStart(6)} ${'mean'.padStart(9)} ${'median'.padStart(9)} ${'std'.padStart(9)}`;
  for (const r of reports) {
    out.push(`line ${r.line}: ${r.text}${r.timeouts > 0 ? `  (${r.timeouts} timed out)` : ''}`);
    out.push(header);
    const row = (name: string, s: Summary): string =>
      `  ${name.padEnd(width)} ${String(s.n).padStart(6)} ${ms(s.mean)} ${ms(s.median)} ${ms(s.std)}`;
    for (const g of r.regions) out.push(row(g.region, g.summary));
    if (r.overall !== undefined) out.push(row('overall', r.overall));
    out.push('');
  }
  return out.join('\n');
}
