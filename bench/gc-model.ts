/**
 * A model of how long-lived large buffers drive V8's mark-compacts (a diagnostic, not a
 * benchmark of authp2p code): allocates `--iterations` 64 KiB buffers, keeps each alive for
 * `--keep` iterations (as a queue of encoded frames would), allocates `--small` short-lived small
 * objects per iteration (what decides how often scavenges come), yields to the event loop every
 * 64 iterations, and prints the collections by kind and the process's CPU time.
 *
 * Usage: node --expose-gc build/bench/gc-model.js [--retained-mb 10] [--keep 256]
 *        [--iterations 20000] [--small 1000]
 *
 * A buffer alive through two scavenges is promoted, and only a mark-compact frees its backing
 * store; V8 starts marking once the external memory allocated since the last mark-compact passes
 * the old generation's slack. On the 2 vCPU machine of BENCHMARKS.md: the defaults (a scavenge
 * every ~140 iterations) run 18 mark-compacts and 1.8 s of CPU; `--keep 64`, none and 0.8 s;
 * `--small 0` (scavenges only from external memory pressure, every ~300 iterations), 5.
 *
 * @module
 */

import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { argValue } from './common.js';

const argv = process.argv.slice(2);
const num = (name: string, fallback: number): number => {
  const v = Number(argValue(argv, name) ?? fallback);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer`);
  return v;
};
const retainedMb = num('--retained-mb', 10);
const keep = num('--keep', 256);
const iterations = Math.min(num('--iterations', 20_000), 1_000_000);
const small = Math.min(num('--small', 1000), 100_000);

// An old generation of about `retainedMb` MB, as a node's own state would be.
const retained: { a: number; b: number[]; c: string }[] = [];
for (let i = 0; i < retainedMb * 8192; i++) retained.push({ a: i, b: [i], c: `x${i}` });
(globalThis as { gc?: () => void }).gc?.();

let major = 0;
let minor = 0;
let majorMs = 0;
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      major++;
      majorMs += e.duration;
    } else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  }
});
observer.observe({ entryTypes: ['gc'] });

const ring: (Uint8Array | undefined)[] = new Array(Math.max(1, keep));
const cpu0 = process.cpuUsage();
// A few slots that short-lived small objects pass through.
const litter: unknown[] = new Array(16);
for (let i = 0; i < iterations; i++) {
  const b = Buffer.allocUnsafeSlow(65_536);
  b[0] = i & 255;
  if (keep > 0) ring[i % keep] = b;
  for (let k = 0; k < small; k++) {
    // Stored, so that the optimiser cannot elide it; overwritten at once, so it dies young.
    litter[k & 15] = { b, k, s: [k, k] };
  }
  if (i % 64 === 0) await yieldToLoop();
}
await yieldToLoop();
const cpu = process.cpuUsage(cpu0);
observer.disconnect();
console.log(
  JSON.stringify({
    retainedMb,
    keep,
    iterations,
    small,
    markCompacts: major,
    markCompactMs: Math.round(majorMs),
    scavenges: minor,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    retained: retained.length,
    litter: litter.length,
  }),
);
