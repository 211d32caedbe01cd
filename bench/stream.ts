/**
 * The stream benchmark: authp2p's encrypted stream between two processes over loopback TCP, side
 * by side with js-libp2p (TCP + Noise + Yamux) when bench/libp2p is installed.
 *
 * Usage: node build/bench/stream.js [--quick] [--only bulk,msgs,rtt,conns] [--no-libp2p]
 *        [--json FILE]
 *
 * Measurements (same sizes, counts, runs and clocks as bench/libp2p/run.mjs, PROTOCOL there):
 *   1. bulk: 256 MiB (quick 64) as 64 KiB messages, sendMany batches of 16; MB/s (10^6 bytes).
 *   2. one-way message rate, 32 B x 200 000 and 1 KiB x 100 000 (quick 50 000 / 25 000), sender
 *      uses sendMany batches of 256, counted at the receiver, which acks after the last one.
 *   3. round trip: 32 B request echoed, 1 000 warm-up + 10 000 timed; p50 / p99 in us.
 *   4. connections/s: 400 (quick 160) fresh connections, 16 in flight, each = TCP connect +
 *      handshake + one 32 B echo + close; after 200 (quick 100) untimed ones.
 * Each is run once untimed, then RUNS (5, quick 3) times; the median is reported. Alongside the
 * rates, CPU time per message / per connection (process.cpuUsage of each side) is reported: on a
 * shared 2-core machine it is far more stable than wall-clock throughput. A raw node:net echo
 * gives the round-trip floor of the machine. STREAM_BENCH_PROF=server|client writes a
 * --cpu-prof profile of that worker to ./prof.
 */

import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cryptoBackend } from '../src/crypto/backend.js';
import {
  argValue,
  CPU_PROF_ARGV,
  fmt,
  LIBP2P,
  median,
  nowNs,
  runJson,
  secondsSince,
  spawnWorker,
  THROUGHPUT_FULL,
  THROUGHPUT_QUICK,
  table,
  type Worker,
} from './common.js';

const PEER = fileURLToPath(new URL('./stream-peer.js', import.meta.url));

const FULL = {
  ...THROUGHPUT_FULL,
  conns: { total: 400, concurrency: 16, warmupTotal: 200 },
};
const QUICK: typeof FULL = {
  ...THROUGHPUT_QUICK,
  conns: { total: 160, concurrency: 16, warmupTotal: 100 },
};
type Settings = typeof FULL;

// ---------- Helpers ----------

function spawnPeer(name: string): Worker {
  return spawnWorker(PEER, name, {
    execArgv: process.env.STREAM_BENCH_PROF === name ? CPU_PROF_ARGV : [],
  });
}

async function withPair<T>(
  fn: (client: Worker, port: number, server: Worker) => Promise<T>,
  start = 'serverStart',
): Promise<T> {
  const server = spawnPeer('server');
  const client = spawnPeer('client');
  try {
    const { port } = await server.request<{ port: number }>(start);
    return await fn(client, port, server);
  } finally {
    await Promise.all([client.close(), server.close()]);
  }
}

async function repeat<T>(client: Worker, cmd: string, params: object, runs: number): Promise<T[]> {
  await client.request(cmd, params);
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await client.request<T>(cmd, params));
  return out;
}

// ---------- Measurements ----------

interface BulkRun {
  MBps: number;
  senderCpuMBps?: number;
  receiverCpuMBps?: number;
}
interface MsgsRun {
  msgsPerSec: number;
  senderCpuUsPerMsg?: number;
  receiverCpuUsPerMsg?: number;
}
interface MsgsResult {
  msgsPerSec: number;
  senderCpuUsPerMsg?: number;
  receiverCpuUsPerMsg?: number;
  runs: MsgsRun[];
}

interface LatencyRun {
  p50us: number;
  p99us: number;
}
interface Latency extends LatencyRun {
  runs: LatencyRun[];
}

interface ConnsRun {
  perSec: number;
  latencyP50ms: number;
  latencyP99ms: number;
  clientCpuUsPerConn?: number;
  serverCpuUsPerConn?: number;
}

interface Results {
  bulk?: { MBps: number; senderCpuMBps?: number; receiverCpuMBps?: number; runs: BulkRun[] };
  msgRate32B?: MsgsResult;
  msgRate1KiB?: MsgsResult;
  rtt32B?: Latency;
  /** Raw node:net echo between the same two kinds of process: the floor for any protocol. */
  rawRtt32B?: Latency;
  connsPerSec?: {
    perSec: number;
    clientCpuUsPerConn?: number;
    serverCpuUsPerConn?: number;
    latencyP50ms: number;
    latencyP99ms: number;
    runs: ConnsRun[];
  };
}

async function measure(cfg: Settings, want: (k: string) => boolean): Promise<Results> {
  const out: Results = {};
  const step = async (key: string, fn: () => Promise<void>): Promise<void> => {
    if (!want(key)) return;
    const t0 = nowNs();
    process.stderr.write(`[stream bench] authp2p ${key} ...`);
    await fn();
    process.stderr.write(` done in ${secondsSince(t0).toFixed(1)} s\n`);
  };
  await step('bulk', () =>
    withPair(async (client, port) => {
      const runs = await repeat<BulkRun>(client, 'bulk', { port, ...cfg.bulk }, cfg.runs);
      out.bulk = {
        MBps: median(runs.map((r) => r.MBps)),
        senderCpuMBps: median(runs.map((r) => r.senderCpuMBps ?? Number.NaN)),
        receiverCpuMBps: median(runs.map((r) => r.receiverCpuMBps ?? Number.NaN)),
        runs,
      };
    }),
  );
  await step('msgs', () =>
    withPair(async (client, port) => {
      for (const m of cfg.msgs) {
        const runs = await repeat<MsgsRun>(
          client,
          'msgs',
          { port, size: m.size, count: m.count },
          cfg.runs,
        );
        out[m.key as 'msgRate32B' | 'msgRate1KiB'] = {
          msgsPerSec: median(runs.map((r) => r.msgsPerSec)),
          senderCpuUsPerMsg: median(runs.map((r) => r.senderCpuUsPerMsg ?? Number.NaN)),
          receiverCpuUsPerMsg: median(runs.map((r) => r.receiverCpuUsPerMsg ?? Number.NaN)),
          runs,
        };
      }
    }),
  );
  // The encrypted stream's round trip, then raw node:net's between the same kinds of process.
  const rtt = (cmd: string, start: string): Promise<Latency> =>
    withPair(async (client, port) => {
      const runs = await repeat<LatencyRun>(client, cmd, { port, ...cfg.rtt }, cfg.runs);
      return {
        p50us: median(runs.map((r) => r.p50us)),
        p99us: median(runs.map((r) => r.p99us)),
        runs,
      };
    }, start);
  await step('rtt', async () => {
    out.rtt32B = await rtt('rtt', 'serverStart');
  });
  await step('rtt', async () => {
    out.rawRtt32B = await rtt('rawRtt', 'rawStart');
  });
  await step('conns', () =>
    withPair(async (client, port, server) => {
      const { total, concurrency, warmupTotal } = cfg.conns;
      await client.request('conns', { port, total: warmupTotal, concurrency });
      const runs: ConnsRun[] = [];
      for (let i = 0; i < cfg.runs; i++) {
        const before = await server.request<number>('cpu');
        const run = await client.request<ConnsRun>('conns', { port, total, concurrency });
        const after = await server.request<number>('cpu');
        runs.push({ ...run, serverCpuUsPerConn: Math.round((after - before) / total) });
      }
      out.connsPerSec = {
        perSec: median(runs.map((r) => r.perSec)),
        clientCpuUsPerConn: median(runs.map((r) => r.clientCpuUsPerConn ?? Number.NaN)),
        serverCpuUsPerConn: median(runs.map((r) => r.serverCpuUsPerConn ?? Number.NaN)),
        latencyP50ms: median(runs.map((r) => r.latencyP50ms)),
        latencyP99ms: median(runs.map((r) => r.latencyP99ms)),
        runs,
      };
    }),
  );
  return out;
}

/** Runs bench/libp2p/run.mjs (when installed) and returns its JSON result. */
async function libp2p(quick: boolean, only: string[]): Promise<Results | undefined> {
  if (!existsSync(join(LIBP2P, 'run.mjs')) || !existsSync(join(LIBP2P, 'node_modules'))) {
    process.stderr.write('[stream bench] bench/libp2p not installed: authp2p column only\n');
    return undefined;
  }
  const args = ['--only', only.join(','), ...(quick ? ['--quick'] : [])];
  process.stderr.write(`[stream bench] js-libp2p: node bench/libp2p/run.mjs ${args.join(' ')}\n`);
  return (await runJson(join(LIBP2P, 'run.mjs'), args, { tmpPrefix: 'stream-bench-' })) as
    | Results
    | undefined;
}

// ---------- Output ----------

interface Row {
  name: string;
  unit: string;
  digits: number;
  ours: number | undefined;
  theirs: number | undefined;
  /** True for times (lower is better). */
  lowerIsBetter?: boolean;
  /** An authp2p-only row whose two columns are sender and receiver: no ratio. */
  info?: boolean;
  target: string;
}

function rows(a: Results, b: Results | undefined): Row[] {
  return [
    {
      name: 'bulk 64 KiB messages',
      unit: 'MB/s',
      digits: 1,
      ours: a.bulk?.MBps,
      theirs: b?.bulk?.MBps,
      target: '>= 2.5x',
    },
    {
      name: '  bulk CPU capacity send / recv',
      unit: 'MB/cpu-s',
      digits: 0,
      ours: a.bulk?.senderCpuMBps,
      theirs: a.bulk?.receiverCpuMBps,
      target: 'info',
      info: true,
    },
    {
      name: 'one-way 32 B',
      unit: 'msg/s',
      digits: 0,
      ours: a.msgRate32B?.msgsPerSec,
      theirs: b?.msgRate32B?.msgsPerSec,
      target: '>= 10x',
    },
    {
      name: '  32 B CPU us/msg send / recv',
      unit: 'us',
      digits: 2,
      ours: a.msgRate32B?.senderCpuUsPerMsg,
      theirs: a.msgRate32B?.receiverCpuUsPerMsg,
      target: 'info',
      info: true,
    },
    {
      name: 'one-way 1 KiB',
      unit: 'msg/s',
      digits: 0,
      ours: a.msgRate1KiB?.msgsPerSec,
      theirs: b?.msgRate1KiB?.msgsPerSec,
      target: '>= 10x',
    },
    {
      name: '  1 KiB CPU us/msg send / recv',
      unit: 'us',
      digits: 2,
      ours: a.msgRate1KiB?.senderCpuUsPerMsg,
      theirs: a.msgRate1KiB?.receiverCpuUsPerMsg,
      target: 'info',
      info: true,
    },
    {
      name: 'round trip 32 B p50',
      unit: 'us',
      digits: 1,
      ours: a.rtt32B?.p50us,
      theirs: b?.rtt32B?.p50us,
      lowerIsBetter: true,
      target: '<= 0.4x',
    },
    {
      name: 'round trip 32 B p99',
      unit: 'us',
      digits: 1,
      ours: a.rtt32B?.p99us,
      theirs: b?.rtt32B?.p99us,
      lowerIsBetter: true,
      target: '',
    },
    {
      name: '  raw TCP round trip p50 (floor)',
      unit: 'us',
      digits: 1,
      ours: a.rawRtt32B?.p50us,
      theirs: undefined,
      lowerIsBetter: true,
      target: '',
    },
    {
      name: 'connections/s (16 in flight)',
      unit: 'conn/s',
      digits: 1,
      ours: a.connsPerSec?.perSec,
      theirs: b?.connsPerSec?.perSec,
      target: '>= 5x',
    },
    {
      name: '  CPU us/conn dialer / listener',
      unit: 'us',
      digits: 0,
      ours: a.connsPerSec?.clientCpuUsPerConn,
      theirs: a.connsPerSec?.serverCpuUsPerConn,
      target: 'info',
      info: true,
    },
    {
      name: '  connection latency p50',
      unit: 'ms',
      digits: 2,
      ours: a.connsPerSec?.latencyP50ms,
      theirs: b?.connsPerSec?.latencyP50ms,
      lowerIsBetter: true,
      target: '',
    },
  ];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const noLibp2p = argv.includes('--no-libp2p');
  const only = (argValue(argv, '--only') ?? 'bulk,msgs,rtt,conns').split(',');
  const jsonFile = argValue(argv, '--json');
  const cfg = quick ? QUICK : FULL;
  const want = (k: string): boolean => only.includes(k);
  const loadStart = loadavg()[0]!;
  const ours = await measure(cfg, want);
  const theirs = noLibp2p ? undefined : await libp2p(quick, only);
  const out = rows(ours, theirs);
  const header = [
    'measurement',
    'authp2p',
    'js-libp2p',
    'unit',
    'authp2p/libp2p',
    'speedup',
    'target',
  ];
  const body = out.map((r) => {
    // ratio = authp2p / libp2p for every row (so a time target reads "<= 0.4x"); speedup is the
    // same for throughput and libp2p / authp2p for times (how many times faster authp2p is).
    if (r.info) {
      return [r.name, fmt(r.ours, r.digits), fmt(r.theirs, r.digits), r.unit, '', '', ''];
    }
    const known = r.ours !== undefined && r.theirs !== undefined;
    const ratio = known ? r.ours! / r.theirs! : undefined;
    const speedup = ratio === undefined ? undefined : r.lowerIsBetter ? 1 / ratio : ratio;
    const x = (v: number | undefined): string => (v === undefined ? 'n/a' : `${v.toFixed(2)}x`);
    return [
      r.name,
      fmt(r.ours, r.digits),
      fmt(r.theirs, r.digits),
      r.unit,
      x(ratio),
      x(speedup),
      r.target,
    ];
  });
  console.log(
    `\nauthp2p stream vs js-libp2p (${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'})` +
      `${quick ? ' [quick]' : ''}, crypto ${cryptoBackend()}, median of ${cfg.runs} runs, load average ${loadStart.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}\n`,
  );
  console.log(table([header, ...body]));
  const json = {
    authp2p: ours,
    libp2p: theirs ?? null,
    quick,
    runs: cfg.runs,
    cryptoBackend: cryptoBackend(),
  };
  console.log(`\n${JSON.stringify(json, null, 2)}`);
  if (jsonFile !== undefined) writeFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
