/**
 * Live application state for a benchmark worker: imported with `--import` (bench/common.ts
 * `spawnWorker`) when `BENCH_APP_HEAP_MB` is set, it keeps about that many MB of small objects
 * alive for the life of the process, as a node's own state (its ledger, its caches) would.
 *
 * Why it matters: a benchmark worker holds only a few MB of live heap (a lookup node ~9 MB,
 * the bare stream ~7 MB). At that size V8's old-generation limit leaves ~15 MB of slack, less
 * than the 64 KiB buffers that a bulk transfer allocates and drops between two scavenges
 * (their backing stores count as external memory until a scavenge frees them). So incremental
 * marking keeps starting, and a lookup pair runs 70-90 mark-compacts per run where the bare
 * stream, under V8's 8 MB activation threshold, runs one (BENCHMARKS.md, "full collections").
 * Every contender of a run gets the same state, so the ratios stay like for like.
 *
 * @module
 */

const mb = Number(process.env.BENCH_APP_HEAP_MB ?? 0);
if (!Number.isFinite(mb) || mb < 0 || mb > 4096) {
  throw new Error(`BENCH_APP_HEAP_MB must be 0-4096, got ${process.env.BENCH_APP_HEAP_MB}`);
}

/** ~128 B per record (an object, a one-element array and a short string): 8,192 per MB. */
const records: { id: number; refs: number[]; name: string }[] = [];
for (let i = 0; i < Math.round(mb * 8192); i++) records.push({ id: i, refs: [i], name: `r${i}` });
(globalThis as { __benchAppHeap?: unknown }).__benchAppHeap = records;
