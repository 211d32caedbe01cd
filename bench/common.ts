/**
 * Helpers shared by the authp2p benchmarks (bench/stream.ts, bench/p2p.ts and their forked
 * workers bench/stream-peer.ts, bench/p2p-peer.ts): statistics and clocks, CPU time, memory
 * sampling, a small parent/worker IPC protocol, and table output.
 *
 * They follow bench/libp2p/common.mjs (the js-libp2p harness) so that both columns of a table are
 * computed the same way; that file is plain JavaScript in its own package, which may not be
 * installed, so the typed copies live here. Nothing here imports src/: a worker passes its own
 * context to {@link serveRequests}.
 *
 * IPC protocol: the parent sends `{ id, cmd, params }`; the worker answers
 * `{ id, ok: true, result }` or `{ id, ok: false, error }`. `cmd: 'exit'` (or the parent
 * disconnecting, or the worker's lifetime running out) ends the worker's serve loop.
 *
 * @module
 */

import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from build/bench/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The js-libp2p harness (its own package; node_modules present only once installed). */
export const LIBP2P = join(ROOT, 'bench', 'libp2p');

/** Node flags that make a worker write a CPU profile to ./prof. */
export const CPU_PROF_ARGV: readonly string[] = ['--cpu-prof', '--cpu-prof-dir=prof'];

// ---------- Settings ----------

/**
 * The throughput measurements both authp2p benchmarks share with bench/libp2p/run.mjs (same
 * sizes, counts and runs there), so that the stream, lookup and js-libp2p columns compare.
 */
export const THROUGHPUT_FULL = {
  runs: 5,
  bulk: { totalBytes: 256 * 1048576, chunkBytes: 64 * 1024 },
  msgs: [
    { key: 'msgRate32B', size: 32, count: 200_000 },
    { key: 'msgRate1KiB', size: 1024, count: 100_000 },
  ],
  rtt: { size: 32, warmup: 1_000, count: 10_000 },
};
/** {@link THROUGHPUT_FULL} for `--quick`. */
export const THROUGHPUT_QUICK: typeof THROUGHPUT_FULL = {
  runs: 3,
  bulk: { totalBytes: 64 * 1048576, chunkBytes: 64 * 1024 },
  msgs: [
    { key: 'msgRate32B', size: 32, count: 50_000 },
    { key: 'msgRate1KiB', size: 1024, count: 25_000 },
  ],
  rtt: { size: 32, warmup: 500, count: 3_000 },
};

// ---------- Statistics and clocks ----------

/** Median of a list of numbers (mean of the two middle values for even lengths); NaN if empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (`p` in [0, 100]) of an ascending-sorted array; NaN if empty. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Rounds to a fixed number of decimals (for readable JSON). */
export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Sorts latency samples (us) in place and returns their p50 and p99, to 0.1 us. */
export function p50p99us(samples: Float64Array): { p50us: number; p99us: number } {
  samples.sort();
  return {
    p50us: round(percentileSorted(samples, 50)),
    p99us: round(percentileSorted(samples, 99)),
  };
}

/** Monotonic clock in nanoseconds. */
export const nowNs = (): bigint => process.hrtime.bigint();

/** Seconds elapsed since a {@link nowNs} value. */
export const secondsSince = (t: bigint): number => Number(nowNs() - t) / 1e9;

/**
 * CPU time (user + system) of this process in microseconds: in total, or since `since` (a
 * `process.cpuUsage()` value). On a shared machine it is steadier than wall-clock rates.
 */
export function cpuTimeUs(since?: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

// ---------- Memory (the method of bench/libp2p/common.mjs sampleMemory) ----------

/** `process.memoryUsage()` fields, in bytes. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Four forced full GCs 25 ms apart, then process.memoryUsage() (needs --expose-gc). */
export async function sampleMemory(): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('sampleMemory needs node --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(25);
  }
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

// ---------- IPC: parent side ----------

/** A forked worker answering requests. */
export interface Worker {
  /** Sends `cmd`; rejects on the worker's error, its exit, or after `timeoutMs` (120 s). */
  request<T>(cmd: string, params?: object, timeoutMs?: number): Promise<T>;
  /** Asks the worker to exit and waits; kills it (this child only) if it has not within grace. */
  close(): Promise<void>;
}

/** Options of {@link spawnWorker}. */
export interface SpawnOptions {
  /** Node flags of the worker (default none: the parent's flags do not leak into it). */
  execArgv?: readonly string[];
  /** Ends the worker's serve loop after this long (see {@link serveRequests}); default none. */
  lifetimeMs?: number;
  /** How long `close` waits for a clean exit before SIGKILL (default 5 s). */
  closeGraceMs?: number;
}

/** Env variable carrying {@link SpawnOptions.lifetimeMs} to the worker. */
const LIFETIME_ENV = 'BENCH_WORKER_LIFETIME_MS';

/**
 * Env variable: MB of live application state every worker holds (bench/app-heap.ts), set by
 * the benchmarks' `--app-heap-mb N`; unset or 0, none.
 */
export const APP_HEAP_ENV = 'BENCH_APP_HEAP_MB';

/** The `--import` flags that give a worker its application state, if {@link APP_HEAP_ENV} asks. */
function appHeapArgv(): string[] {
  const mb = Number(process.env[APP_HEAP_ENV] ?? 0);
  if (!(mb > 0)) return [];
  return ['--import', new URL('./app-heap.js', import.meta.url).href];
}

/**
 * Reads `--app-heap-mb N` from `argv` into {@link APP_HEAP_ENV} (inherited by every worker this
 * process spawns); returns N (0 without the flag).
 */
export function appHeapFromArgs(argv: readonly string[]): number {
  const v = argValue(argv, '--app-heap-mb');
  if (v === undefined) return Number(process.env[APP_HEAP_ENV] ?? 0);
  const mb = Number(v);
  if (!Number.isFinite(mb) || mb < 0 || mb > 4096) {
    throw new Error(`--app-heap-mb must be a number of MB in 0-4096, got ${v}`);
  }
  process.env[APP_HEAP_ENV] = String(mb);
  return mb;
}

/** Forks `modulePath` as a worker named `name` (in error messages) and returns its handle. */
export function spawnWorker(modulePath: string, name: string, opts: SpawnOptions = {}): Worker {
  const env =
    opts.lifetimeMs === undefined
      ? process.env
      : { ...process.env, [LIFETIME_ENV]: String(opts.lifetimeMs) };
  const child: ChildProcess = fork(modulePath, [], {
    execArgv: [...appHeapArgv(), ...(opts.execArgv ?? [])],
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const graceMs = opts.closeGraceMs ?? 5_000;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${name} exited (${code ?? signal})`));
      pending.clear();
      resolve();
    });
  });
  child.on('message', (msg: { id: number; ok: boolean; result: never; error: string }) => {
    const p = pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${name}: ${msg.error}`));
  });
  // A send to a worker that just died emits 'error'; its 'exit' already fails what is pending.
  child.on('error', () => {});
  return {
    request<T>(cmd: string, params: object = {}, timeoutMs = 120_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${name} exited`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}.${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, cmd, params });
      });
    },
    async close(): Promise<void> {
      if (!exited) {
        try {
          child.send({ id: 0, cmd: 'exit', params: {} });
        } catch {}
        const timer = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, graceMs);
        await exitPromise;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Forks a benchmark script that writes its JSON result to `--json FILE` (appended to `args`;
 * its stdout is ignored) and returns the parsed result, or undefined if it wrote none. It is
 * killed after `limitMs`, if given.
 */
export async function runJson(
  script: string,
  args: readonly string[],
  opts: { execArgv?: readonly string[]; limitMs?: number; tmpPrefix?: string } = {},
): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), opts.tmpPrefix ?? 'bench-'));
  const file = join(dir, 'out.json');
  try {
    const child = fork(script, [...args, '--json', file], {
      execArgv: [...(opts.execArgv ?? [])],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const timer =
      opts.limitMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGKILL'), opts.limitMs);
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    clearTimeout(timer);
    if (!existsSync(file)) return undefined;
    return JSON.parse(readFileSync(file, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------- IPC: worker side ----------

/** A worker command: takes the worker's context and the request's params. */
export type Handler<C> = (ctx: C, params: never) => Promise<unknown>;

/**
 * Answers the parent's requests with `handlers` until it sends `exit`, disconnects, or the
 * lifetime set by {@link SpawnOptions.lifetimeMs} runs out; then resolves, so the caller can
 * clean up and exit. Throws if this process was not started with fork().
 */
export function serveRequests<C>(
  name: string,
  ctx: C,
  handlers: Readonly<Record<string, Handler<C>>>,
): Promise<void> {
  if (typeof process.send !== 'function') throw new Error(`${name} must be started with fork()`);
  const lifetime = process.env[LIFETIME_ENV];
  return new Promise<void>((resolve) => {
    if (lifetime !== undefined) {
      // A worker never outlives its budget, nor its parent.
      setTimeout(() => {
        console.error(`${name}: lifetime of ${lifetime} ms exceeded, exiting`);
        resolve();
      }, Number(lifetime)).unref();
    }
    process.on('disconnect', resolve);
    process.on('message', (msg: { id: number; cmd: string; params: unknown }) => {
      if (msg.cmd === 'exit') {
        resolve();
        return;
      }
      const handler = handlers[msg.cmd];
      const work =
        handler === undefined
          ? Promise.reject(new Error(`unknown command ${msg.cmd}`))
          : handler(ctx, msg.params as never);
      work.then(
        (result) => process.send?.({ id: msg.id, ok: true, result }),
        (err: unknown) =>
          process.send?.({
            id: msg.id,
            ok: false,
            error: err instanceof Error ? err.stack : String(err),
          }),
      );
    });
  });
}

// ---------- Command line and output ----------

/** The value after `name` on the command line, if `name` is present. */
export function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** A number with thousands separators and `digits` decimals; 'n/a' if unknown. */
export function fmt(x: number | undefined, digits = 0): string {
  if (x === undefined || Number.isNaN(x)) return 'n/a';
  return x.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A fixed-width table: the first row is the header; the first column is left-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** Free loopback ports: bound to port 0 all at once (so distinct), then released. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
