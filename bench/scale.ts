/**
 * The scale benchmark (issue 12 section 3): one lookup hub process holding N connections (10,000
 * by default) against client peers spread over several crowd processes, each client dialing from
 * its own 127.x.y.z address (bench/crowd.ts `clientIp`).
 *
 * Usage: node --expose-gc build/bench/scale.js [--peers N] [--quick] [--crowds K]
 *        [--concurrency C] [--idle-seconds S] [--quiet-seconds Q] [--settle-seconds S] [--profile] [--cpu-profile FILE] [--alloc-profile FILE [--alloc-kept]]
 *        [--hub-flags 'F ...'] [--json FILE]
 *
 * What it does (every wait bounded in time, every loop by count):
 *   1. forks the hub (bench/scale-peer.ts, `node --expose-gc`, otherwise Node's default flags:
 *      no heap or semi-space flags) and K crowds (default ceil(N / 2500), at least 2);
 *   2. the hub starts (`Config.recommended`, private IPs allowed, handshake limits of the test:
 *      see scale-peer.ts `hubStart`) and registers the N client keys; it is sampled (4 forced
 *      GCs, then `process.memoryUsage()`): the base;
 *   3. the crowds open the first 1,000 clients (C handshakes in flight per crowd); once the hub
 *      reports 1,000 connected it idles one ping period + 5 s (`--settle-seconds`: every
 *      connection has pinged and been pinged, so its per-peer metric series exist) and is
 *      sampled; then the rest up to N, sampled at once (just connected);
 *   4. after 5 s of quiet (`--quiet-seconds`), the hub's CPU time (`process.cpuUsage`) over S seconds (default 60,
 *      more than the 50 s ping period of `Config.recommended`: every connection pings and is
 *      pinged in the window) is its idle keep-alive cost; the hub is sampled again after it (N
 *      peers with all their series: the marginal figures compare this sample with 1,000's).
 *
 * Reported: time to connect each stage and all N; per connected peer, hub RSS and live heap
 * (`heapUsed + external` after GC, every per-peer metric series included: the hub's registry is
 * scraped, `metrics.encode()`, before each sample and snapshot, so pending counts are series) against the base, at 1,000 and at N; the marginal RSS and heap per peer between 1,000
 * and N; the young generation's committed size at each stage (V8 grows it during the handshake
 * burst: a fixed cost, amortised over N); idle CPU as a percentage of one core, CPU ms per ping
 * round (the window's length over the ping period: a window of whole periods, e.g.
 * `--idle-seconds 100`, holds exactly that many Pings each way per connection), and the
 * collections of the window by kind (count and main-thread pause).
 *
 * `--hub-flags 'F ...'`: extra Node flags for the hub only. With `--trace-gc-nvp`, pipe the
 * output through `node build/bench/scale-gc.js` for the bytes allocated and promoted per window.
 *
 * `--cpu-profile FILE`: write a CPU profile of the hub's idle window to FILE.
 *
 * `--alloc-profile FILE`: write a sampling heap profile of every allocation in the idle window
 * (one sample per ~1 KiB, objects collected meanwhile included) to FILE (`.heapprofile`); with
 * `--alloc-kept`, only what survived a scavenge (what the old generation pays for).
 *
 * `--profile`: instead, connect 100 then 200 more clients, snapshot the hub's heap at 100 and at
 * 300 (each after a ping period), and print the growth per peer by constructor and by holder (bench/heap.ts).
 *
 * Descriptors: every process's limit is its own (`ulimit -n`, RLIMIT_NOFILE, 20,000 here); the
 * hub holds N sockets plus ~30, each crowd about N / K plus ~30. The check below refuses a run
 * that would pass the limit in any one process.
 *
 * Cleanup: the workers exit when asked, when the parent's IPC channel closes, or after their
 * lifetime; on SIGINT/SIGTERM the parent closes them (SIGKILL after a grace) and exits.
 *
 * @module
 */

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argValue, fmt, round, spawnWorker, table, type Worker } from './common.js';
import { heapDiff, printHeapDiff } from './heap.js';

const PEER = fileURLToPath(new URL('./scale-peer.js', import.meta.url));
const MAX_MESSAGE_SIZE = 1 << 20;
const KiB = 1024;

interface Sample {
  rss: number;
  heapUsed: number;
  external: number;
  connected: number;
  breakdown: {
    v8NewCommitted: number;
    v8NewPhysical: number;
    v8Physical: number;
    mallocBrk: number;
    anonOther: number;
  };
}

/** The soft limit on open files of this process (children inherit it). */
function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const v = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(v) ? v : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

const live: Worker[] = [];

function spawn(name: string, execArgv: string[], lifetimeMs: number): Worker {
  const w = spawnWorker(PEER, name, { execArgv, lifetimeMs, closeGraceMs: 10_000 });
  live.push(w);
  return w;
}

async function closeAll(): Promise<void> {
  await Promise.all(live.splice(0).map((w) => w.close()));
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`\n[scale] ${sig}: closing the workers\n`);
    void closeAll().finally(() => process.exit(130));
  });
}

const log = (s: string): void => {
  process.stderr.write(`[scale] ${s}\n`);
};

interface Settings {
  peers: number;
  crowds: number;
  concurrency: number;
  idleSeconds: number;
  /**
   * Quiet before the idle window (default 5 s). Right after a burst of connections the window
   * also holds their first pings and V8's memory reducer (full collections once allocation
   * slows); `--quiet-seconds 60` waits a ping period past them: the steady keep-alive cost.
   */
  quietSeconds: number;
  /** Wait after a stage connects before it is sampled (default a ping period + 5 s). */
  settleMs: number | undefined;
  maxConcurrentHandshakes: number;
}

/** Opens clients `from .. to - 1`, split into contiguous ranges over the crowds. */
async function openRange(
  crowds: Worker[],
  from: number,
  to: number,
  port: number,
  s: Settings,
  pingFrequencyMs: number,
): Promise<{ retries: number }> {
  const n = to - from;
  const per = Math.ceil(n / crowds.length);
  const results = await Promise.all(
    crowds.map((c, j) => {
      const first = from + j * per;
      const count = Math.max(0, Math.min(per, to - first));
      if (count === 0) return Promise.resolve({ retries: 0 });
      return c.request<{ retries: number }>(
        'crowdOpen',
        {
          port,
          n: count,
          first,
          firstSeed: 1,
          nodeSeed: 0,
          concurrency: s.concurrency,
          maxMessageSize: MAX_MESSAGE_SIZE,
          pingFrequencyMs,
        },
        // Generous on a loaded machine (a handshake costs ~3-10 ms of CPU here), but bounded.
        120_000 + count * 100,
      );
    }),
  );
  return { retries: results.reduce((a, r) => a + r.retries, 0) };
}

/** The hub's CPU over the idle window (scale-peer.ts `hubCpu`). */
interface IdleCpu {
  cpuPercent: number;
  connected: number;
  userMs: number;
  systemMs: number;
  threadsMs: Record<string, number>;
  /** Collections in the window by kind: count and main-thread pause (ms). */
  gc: Record<string, { count: number; ms: number }>;
}

interface Stage {
  peers: number;
  seconds: number;
  retries: number;
  sample: Sample;
}

async function connectStages(
  hub: Worker,
  crowds: Worker[],
  port: number,
  s: Settings,
  pingFrequencyMs: number,
  stops: number[],
  settleLast: boolean,
  atStop?: (n: number) => Promise<void>,
): Promise<Stage[]> {
  const out: Stage[] = [];
  let from = 0;
  for (const to of stops) {
    log(`connecting clients ${from}..${to - 1}`);
    const t0 = performance.now();
    const { retries } = await openRange(crowds, from, to, port, s, pingFrequencyMs);
    const w = await hub.request<{ connected: number }>(
      'hubWait',
      { n: to, timeoutMs: 120_000 },
      130_000,
    );
    const seconds = (performance.now() - t0) / 1000;
    if (w.connected !== to) throw new Error(`hub reports ${w.connected} connected, expected ${to}`);
    log(`${to} connected in ${seconds.toFixed(1)} s (${retries} retries)`);
    // Let every connection ping and be pinged once, so its metric series exist when sampled.
    const settleMs = s.settleMs ?? pingFrequencyMs + 5_000;
    if (settleMs > 0 && (to !== stops[stops.length - 1] || settleLast)) {
      log(`settling ${(settleMs / 1000).toFixed(0)} s (one ping period)`);
      await hub.request('hubCpu', { ms: settleMs }, settleMs + 30_000);
    }
    await atStop?.(to);
    out.push({ peers: to, seconds, retries, sample: await hub.request<Sample>('hubSample') });
    from = to;
  }
  return out;
}

function liveHeap(s: Sample): number {
  return s.heapUsed + s.external;
}

async function profile(hub: Worker, crowds: Worker[], port: number, s: Settings, ping: number) {
  const snaps: string[] = [];
  try {
    await connectStages(hub, crowds, port, s, ping, [100, 300], true, async () => {
      if (snaps.length < 2) {
        snaps.push(
          await hub.request<string>('heapSnapshot', { tag: String(snaps.length) }, 300_000),
        );
      }
    });
    const d = heapDiff(snaps[0]!, snaps[1]!, 200);
    printHeapDiff(d, 'heap snapshot diff of the hub, 100 -> 300 connected peers, per peer');
    return d;
  } finally {
    if (process.env.SCALE_KEEP_SNAPSHOTS === '1') log(`snapshots: ${snaps.join(' ')}`);
    else for (const f of snaps) rmSync(f, { force: true });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(
      'usage: node --expose-gc build/bench/scale.js [--peers N] [--quick] [--crowds K]\n' +
        '       [--concurrency C] [--idle-seconds S] [--quiet-seconds Q] [--settle-seconds S] [--profile] [--cpu-profile FILE] [--alloc-profile FILE [--alloc-kept]]\n' +
        "       [--hub-flags '--trace-gc ...'] [--json FILE]",
    );
    return;
  }
  const quick = argv.includes('--quick');
  const isProfile = argv.includes('--profile');
  const peers = isProfile ? 300 : Number(argValue(argv, '--peers') ?? (quick ? 2_000 : 10_000));
  const s: Settings = {
    peers,
    crowds: Number(argValue(argv, '--crowds') ?? Math.max(2, Math.ceil(peers / 2_500))),
    concurrency: Number(argValue(argv, '--concurrency') ?? 32),
    idleSeconds: Number(argValue(argv, '--idle-seconds') ?? (quick ? 15 : 60)),
    quietSeconds: Number(argValue(argv, '--quiet-seconds') ?? 5),
    settleMs:
      argValue(argv, '--settle-seconds') === undefined
        ? undefined
        : Number(argValue(argv, '--settle-seconds')) * 1000,
    maxConcurrentHandshakes: 512,
  };
  if (!Number.isSafeInteger(peers) || peers < 1 || peers > 60_000) {
    throw new Error('--peers must be 1..60000');
  }
  const limit = openFileLimit();
  const perCrowd = Math.ceil(peers / s.crowds);
  if (peers + 64 > limit || perCrowd + 64 > limit) {
    throw new Error(`${peers} peers over ${s.crowds} crowds pass the open-file limit ${limit}`);
  }
  const load0 = loadavg();
  log(
    `${peers} peers, ${s.crowds} crowds of <= ${perCrowd}, ${s.concurrency} handshakes in flight ` +
      `per crowd; open-file limit ${limit} per process; load ${load0.map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} CPUs`,
  );
  // Lifetimes: a worker never outlives a stuck run by much.
  const lifetimeMs = 300_000 + peers * 60 + (s.idleSeconds + s.quietSeconds) * 1000;
  // --hub-flags 'F G': extra Node flags for the hub only (e.g. --trace-gc), space-separated.
  const hubFlags = (argValue(argv, '--hub-flags') ?? '').split(' ').filter((f) => f !== '');
  const hub = spawn('hub', ['--expose-gc', ...hubFlags], lifetimeMs);
  const crowds = Array.from({ length: s.crowds }, (_, j) => spawn(`crowd${j}`, [], lifetimeMs));
  const t0 = performance.now();
  try {
    const { port, pingFrequencyMs } = await hub.request<{ port: number; pingFrequencyMs: number }>(
      'hubStart',
      {
        seed: 0,
        peers,
        maxConcurrentHandshakes: s.maxConcurrentHandshakes,
        maxMessageSize: MAX_MESSAGE_SIZE,
      },
    );
    await hub.request('hubRegister', { n: peers, firstSeed: 1 });
    if (isProfile) {
      const d = await profile(hub, crowds, port, s, pingFrequencyMs);
      writeJson(argv, {
        profile: { ...d, byKind: d.byKind.slice(0, 60), byHolder: d.byHolder.slice(0, 60) },
      });
      return;
    }
    const base = await hub.request<Sample>('hubSample');
    const stops = peers > 1_000 ? [1_000, peers] : [peers];
    const stages = await connectStages(hub, crowds, port, s, pingFrequencyMs, stops, false);
    log(`idle: ${s.quietSeconds} s of quiet, then ${s.idleSeconds} s of CPU time`);
    await hub.request('hubCpu', { ms: s.quietSeconds * 1000 }, s.quietSeconds * 1000 + 30_000);
    const cpuProfile = argValue(argv, '--cpu-profile');
    const allocProfile = argValue(argv, '--alloc-profile');
    const idle = await hub.request<IdleCpu>(
      'hubCpu',
      {
        ms: s.idleSeconds * 1000,
        ...(cpuProfile === undefined ? {} : { profile: resolve(cpuProfile) }),
        ...(allocProfile === undefined
          ? {}
          : { allocProfile: resolve(allocProfile), allocKept: argv.includes('--alloc-kept') }),
      },
      s.idleSeconds * 1000 + 30_000,
    );
    const after = await hub.request<Sample>('hubSample');
    const load1 = loadavg();
    const result = report(s, pingFrequencyMs, base, stages, idle, after, load0, load1);
    result.wallSeconds = round((performance.now() - t0) / 1000);
    writeJson(argv, result);
  } finally {
    await closeAll();
  }
}

function writeJson(argv: string[], result: object): void {
  const line = JSON.stringify(result);
  console.log(line);
  const file = argValue(argv, '--json');
  if (file !== undefined) writeFileSync(file, `${line}\n`);
}

function report(
  s: Settings,
  pingFrequencyMs: number,
  base: Sample,
  stages: Stage[],
  idle: IdleCpu,
  after: Sample,
  load0: number[],
  load1: number[],
): Record<string, unknown> {
  const per = (a: Sample, b: Sample, n: number, f: (x: Sample) => number): number =>
    round((f(b) - f(a)) / n / KiB, 2);
  const rows: string[][] = [['measurement', 'value', 'target']];
  // Ping rounds in the idle window: each connection pings (and is pinged) once per period, so a
  // window of k periods holds k rounds whatever the phase (a fraction: on average).
  const rounds = (s.idleSeconds * 1000) / pingFrequencyMs;
  const connectAll = stages.reduce((a, st) => a + st.seconds, 0);
  const out: Record<string, unknown> = {
    peers: s.peers,
    crowds: s.crowds,
    concurrency: s.concurrency,
    pingFrequencyMs,
    load: { start: load0, end: load1 },
    connectAllSeconds: round(connectAll, 2),
    retries: stages.reduce((a, st) => a + st.retries, 0),
    stages: stages.map((st) => ({
      peers: st.peers,
      seconds: round(st.seconds, 2),
      rssPerPeerKiB: per(base, st.sample, st.peers, (x) => x.rss),
      heapPerPeerKiB: per(base, st.sample, st.peers, liveHeap),
      youngCommittedMiB: round(st.sample.breakdown.v8NewCommitted / 1048576, 1),
    })),
    idleCpuPercent: idle.cpuPercent,
    idleCpu: {
      userMs: idle.userMs,
      systemMs: idle.systemMs,
      threadsMs: idle.threadsMs,
      gc: idle.gc,
      pingRounds: rounds,
      cpuMsPerRound: round((idle.userMs + idle.systemMs) / rounds),
    },
    idleConnected: idle.connected,
    base: { rssMiB: round(base.rss / 1048576, 1), heapMiB: round(liveHeap(base) / 1048576, 1) },
  };
  rows.push([`time to connect all ${fmt(s.peers)} (s)`, connectAll.toFixed(1), '']);
  for (const st of stages) {
    rows.push([
      `hub RSS per peer at ${fmt(st.peers)}${st.peers === s.peers ? ' (just connected)' : s.settleMs === 0 ? '' : ' (after a ping period)'} (KiB)`,
      per(base, st.sample, st.peers, (x) => x.rss).toFixed(1),
      '',
    ]);
    rows.push([
      `hub live heap per peer at ${fmt(st.peers)} (KiB, heapUsed + external)`,
      per(base, st.sample, st.peers, liveHeap).toFixed(2),
      st.peers === 1_000 ? '<= 8' : '',
    ]);
    rows.push([
      `young generation committed at ${fmt(st.peers)} (MiB)`,
      (st.sample.breakdown.v8NewCommitted / 1048576).toFixed(1),
      '',
    ]);
  }
  if (stages.length === 2) {
    const [a, b] = stages as [Stage, Stage];
    const n = b.peers - a.peers;
    // Both ends after a ping period (every per-peer series exists): 1,000 settled, N after idle.
    const marginalRss = per(a.sample, after, n, (x) => x.rss);
    const marginalHeap = per(a.sample, after, n, liveHeap);
    out.marginalRssPerPeerKiB = marginalRss;
    // Where the marginal RSS is (bench/heap.ts RssBreakdown), per peer.
    const part = (f: (x: Sample['breakdown']) => number): number =>
      round((f(after.breakdown) - f(a.sample.breakdown)) / n / KiB, 2);
    const parts = {
      v8OldKiB: part((x) => x.v8Physical - x.v8NewPhysical),
      v8YoungKiB: part((x) => x.v8NewPhysical),
      mallocKiB: part((x) => x.mallocBrk),
      otherAnonKiB: part((x) => x.anonOther),
    };
    out.marginalRssParts = parts;
    out.marginalHeapPerPeerKiB = marginalHeap;
    rows.push([
      `marginal RSS per peer, ${fmt(a.peers)} -> ${fmt(b.peers)} after idle (KiB)`,
      marginalRss.toFixed(1),
      '<= 20',
    ]);
    rows.push([
      '  of which V8 old / young generation, malloc, other (KiB)',
      `${parts.v8OldKiB} / ${parts.v8YoungKiB}, ${parts.mallocKiB}, ${parts.otherAnonKiB}`,
      '',
    ]);
    rows.push([
      `marginal live heap per peer, ${fmt(a.peers)} -> ${fmt(b.peers)} after idle (KiB)`,
      marginalHeap.toFixed(2),
      '',
    ]);
  }
  rows.push([
    `hub idle CPU, ${fmt(idle.connected)} peers, ping every ${pingFrequencyMs / 1000} s, after ${s.quietSeconds} s of quiet (% of a core)`,
    idle.cpuPercent.toFixed(2),
    '< 5',
  ]);
  rows.push([
    `  of which user / system (ms over ${s.idleSeconds} s)`,
    `${fmt(idle.userMs)} / ${fmt(idle.systemMs)}`,
    '',
  ]);
  rows.push([
    `  per ping round (${rounds.toFixed(2)} rounds in the window), CPU ms (all threads)`,
    ((idle.userMs + idle.systemMs) / rounds).toFixed(0),
    '',
  ]);
  rows.push([
    '  collections in the window: count / main-thread pause ms, by kind',
    Object.entries(idle.gc)
      .map(([k, v]) => `${k} ${v.count} / ${v.ms}`)
      .join(', '),
    '',
  ]);
  rows.push([
    '  by thread (ms)',
    Object.entries(idle.threadsMs)
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
    '',
  ]);
  out.afterIdle = {
    rssPerPeerKiB: per(base, after, s.peers, (x) => x.rss),
    heapPerPeerKiB: per(base, after, s.peers, liveHeap),
  };
  rows.push([
    `hub RSS / live heap per peer after the idle window (KiB)`,
    `${per(base, after, s.peers, (x) => x.rss).toFixed(1)} / ${per(base, after, s.peers, liveHeap).toFixed(2)}`,
    '',
  ]);
  console.log(table(rows));
  console.log(
    `load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}, at end ${load1.map((x) => x.toFixed(2)).join(' ')}`,
  );
  return out;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    void closeAll().finally(() => process.exit(1));
  },
);
