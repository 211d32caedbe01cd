// Implementation-neutral helpers for the side-by-side p2p benchmark.
//
// Nothing in this file imports libp2p: an authp2p runner can import it as-is
// (statistics, process spawning with a small IPC request/response protocol,
// bounded concurrency, memory sampling, the raw node:net reference worker,
// and result printing). Every wait here is bounded in time so that a stuck
// peer can never keep the benchmark alive.

import { fork } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

// ---------------------------------------------------------------- statistics

/** Median of a list of numbers (mean of the two middle values for even lengths). */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in [0, 100]) of an unsorted list; does not mutate. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const s = Float64Array.from(values).sort();
  return percentileSorted(s, p);
}

/** Nearest-rank percentile of an already ascending-sorted array-like. */
export function percentileSorted(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function mean(values) {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Monotonic clock in nanoseconds as a bigint. */
export const nowNs = () => process.hrtime.bigint();

/** Seconds elapsed since a nowNs() value, as a float. */
export const secondsSince = (startNs) => Number(process.hrtime.bigint() - startNs) / 1e9;

/** Round to a fixed number of decimals (for JSON readability). */
export const round = (x, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

// ------------------------------------------------------------ time limiting

/** Rejects with a labelled error if `promise` does not settle within `ms`. */
export function withTimeout(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Run `fn(index)` for index in [0, count) with at most `concurrency` calls in
 * flight. Resolves with the results in index order; the first failure rejects.
 */
export async function runPool(count, concurrency, fn) {
  const results = new Array(count);
  let next = 0;
  const lane = async (laneId) => {
    while (true) {
      const i = next++;
      if (i >= count) return;
      results[i] = await fn(i, laneId);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, l) => lane(l)));
  return results;
}

// ------------------------------------------------------------------- memory

/**
 * Force full garbage collections (the process must run with --expose-gc) and
 * return process.memoryUsage() in bytes. Several GCs separated by event-loop
 * turns let weak callbacks/finalizers and deferred frees run.
 */
export async function sampleMemory() {
  if (typeof globalThis.gc !== 'function') {
    throw new Error('sampleMemory needs node --expose-gc');
  }
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
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

/** Per-connection delta in KiB between two sampleMemory() results. */
export function memoryDeltaPerConn(before, after, n) {
  const kib = (k) => round((after[k] - before[k]) / n / 1024, 2);
  return { rssKiB: kib('rss'), heapUsedKiB: kib('heapUsed'), externalKiB: kib('external') };
}

// --------------------------------------------------------------------- IPC
//
// Protocol: the parent sends { id, cmd, params }; the child answers
// { id, ok: true, result } or { id, ok: false, error }. cmd 'exit' makes the
// child run its cleanup and exit. A child also exits when the IPC channel
// disconnects (parent died) and after a hard lifetime limit.

/**
 * Fork a worker module. Returns { request(cmd, params, timeoutMs), close(), pid }.
 * `execArgv` defaults to [] (so a parent's flags do not leak into children).
 */
export function spawnWorker(
  modulePath,
  { args = [], execArgv = [], name = 'worker', lifetimeMs = 300_000 } = {},
) {
  const child = fork(modulePath, args, {
    execArgv,
    env: { ...process.env, BENCH_WORKER_NAME: name, BENCH_WORKER_LIFETIME_MS: String(lifetimeMs) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map();
  let exited = false;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      for (const { reject } of pending.values())
        reject(new Error(`${name} exited (code ${code}, signal ${signal})`));
      pending.clear();
      resolve({ code, signal });
    });
  });
  child.on('message', (msg) => {
    const p = pending.get(msg?.id);
    if (p == null) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${name}: ${msg.error}`));
  });
  child.on('error', () => {});

  return {
    pid: child.pid,
    request(cmd, params = {}, timeoutMs = 60_000) {
      if (exited) return Promise.reject(new Error(`${name} already exited`));
      const id = nextId++;
      const p = new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
      });
      child.send({ id, cmd, params });
      return withTimeout(p, timeoutMs, `${name}.${cmd}`).catch((err) => {
        pending.delete(id);
        throw err;
      });
    },
    /** Ask the child to exit; kill this child (by its own handle) if it does not within graceMs. */
    async close(graceMs = 5_000) {
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
      return exitPromise;
    },
  };
}

/**
 * Child side of the IPC protocol. `handlers` maps cmd -> async (params) => result.
 * `cleanup` runs before exit. The process exits on 'exit', on IPC disconnect
 * and when BENCH_WORKER_LIFETIME_MS elapses.
 */
export function serveWorker(handlers, cleanup = async () => {}) {
  if (typeof process.send !== 'function') throw new Error('serveWorker: not started with fork()');
  const lifetime = Number(process.env.BENCH_WORKER_LIFETIME_MS ?? 300_000);
  const name = process.env.BENCH_WORKER_NAME ?? 'worker';
  let exiting = false;
  const exit = async (code) => {
    if (exiting) return;
    exiting = true;
    const hard = setTimeout(() => process.exit(code), 3_000);
    hard.unref();
    try {
      await cleanup();
    } catch {}
    process.exit(code);
  };
  const lifeTimer = setTimeout(() => {
    console.error(`${name}: lifetime of ${lifetime} ms exceeded, exiting`);
    void exit(2);
  }, lifetime);
  lifeTimer.unref();
  process.on('disconnect', () => void exit(0));
  process.on('message', async (msg) => {
    if (msg?.cmd === 'exit') {
      await exit(0);
      return;
    }
    const handler = handlers[msg?.cmd];
    try {
      if (handler == null) throw new Error(`unknown command ${msg?.cmd}`);
      const result = await handler(msg.params ?? {});
      process.send({ id: msg.id, ok: true, result });
    } catch (err) {
      process.send({ id: msg.id, ok: false, error: err?.stack ?? String(err) });
    }
  });
}

// ------------------------------------------------- raw node:net reference
//
// Reference figure for memory per connection: idle loopback TCP sockets with no
// framing, encryption or multiplexing. Include these handlers in any worker.
//
//   server side: rawListen -> { port }; rawCount -> number of accepted sockets
//   client side: rawConnect { port, n, concurrency } opens n sockets, each
//                writes 1 byte and waits for the 1-byte echo (so both ends are
//                fully established), then holds them idle.
//   one process: rawPairs { n } opens n client sockets to a listener in the
//                same process and returns the memory delta of the whole pair.

export function rawTcpHandlers() {
  const held = [];
  let server;
  const connectOne = (port) =>
    new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('error', reject);
      s.once('connect', () => s.write(Buffer.of(1)));
      s.once('data', () => {
        s.removeListener('error', reject);
        s.on('error', () => {});
        resolve(s);
      });
    });
  const listen = () =>
    new Promise((resolve, reject) => {
      const srv = net.createServer((sock) => {
        held.push(sock);
        sock.on('error', () => {});
        sock.once('data', (d) => sock.write(d));
      });
      srv.maxConnections = 100_000;
      srv.once('error', reject);
      srv.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => resolve(srv));
    });
  return {
    async rawListen() {
      server = await listen();
      return { port: server.address().port };
    },
    async rawCount() {
      return held.length;
    },
    async rawConnect({ port, n, concurrency = 16 }) {
      const socks = await runPool(n, concurrency, () => connectOne(port));
      held.push(...socks);
      return { opened: socks.length };
    },
    async rawPairs({ n, concurrency = 16 }) {
      const srv = await listen();
      const { port } = srv.address();
      const before = await sampleMemory();
      const socks = await runPool(n, concurrency, () => connectOne(port));
      await sleep(200);
      const after = await sampleMemory();
      for (const s of socks) s.destroy();
      srv.close();
      return { n, before, after, perConn: memoryDeltaPerConn(before, after, n) };
    },
    async rawClose() {
      for (const s of held) s.destroy();
      held.length = 0;
      server?.close();
      return true;
    },
  };
}

// ------------------------------------------------------------ CLI + output

export function parseArgs(argv = process.argv.slice(2)) {
  const opts = { quick: false, only: null, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--only') opts.only = new Set(String(argv[++i]).split(','));
    else if (a === '--json') opts.json = argv[++i];
    else if (a === '--help' || a === '-h') opts.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

/** Plain fixed-width table: rows are arrays of cells, the first row is the header. */
export function formatTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  const line = (r) =>
    r
      .map((cell, c) =>
        c === 0 ? String(cell ?? '').padEnd(widths[c]) : String(cell ?? '').padStart(widths[c]),
      )
      .join('  ');
  return [
    line(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** Human formatting of a number with thousands separators. */
export function fmt(x, digits = 0) {
  if (x == null || Number.isNaN(x)) return 'n/a';
  return x.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/**
 * Build the readable summary table from a result object of the common shape
 * (see PROTOCOL in run.mjs). Missing sections print as n/a.
 */
export function summaryTable(r) {
  const rows = [['measurement', 'median', 'unit', 'runs']];
  const runs = (x, key, d = 0) =>
    (x?.runs ?? []).map((v) => fmt(key == null ? v : v[key], d)).join(' / ');
  if (r.bulk)
    rows.push([
      `bulk ${fmt((r.bulk?.totalBytes ?? 0) / 1048576)} MiB in ${fmt((r.bulk?.chunkBytes ?? 0) / 1024)} KiB writes`,
      fmt(r.bulk?.MBps, 1),
      'MB/s',
      runs(r.bulk, 'MBps', 1),
    ]);
  for (const k of ['msgRate32B', 'msgRate1KiB']) {
    const x = r[k];
    if (x)
      rows.push([
        `one-way msgs ${x.size} B x ${fmt(x.count)}`,
        fmt(x.msgsPerSec),
        'msg/s',
        runs(x, 'msgsPerSec'),
      ]);
  }
  if (r.rtt32B) {
    rows.push(['round trip 32 B p50', fmt(r.rtt32B.p50us), 'us', runs(r.rtt32B, 'p50us')]);
    rows.push(['round trip 32 B p99', fmt(r.rtt32B.p99us), 'us', runs(r.rtt32B, 'p99us')]);
  }
  if (r.connsPerSec) {
    rows.push([
      `connections/s (${r.connsPerSec.concurrency} concurrent)`,
      fmt(r.connsPerSec.perSec, 1),
      'conn/s',
      runs(r.connsPerSec, 'perSec', 1),
    ]);
    rows.push([
      '  per-connection latency p50',
      fmt(r.connsPerSec.latencyP50ms, 2),
      'ms',
      runs(r.connsPerSec, 'latencyP50ms', 2),
    ]);
  }
  for (const [key, x] of Object.entries(r.memory ?? {})) {
    rows.push([`memory ${key} RSS / conn`, fmt(x.rssKiB, 1), 'KiB', runs(x, 'rssKiB', 1)]);
    rows.push([
      `memory ${key} heapUsed / conn`,
      fmt(x.heapUsedKiB, 1),
      'KiB',
      runs(x, 'heapUsedKiB', 1),
    ]);
  }
  return formatTable(rows);
}
