/**
 * Sums the hub's `--trace-gc-nvp` lines per CPU window of the scale benchmark (load-independent
 * figures: bytes allocated and promoted, collections by kind, and their pauses).
 *
 * Usage: node --expose-gc build/bench/scale.js ... --hub-flags --trace-gc-nvp | node build/bench/scale-gc.js
 *
 * Lines other than the trace pass through; after the input ends, one row per window marked by
 * the hub (bench/scale-peer.ts `hubCpu`: settle, quiet, then the idle window, last).
 *
 * @module
 */

import { createInterface } from 'node:readline';

interface Window {
  ms: number;
  /** Collections by kind (`s` scavenge, `ms` mark-compact, `mmc` minor mark-compact). */
  count: Record<string, number>;
  pauseMs: number;
  allocated: number;
  promoted: number;
}

const windows: Window[] = [];
let open: Window | undefined;
const MiB = 1048576;

function field(line: string, name: string): string | undefined {
  const i = line.indexOf(` ${name}=`);
  if (i < 0) return undefined;
  const start = i + name.length + 2;
  const end = line.indexOf(' ', start);
  return line.slice(start, end < 0 ? undefined : end);
}

for await (const line of createInterface({ input: process.stdin })) {
  const mark = /^\[scale-peer\] window (start|end) (\d+)/.exec(line);
  if (mark !== null) {
    if (mark[1] === 'start') {
      open = { ms: Number(mark[2]), count: {}, pauseMs: 0, allocated: 0, promoted: 0 };
      windows.push(open);
    } else open = undefined;
    continue;
  }
  const kind = field(line, 'gc');
  if (kind === undefined || field(line, 'pause') === undefined) {
    console.log(line);
    continue;
  }
  if (open === undefined) continue;
  open.count[kind] = (open.count[kind] ?? 0) + 1;
  open.pauseMs += Number(field(line, 'pause'));
  open.allocated += Number(field(line, 'allocated') ?? 0);
  open.promoted += Number(field(line, 'promoted') ?? 0);
}

console.log(
  'hub collections per CPU window (--trace-gc-nvp; allocated counts up to each collection):',
);
for (const w of windows) {
  const kinds = Object.entries(w.count)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  console.log(
    `  ${(w.ms / 1000).toFixed(0)} s: ${kinds || 'none'}; pause ${w.pauseMs.toFixed(1)} ms; ` +
      `allocated ${(w.allocated / MiB).toFixed(1)} MiB, promoted ${(w.promoted / MiB).toFixed(1)} MiB`,
  );
}
