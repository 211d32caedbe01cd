/**
 * The p2p benchmark: two authp2p lookup peers in two processes over loopback TCP, and the memory
 * a lookup node spends per connected peer; side by side with js-libp2p (bench/libp2p) and, when
 * available, with the raw encrypted stream (bench/stream).
 *
 * Usage: node --expose-gc build/bench/p2p.js [--quick] [--only bulk,msgs,rtt,mem]
 *        [--no-libp2p] [--with-stream] [--json FILE]
 *        [--window N] [--bulk-window N] [--mailbox N] [--batch N] [--profile-mem N]
 *        [--app-heap-mb N]
 *
 * Throughput (1-3) is interleaved (bench/interleave.ts): each measurement starts a lookup pair, a
 * js-libp2p pair (unless --no-libp2p or not installed) and, with --with-stream, a bare authp2p
 * stream pair; runs each once untimed, then RUNS rounds of one run per contender, alternating the
 * order; and reports the median of each contender's runs, the median and range of the per-round
 * ratios, CPU time per unit of every process, and the load average of every round. The round trip
 * also runs a raw node:net echo in every round and reports each contender's p50 above it.
 *
 * Measurements (sizes, counts and runs as bench/libp2p/run.mjs, PROTOCOL there):
 *   1. bulk: 256 MiB (quick 64) as 64 KiB messages on channel 0; MB/s (10^6 bytes).
 *   2. one-way message rate, 32 B x 200 000 and 1 KiB x 100 000 (quick 50 000 / 25 000).
 *   3. round trip: 32 B echoed by the peer on channel 0, 1 000 warm-up + 10 000 timed
 *      (quick 500 + 3 000); p50 / p99 in us.
 *   For 1 and 2 the sender never has more than a window of unacknowledged messages (the
 *   receiver acknowledges its cumulative count on channel 1 every window/4 messages and after
 *   the last one), so with `window <= mailboxSize` the relay queue cannot overflow; a `send`
 *   that returns [] is retried after yielding. Time = first send -> final ack; only delivered
 *   (acknowledged) messages count. Relay and inbound drops are read from both nodes' metrics.
 *   Each is run once untimed, then in RUNS (5, quick 3) interleaved rounds.
 *   4. memory per connected peer: a node process (--expose-gc) registers N secondary peers
 *      (keys PrivateKey.fromSeed(1..N), loopback egress), is sampled after forced GCs, then a
 *      second process opens N authenticated connections to it (stream handshake, 16 at a time)
 *      that stay open, pinging every 5 s; once the node reports N connected peers and 500 ms
 *      have passed, it is sampled again. (after - before) / N for RSS and heapUsed (the
 *      bench/libp2p method). N = 200 and 1 000, 3 runs each (quick 1). References: the same
 *      crowd against a bare stream listener (handshake + one pending recv per session, no
 *      lookup network), and raw idle loopback sockets (bench/libp2p/common.mjs handlers).
 *   CPU: user + system time of each process over each timed run, per delivered message (and per
 *   round trip), comparable with bench/stream's senderCpuUsPerMsg / receiverCpuUsPerMsg.
 *
 * Output: progress on stderr; a table, then one JSON line, on stdout.
 *
 * `--app-heap-mb N`: every worker (each contender's, js-libp2p's too) first builds and keeps N MB
 * of small objects, as a node's own state would (bench/app-heap.ts: with the few MB a bare
 * worker holds, V8's collector behaves unlike it does in an application; see BENCHMARKS.md).
 *
 * Diagnostics: `--profile-mem N` runs one memory measurement with N peers, takes heap snapshots
 * of the node before and after the connections, and prints the heap growth per peer by
 * constructor (`--profile-stream`: of the bare stream listener instead);
 * `P2P_BENCH_PROF=client|server|node|crowd` runs that worker with --cpu-prof (profiles written
 * to ./prof; `STREAM_BENCH_PROF=client|server` the bare stream's, with --with-stream); `P2P_BENCH_FLAGS='--max-semi-space-size=1'` passes node flags to
 * every worker.
 */

import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  appHeapFromArgs,
  argValue,
  CPU_PROF_ARGV,
  fmt,
  LIBP2P,
  type MemorySample,
  median,
  nowNs,
  round,
  runJson,
  secondsSince,
  spawnWorker,
  THROUGHPUT_FULL,
  THROUGHPUT_QUICK,
  table,
  type Worker,
} from './common.js';
import { heapDiff, printHeapDiff } from './heap.js';
import {
  type Contender,
  type Figures,
  JS_LIBP2P,
  libp2pContender,
  libp2pInstalled,
  printComparison,
  roundsJson,
  runSteps,
  type Step,
  streamContender,
  throughputSteps,
} from './interleave.js';

const PEER = fileURLToPath(new URL('./p2p-peer.js', import.meta.url));
const STREAM = 'stream';

const FULL = {
  ...THROUGHPUT_FULL,
  mem: { ns: [200, 1000], runs: 3, concurrency: 16, settleMs: 500 },
};
const QUICK: typeof FULL = {
  ...THROUGHPUT_QUICK,
  mem: { ns: [200, 1000], runs: 1, concurrency: 16, settleMs: 500 },
};
type Settings = typeof FULL;

/** Node settings: the local preset with large quotas and 64 KiB messages. */
interface Tuning {
  /** The network measured in the first column (`--flavour`): lookup (default) or discovery. */
  flavour: 'lookup' | 'discovery';
  mailboxSize: number;
  sendBatchSize: number;
  window: number;
  bulkWindow: number;
}

const MAX_MESSAGE_SIZE = 64 * 1024;
const QUOTA_PER_SECOND = 1_000_000;
const PING_FREQUENCY_MS = 5_000; // Config.local's default

// ---------- Helpers ----------

function spawnPeer(name: string, execArgv: string[] = [], lifetimeMs = 300_000): Worker {
  const prof = process.env.P2P_BENCH_PROF === name ? CPU_PROF_ARGV : [];
  return spawnWorker(PEER, name, {
    // P2P_BENCH_FLAGS: extra node flags for every worker (diagnostics, e.g. GC settings).
    execArgv: [
      ...execArgv,
      ...prof,
      ...(process.env.P2P_BENCH_FLAGS ?? '').split(' ').filter(Boolean),
    ],
    lifetimeMs,
    closeGraceMs: 8_000,
  });
}

interface Drops {
  relayDropped: number;
  inboundDropped: number;
  rateLimited: number;
  sent: number;
  received: number;
}

/** Drops and counts of both lookup nodes, read when each pair closes (JSON output). */
const lookupDrops: { client: Drops; server: Drops }[] = [];

/**
 * Two connected lookup nodes, client A (seed 1) and server B (seed 2), as a contender: every run
 * first sets the server's mode (count with acknowledgements, or echo), then runs the client's
 * command with the tuning's window. With `--flavour discovery` two discovery nodes instead: the
 * client knows only the server as its bootstrapper, both register the two keys, and the client
 * learns the rest through the handshake and gossip.
 */
async function lookupContender(tuning: Tuning): Promise<Contender> {
  const server = spawnPeer('server');
  const client = spawnPeer('client');
  const close = async (): Promise<void> => {
    await Promise.all([client.close(), server.close()]);
  };
  try {
    const common = {
      maxPeersPerSet: 2,
      maxMessageSize: MAX_MESSAGE_SIZE,
      mailboxSize: tuning.mailboxSize,
      sendBatchSize: tuning.sendBatchSize,
      quotaPerSecond: QUOTA_PER_SECOND,
      flavour: tuning.flavour,
    };
    let s: { port: number };
    let c: { port: number };
    if (tuning.flavour === 'discovery') {
      s = await server.request<{ port: number }>('start', { seed: 2, role: 'server', ...common });
      c = await client.request<{ port: number }>('start', {
        seed: 1,
        role: 'client',
        ...common,
        bootstrap: [2, s.port],
      });
    } else {
      [s, c] = await Promise.all([
        server.request<{ port: number }>('start', { seed: 2, role: 'server', ...common }),
        client.request<{ port: number }>('start', { seed: 1, role: 'client', ...common }),
      ]);
    }
    await Promise.all([
      server.request('register', { peers: [[1, c.port]] }),
      client.request('register', { peers: [[2, s.port]] }),
    ]);
    await Promise.all([
      client.request('waitConnected', { n: 1, timeoutMs: 20_000 }, 30_000),
      server.request('waitConnected', { n: 1, timeoutMs: 20_000 }, 30_000),
    ]);
  } catch (err) {
    await close();
    throw err;
  }
  const count = (window: number, expect: number) =>
    server.request('mode', { mode: 'count', ackEvery: Math.max(1, window >> 2), expect });
  return {
    name: tuning.flavour,
    async run(cmd, params) {
      const p = params as { totalBytes: number; chunkBytes: number; count: number };
      let window = tuning.window;
      if (cmd === 'bulk') {
        window = tuning.bulkWindow;
        await count(window, Math.ceil(p.totalBytes / p.chunkBytes));
      } else if (cmd === 'msgs') await count(window, p.count);
      else await server.request('mode', { mode: 'echo', ackEvery: 1, expect: 0 });
      return client.request<Figures>(cmd, { ...params, window, limitMs: 60_000 }, 90_000);
    },
    async cpu() {
      const [c, s] = await Promise.all([
        client.request<number>('cpu'),
        server.request<number>('cpu'),
      ]);
      return { client: c, server: s };
    },
    async close() {
      try {
        const [cd, sd] = await Promise.all([
          client.request<Drops>('stats'),
          server.request<Drops>('stats'),
        ]);
        lookupDrops.push({ client: cd, server: sd });
      } finally {
        await close();
      }
    },
  };
}

/** The throughput measurements, as interleaved steps (bench/interleave.ts). */
function lookupSteps(
  cfg: Settings,
  tuning: Tuning,
  withLibp2p: boolean,
  withStream: boolean,
): Step[] {
  const sides: (() => Promise<Contender>)[] = [() => lookupContender(tuning)];
  if (withLibp2p) sides.push(libp2pContender);
  if (withStream) sides.push(() => streamContender(STREAM, 'STREAM_BENCH_PROF'));
  return throughputSteps(cfg, sides, {
    bulk: '>= 85% stream',
    msgs: '>= 85% stream',
    rttP50: '',
    floor: '<= 0.2x js-libp2p',
  });
}

// ---------- Measurements ----------

interface FlowRun {
  cpuUs: number;
  serverCpuUs?: number;
  delivered: number;
  sent: number;
  refused: number;
  incomplete: boolean;
  seconds: number;
}
interface MsgRate {
  msgsPerSec: number;
  /** CPU time per delivered message (user + system), median over runs. */
  senderCpuUsPerMsg?: number;
  receiverCpuUsPerMsg?: number;
  window?: number;
  runs: (FlowRun & { msgsPerSec: number })[];
}
interface Results {
  bulk?: { MBps: number; window: number; runs: (FlowRun & { MBps: number })[] } & object;
  msgRate32B?: MsgRate;
  msgRate1KiB?: MsgRate;
  rtt32B?: {
    p50us: number;
    p99us: number;
    clientCpuUsPerTrip?: number;
    serverCpuUsPerTrip?: number;
    runs: { p50us: number; p99us: number }[];
  };
  memory?: Record<string, MemResult>;
  /** Marginal per-peer cost between the smallest and largest N, by series (see `marginal`). */
  memoryMarginal?: Record<string, MemDelta & { fromN: number; toN: number }>;
  tuning?: Tuning;
  errors?: Record<string, string>;
}

interface MemDelta {
  rssKiB: number;
  heapUsedKiB: number;
  externalKiB: number;
  heapTotalKiB?: number;
  arrayBuffersKiB?: number;
  /** Per peer, KiB: where the RSS growth is (see `rssBreakdown` in heap.ts). */
  breakdown?: Record<string, number>;
  /** RSS / peer again after `--mem-idle` ms more of idling (V8's memory reducer may run). */
  idleRssKiB?: number;
  idleBreakdown?: Record<string, number>;
}
interface MemResult extends MemDelta {
  n: number;
  heapTotalKiB: number;
  runs: (MemDelta & Record<string, unknown>)[];
}

/** A worker's `memSample` answer; `connected` is the peer count of a lookup node. */
interface WorkerSample extends MemorySample {
  connected?: number;
  breakdown?: Record<string, number>;
}

function breakdownDelta(
  before: WorkerSample,
  after: WorkerSample,
  n: number,
): Record<string, number> | undefined {
  const a = after.breakdown;
  const b = before.breakdown;
  if (a === undefined || b === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const k of Object.keys(a)) out[k] = round((a[k]! - (b[k] ?? 0)) / n / 1024, 2);
  return out;
}

/** Extra idle time before a second "after" sample (`--mem-idle MS`; 0: none). */
let memIdleMs = 0;

/** The second sample after `memIdleMs`, as extra fields of a run. */
async function idleSample(w: Worker, before: WorkerSample, n: number): Promise<Partial<MemDelta>> {
  if (memIdleMs <= 0) return {};
  await new Promise((resolve) => setTimeout(resolve, memIdleMs));
  const late = await w.request<WorkerSample>('memSample');
  const d = delta(before, late, n);
  const idleBreakdown = breakdownDelta(before, late, n);
  return { idleRssKiB: d.rssKiB, ...(idleBreakdown === undefined ? {} : { idleBreakdown }) };
}

function delta(before: WorkerSample, after: WorkerSample, n: number): MemDelta {
  const kib = (k: 'rss' | 'heapUsed' | 'heapTotal' | 'external' | 'arrayBuffers'): number =>
    round((after[k] - before[k]) / n / 1024, 2);
  const breakdown = breakdownDelta(before, after, n);
  return {
    rssKiB: kib('rss'),
    heapUsedKiB: kib('heapUsed'),
    externalKiB: kib('external'),
    heapTotalKiB: kib('heapTotal'),
    arrayBuffersKiB: kib('arrayBuffers'),
    ...(breakdown === undefined ? {} : { breakdown }),
  };
}

/** Median of each key over the runs that have the record. */
function medianRecord(
  records: (Record<string, number> | undefined)[],
): Record<string, number> | undefined {
  const present = records.filter((r): r is Record<string, number> => r !== undefined);
  if (present.length === 0) return undefined;
  const out: Record<string, number> = {};
  for (const k of Object.keys(present[0]!)) out[k] = median(present.map((r) => r[k] ?? 0));
  return out;
}

function summarizeMem(n: number, runs: (MemDelta & Record<string, unknown>)[]): MemResult {
  const breakdown = medianRecord(runs.map((r) => r.breakdown));
  const idle = runs.filter((r) => r.idleRssKiB !== undefined);
  const idleBreakdown = medianRecord(idle.map((r) => r.idleBreakdown));
  return {
    n,
    rssKiB: median(runs.map((r) => r.rssKiB)),
    heapUsedKiB: median(runs.map((r) => r.heapUsedKiB)),
    externalKiB: median(runs.map((r) => r.externalKiB)),
    heapTotalKiB: median(runs.map((r): number => r.heapTotalKiB ?? Number.NaN)),
    ...(breakdown === undefined ? {} : { breakdown }),
    ...(idle.length === 0 ? {} : { idleRssKiB: median(idle.map((r) => r.idleRssKiB!)) }),
    ...(idleBreakdown === undefined ? {} : { idleBreakdown }),
    runs,
  };
}

/**
 * The marginal cost per peer between the smallest and largest N of a series, from the medians:
 * (total(N2) - total(N1)) / (N2 - N1). Fixed costs that a connection burst incurs once (V8's
 * young generation growing, malloc arenas) cancel out here, unlike in (after - before) / N.
 */
function marginal(
  memory: Record<string, MemResult>,
  prefix: string,
): (MemDelta & { fromN: number; toN: number }) | undefined {
  const series = Object.entries(memory)
    .filter(([k]) => k.startsWith(`${prefix}_`))
    .map(([, v]) => v)
    .sort((a, b) => a.n - b.n);
  if (series.length < 2) return undefined;
  const lo = series[0]!;
  const hi = series[series.length - 1]!;
  const per = (f: (x: MemResult) => number): number =>
    round((f(hi) * hi.n - f(lo) * lo.n) / (hi.n - lo.n), 2);
  return {
    fromN: lo.n,
    toN: hi.n,
    rssKiB: per((x) => x.rssKiB),
    heapUsedKiB: per((x) => x.heapUsedKiB),
    externalKiB: per((x) => x.externalKiB),
    heapTotalKiB: per((x) => x.heapTotalKiB),
  };
}

async function memLookupOnce(
  n: number,
  cfg: Settings,
  snapshots?: string[],
): Promise<MemDelta & Record<string, unknown>> {
  const nodeW = spawnPeer('node', ['--expose-gc']);
  const crowdW = spawnPeer('crowd');
  try {
    const { port } = await nodeW.request<{ port: number }>('start', {
      seed: 0,
      role: 'node',
      maxPeersPerSet: n + 1,
      maxMessageSize: MAX_MESSAGE_SIZE,
      quotaPerSecond: 1000,
    });
    const empty = await nodeW.request<WorkerSample>('memSample');
    await nodeW.request('memRegister', { n, firstSeed: 1 });
    const before = await nodeW.request<WorkerSample>('memSample');
    if (snapshots) snapshots.push(await nodeW.request<string>('heapSnapshot', { tag: 'before' }));
    const t0 = nowNs();
    const info = await crowdW.request<{ retries: number }>(
      'memConnect',
      {
        port,
        n,
        firstSeed: 1,
        nodeSeed: 0,
        concurrency: cfg.mem.concurrency,
        maxMessageSize: MAX_MESSAGE_SIZE,
        pingFrequencyMs: PING_FREQUENCY_MS,
      },
      120_000,
    );
    await nodeW.request('waitConnected', { n, timeoutMs: 30_000 }, 40_000);
    const setupSeconds = round(secondsSince(t0), 2);
    await crowdW.request('sleep', { ms: cfg.mem.settleMs });
    const after = await nodeW.request<WorkerSample>('memSample');
    if (snapshots) snapshots.push(await nodeW.request<string>('heapSnapshot', { tag: 'after' }));
    if (after.connected !== n) {
      throw new Error(`node reports ${after.connected} connected peers, expected ${n}`);
    }
    const registration = delta(empty, before, n);
    const idle = await idleSample(nodeW, before, n);
    return {
      ...delta(before, after, n),
      ...idle,
      connected: after.connected,
      setupSeconds,
      retries: info.retries,
      registrationRssKiB: registration.rssKiB,
      registrationHeapUsedKiB: registration.heapUsedKiB,
    };
  } finally {
    await Promise.all([crowdW.close(), nodeW.close()]);
  }
}

/** The same crowd against a bare stream listener (no lookup network): the floor. */
async function memStreamOnce(
  n: number,
  cfg: Settings,
  snapshots?: string[],
): Promise<MemDelta & Record<string, unknown>> {
  const server = spawnPeer('streamnode', ['--expose-gc']);
  const crowdW = spawnPeer('crowd');
  try {
    const { port } = await server.request<{ port: number }>('streamNodeStart', {
      seed: 0,
      maxMessageSize: MAX_MESSAGE_SIZE,
    });
    const before = await server.request<WorkerSample>('memSample');
    if (snapshots) snapshots.push(await server.request<string>('heapSnapshot', { tag: 'before' }));
    await crowdW.request(
      'memConnect',
      {
        port,
        n,
        firstSeed: 1,
        nodeSeed: 0,
        concurrency: cfg.mem.concurrency,
        maxMessageSize: MAX_MESSAGE_SIZE,
        pingFrequencyMs: PING_FREQUENCY_MS,
      },
      120_000,
    );
    await crowdW.request('sleep', { ms: cfg.mem.settleMs });
    const after = await server.request<WorkerSample>('memSample');
    if (snapshots) snapshots.push(await server.request<string>('heapSnapshot', { tag: 'after' }));
    const held = await server.request<number>('streamNodeCount');
    if (held !== n) throw new Error(`stream node holds ${held} sessions, expected ${n}`);
    return { ...delta(before, after, n), ...(await idleSample(server, before, n)) };
  } finally {
    await Promise.all([crowdW.close(), server.close()]);
  }
}

async function memRawOnce(n: number, cfg: Settings): Promise<MemDelta & Record<string, unknown>> {
  const server = spawnPeer('rawserver', ['--expose-gc']);
  const client = spawnPeer('rawclient');
  try {
    const { port } = await server.request<{ port: number }>('rawCall', {
      fn: 'rawListen',
      params: {},
    });
    const before = await server.request<WorkerSample>('memSample');
    await client.request('rawCall', {
      fn: 'rawConnect',
      params: { port, n, concurrency: cfg.mem.concurrency },
    });
    await client.request('sleep', { ms: cfg.mem.settleMs });
    const after = await server.request<WorkerSample>('memSample');
    const held = await server.request<number>('rawCall', { fn: 'rawCount', params: {} });
    if (held !== n) throw new Error(`raw server holds ${held} sockets, expected ${n}`);
    return { ...delta(before, after, n) };
  } finally {
    await Promise.all([client.close(), server.close()]);
  }
}

async function memRawPairOnce(n: number): Promise<MemDelta & Record<string, unknown>> {
  const w = spawnPeer('rawpair', ['--expose-gc']);
  try {
    const r = await w.request<{ perConn: MemDelta }>('rawCall', { fn: 'rawPairs', params: { n } });
    return { ...r.perConn };
  } finally {
    await w.close();
  }
}

/** The memory measurements (not interleaved: memory is not what a busy CPU moves). */
async function measureMemory(cfg: Settings, want: (k: string) => boolean): Promise<Results> {
  const out: Results = {};
  const step = async (key: string, fn: () => Promise<void>): Promise<void> => {
    if (!want(key)) return;
    const t0 = nowNs();
    process.stderr.write(`[p2p bench] authp2p lookup ${key} ...`);
    try {
      await fn();
      process.stderr.write(` done in ${secondsSince(t0).toFixed(1)} s\n`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(` FAILED: ${message}\n`);
      out.errors = { ...out.errors, [key]: message };
    }
  };
  await step('mem', async () => {
    const memory: Record<string, MemResult> = {};
    for (const n of cfg.mem.ns) {
      const runs = [];
      for (let i = 0; i < cfg.mem.runs; i++) runs.push(await memLookupOnce(n, cfg));
      memory[`lookup_${n}`] = summarizeMem(n, runs);
    }
    for (const n of cfg.mem.ns) {
      const runs = [];
      for (let i = 0; i < cfg.mem.runs; i++) runs.push(await memStreamOnce(n, cfg));
      memory[`streamSession_${n}`] = summarizeMem(n, runs);
    }
    if (existsSync(join(LIBP2P, 'common.mjs'))) {
      for (const n of cfg.mem.ns) {
        const runs = [];
        for (let i = 0; i < cfg.mem.runs; i++) runs.push(await memRawOnce(n, cfg));
        memory[`rawTcpServerSocket_${n}`] = summarizeMem(n, runs);
      }
      const n = cfg.mem.ns[cfg.mem.ns.length - 1]!;
      const runs = [];
      for (let i = 0; i < cfg.mem.runs; i++) runs.push(await memRawPairOnce(n));
      memory[`rawTcpPairInProcess_${n}`] = summarizeMem(n, runs);
    }
    out.memory = memory;
    const marginals: Record<string, MemDelta & { fromN: number; toN: number }> = {};
    for (const prefix of ['lookup', 'streamSession', 'rawTcpServerSocket']) {
      const m = marginal(memory, prefix);
      if (m !== undefined) marginals[prefix] = m;
    }
    out.memoryMarginal = marginals;
  });
  return out;
}

// ---------- Other columns ----------

/** js-libp2p's memory figures: bench/libp2p/run.mjs --only mem, in its own process. */
async function libp2pMemory(quick: boolean): Promise<Results | undefined> {
  const args = ['--only', 'mem', ...(quick ? ['--quick'] : [])];
  process.stderr.write(
    `[p2p bench] js-libp2p memory: node bench/libp2p/run.mjs ${args.join(' ')}\n`,
  );
  return (await runJson(join(LIBP2P, 'run.mjs'), args, {
    limitMs: 1_800_000,
    tmpPrefix: 'p2p-bench-',
  })) as Results | undefined;
}

// ---------- Output ----------

interface Row {
  name: string;
  unit: string;
  digits: number;
  ours: number | undefined;
  libp2p: number | undefined;
  stream?: number | undefined;
  target: string;
  /** Whether the target is met (undefined: not applicable / unknown). */
  met?: boolean | undefined;
}

/** The memory rows: ours (`a`) beside js-libp2p's (`l`, from bench/libp2p/run.mjs). */
function rows(a: Results, l: Results | undefined): Row[] {
  const out: Row[] = [];
  const lm = (l as { memory?: Record<string, MemDelta> } | undefined)?.memory;
  for (const [key, x] of Object.entries(a.memory ?? {})) {
    const n = x.n;
    const isLookup = key.startsWith('lookup_');
    const theirs = isLookup ? lm?.[`libp2p_${n}`] : lm?.[key];
    const label = isLookup ? `memory ${n} peers` : `  ${key.replace(/_\d+$/, '')} ${n}`;
    out.push({
      name: `${label} RSS / peer`,
      unit: 'KiB',
      digits: 1,
      ours: x.rssKiB,
      libp2p: theirs?.rssKiB,
      target: isLookup && n === 1000 ? '<= 20 KiB' : '',
      met: isLookup && n === 1000 ? x.rssKiB <= 20 : undefined,
    });
    out.push({
      name: `${label} heapUsed / peer`,
      unit: 'KiB',
      digits: 1,
      ours: x.heapUsedKiB,
      libp2p: theirs?.heapUsedKiB,
      target: '',
    });
    if (isLookup) {
      out.push({
        name: `${label} heapTotal / peer`,
        unit: 'KiB',
        digits: 1,
        ours: x.heapTotalKiB,
        libp2p: undefined,
        target: '',
      });
    }
    // Where the RSS is (diagnostics, ours only): V8's resident heap pages (young generation
    // apart), glibc's main arena, other anonymous memory.
    const b = x.breakdown;
    if (b !== undefined) {
      for (const [k, what] of [
        ['v8Physical', 'V8 heap resident'],
        ['v8NewPhysical', 'of which young gen'],
        ['mallocBrk', 'malloc main arena'],
        ['anonOther', 'other anonymous'],
      ] as const) {
        out.push({
          name: `${label}   ${what} / peer`,
          unit: 'KiB',
          digits: 1,
          ours: b[k],
          libp2p: undefined,
          target: '',
        });
      }
    }
    if (x.idleRssKiB !== undefined) {
      out.push({
        name: `${label} RSS / peer after --mem-idle`,
        unit: 'KiB',
        digits: 1,
        ours: x.idleRssKiB,
        libp2p: undefined,
        target: '',
      });
    }
  }
  for (const [prefix, m] of Object.entries(a.memoryMarginal ?? {})) {
    out.push({
      name: `marginal ${prefix} ${m.fromN}->${m.toN} RSS / peer`,
      unit: 'KiB',
      digits: 1,
      ours: m.rssKiB,
      libp2p: undefined,
      target: '',
    });
    out.push({
      name: `marginal ${prefix} ${m.fromN}->${m.toN} heapUsed / peer`,
      unit: 'KiB',
      digits: 1,
      ours: m.heapUsedKiB,
      libp2p: undefined,
      target: '',
    });
  }
  return out.filter((r) => r.ours !== undefined || r.libp2p !== undefined);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      'usage: node --expose-gc build/bench/p2p.js [--quick] [--only bulk,msgs,rtt,mem] [--no-libp2p]\n' +
        '       [--with-stream] [--flavour lookup|discovery] [--json FILE] [--window N] [--bulk-window N]\n' +
        '       [--mailbox N] [--batch N] [--profile-mem N [--profile-stream]] [--mem-idle MS]\n' +
        '       [--app-heap-mb N]',
    );
    return;
  }
  const quick = argv.includes('--quick');
  const appHeapMb = appHeapFromArgs(argv);
  const only = (argValue(argv, '--only') ?? 'bulk,msgs,rtt,mem').split(',');
  const want = (k: string): boolean => only.includes(k);
  const cfg = quick ? QUICK : FULL;
  const mailboxSize = Number(argValue(argv, '--mailbox') ?? 1000);
  const flavour = argValue(argv, '--flavour') ?? 'lookup';
  if (flavour !== 'lookup' && flavour !== 'discovery') {
    throw new Error(`--flavour must be lookup or discovery, got ${flavour}`);
  }
  const tuning: Tuning = {
    flavour,
    mailboxSize,
    sendBatchSize: Number(argValue(argv, '--batch') ?? 8),
    window: Number(argValue(argv, '--window') ?? mailboxSize),
    bulkWindow: Number(argValue(argv, '--bulk-window') ?? Math.min(mailboxSize, 256)),
  };
  const loadStart = loadavg()[0]!;
  if (loadStart > 0.5 * cpus().length) {
    process.stderr.write(
      `[p2p bench] warning: load average ${loadStart.toFixed(2)} on ${cpus().length} CPUs; figures will be contended\n`,
    );
  }
  memIdleMs = Number(argValue(argv, '--mem-idle') ?? 0);
  const profileMem = argValue(argv, '--profile-mem');
  if (profileMem !== undefined) {
    const n = Number(profileMem);
    const snapshots: string[] = [];
    try {
      const r = argv.includes('--profile-stream')
        ? await memStreamOnce(n, cfg, snapshots)
        : await memLookupOnce(n, cfg, snapshots);
      console.log(`${n} peers: ${JSON.stringify(r)}`);
      printHeapDiff(
        heapDiff(snapshots[0]!, snapshots[1]!, n),
        `heap snapshot diff of the listening process, ${n} connected peers`,
      );
    } finally {
      if (process.env.P2P_BENCH_KEEP_SNAPSHOTS === '1')
        console.log(`snapshots: ${snapshots.join(' ')}`);
      else for (const f of snapshots) rmSync(f, { force: true });
    }
    return;
  }
  const t0 = nowNs();
  const withLibp2p = !argv.includes('--no-libp2p') && libp2pInstalled();
  if (!argv.includes('--no-libp2p') && !withLibp2p) {
    process.stderr.write('[p2p bench] bench/libp2p not installed: no js-libp2p column\n');
  }
  const withStream = argv.includes('--with-stream');
  const done = await runSteps(
    lookupSteps(cfg, tuning, withLibp2p, withStream),
    only,
    cfg.runs,
    'p2p bench',
  );
  // The memory measurement is of lookup nodes (a crowd of stream clients registered by
  // address); a discovery run measures the throughput steps only.
  if (flavour === 'discovery' && want('mem')) {
    process.stderr.write('[p2p bench] memory is measured for lookup only: skipped\n');
  }
  const memWanted = (k: string): boolean => want(k) && (k !== 'mem' || flavour === 'lookup');
  const ours = await measureMemory(cfg, memWanted);
  const theirs = withLibp2p && memWanted('mem') ? await libp2pMemory(quick) : undefined;
  console.log(
    `\nauthp2p ${flavour} network (${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'})` +
      `${quick ? ' [quick]' : ''}, ${cfg.runs} interleaved rounds (memory: median of ${cfg.mem.runs}), ` +
      `mailboxSize ${tuning.mailboxSize}, sendBatchSize ${tuning.sendBatchSize}, window ${tuning.window} ` +
      `(bulk ${tuning.bulkWindow}), ${appHeapMb > 0 ? `${appHeapMb} MB of application state per worker, ` : ''}` +
      `load average ${loadStart.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}\n`,
  );
  if (done.length > 0) {
    const refs = [...(withLibp2p ? [JS_LIBP2P] : []), ...(withStream ? [STREAM] : [])];
    printComparison(done, flavour, refs);
  }
  const memRows = rows(ours, theirs);
  if (memRows.length > 0) {
    const body = memRows.map((r) => {
      const ratio =
        r.ours === undefined || r.libp2p === undefined
          ? 'n/a'
          : `${(r.ours / r.libp2p).toFixed(2)}x`;
      const met = r.met === undefined ? '' : r.met ? ' ok' : ' MISSED';
      return [
        r.name,
        fmt(r.ours, r.digits),
        fmt(r.libp2p, r.digits),
        r.unit,
        ratio,
        `${r.target}${met}`,
      ];
    });
    console.log('');
    console.log(
      table([['measurement', 'lookup', 'js-libp2p', 'unit', 'lookup/libp2p', 'target'], ...body]),
    );
  }
  const json = {
    rounds: Object.fromEntries(done.map((d) => [d.step.name, roundsJson(d.rounds)])),
    lookupDrops,
    tuning,
    appHeapMb,
    memory: ours,
    libp2pMemory: theirs ?? null,
    quick,
    runs: cfg.runs,
    node: process.version,
    seconds: round(secondsSince(t0), 1),
  };
  const jsonFile = argValue(argv, '--json');
  if (jsonFile !== undefined) writeFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
  if (ours.errors !== undefined) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
