/**
 * Interleaved comparisons for the throughput benchmarks (bench/stream.ts, bench/p2p.ts): every
 * contender (authp2p's stream, a lookup pair, js-libp2p, raw node:net) runs once per round, the
 * rounds alternate their order (a b, b a, a b, ...), and each ratio is computed per round, so
 * the load drift of a shared machine moves both sides of a ratio alike instead of one half of
 * the table. Each sample carries the CPU time (user + system, `process.cpuUsage`) its client and
 * server processes spent during the run, and each round the machine's 1-minute load average.
 *
 * A contender is a pair of forked workers speaking bench/common.ts's IPC protocol (the js-libp2p
 * worker, bench/libp2p/worker.mjs, speaks the same one) with a `cpu` command.
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CPU_PROF_ARGV,
  LIBP2P,
  median,
  nowNs,
  round,
  secondsSince,
  spawnWorker,
  type THROUGHPUT_FULL,
  table,
  type Worker,
} from './common.js';

/** The authp2p stream worker (bench/stream-peer.ts), which also serves the raw TCP echo. */
const STREAM_PEER = fileURLToPath(new URL('./stream-peer.js', import.meta.url));
/** The js-libp2p worker. */
const LIBP2P_WORKER = join(LIBP2P, 'worker.mjs');

/** Contender names shared by the benchmarks. */
export const JS_LIBP2P = 'js-libp2p';
export const RAW_TCP = 'raw TCP';

/** What one run of a contender returns: named figures (MBps, msgsPerSec, p50us, ...). */
export type Figures = Readonly<Record<string, number>>;

/** One side of a comparison: a running client/server pair. */
export interface Contender {
  readonly name: string;
  /** One run of `cmd` with `params` (the contender adds its own address); the client's figures. */
  run(cmd: string, params: object): Promise<Figures>;
  /** CPU time (user + system, us) of the client and the server processes so far. */
  cpu(): Promise<{ client: number; server: number }>;
  close(): Promise<void>;
}

/** One contender's run in a round. */
export interface Sample {
  readonly figures: Figures;
  /** CPU time (us) the client / the server spent during the run (IPC calls included). */
  readonly clientCpuUs: number;
  readonly serverCpuUs: number;
}

/** One round: every contender once, and the load average when it started. */
export interface Round {
  readonly load1: number;
  readonly samples: Readonly<Record<string, Sample>>;
}

/** A figure over the rounds: median, extremes, count (NaN when no round has it). */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/**
 * A contender made of a `server` and a `client` worker of `module`; `start` (run on the server)
 * answers with the address parameters every client command gets (`{ port }`, `{ addr }`).
 */
export async function workerPair(
  name: string,
  module: string,
  start: string,
  opts: { execArgv?: (role: string) => readonly string[]; lifetimeMs?: number } = {},
): Promise<Contender> {
  const spawn = (role: string): Worker =>
    spawnWorker(module, `${name} ${role}`, {
      execArgv: opts.execArgv?.(role) ?? [],
      lifetimeMs: opts.lifetimeMs ?? 900_000,
    });
  const server = spawn('server');
  const client = spawn('client');
  let address: object;
  try {
    address = await server.request<object>(start, {}, 30_000);
  } catch (err) {
    await Promise.all([client.close(), server.close()]);
    throw err;
  }
  return {
    name,
    run: (cmd, params) => client.request<Figures>(cmd, { ...address, ...params }, 180_000),
    cpu: async () => {
      const [c, s] = await Promise.all([
        client.request<number>('cpu'),
        server.request<number>('cpu'),
      ]);
      return { client: c, server: s };
    },
    close: async () => {
      await Promise.all([client.close(), server.close()]);
    },
  };
}

/**
 * authp2p's encrypted stream between two bench/stream-peer.ts workers; `profileEnv` names an env
 * variable whose value (`server` or `client`) runs that worker with --cpu-prof.
 * `STREAM_BENCH_FLAGS` (e.g. `'--trace-gc'`) passes node flags to both workers.
 */
export function streamContender(name: string, profileEnv?: string): Promise<Contender> {
  const flags = (process.env.STREAM_BENCH_FLAGS ?? '').split(' ').filter(Boolean);
  return workerPair(name, STREAM_PEER, 'serverStart', {
    execArgv: (role) => [
      ...(profileEnv !== undefined && process.env[profileEnv] === role ? CPU_PROF_ARGV : []),
      ...flags,
    ],
  });
}

/** A raw node:net echo between two stream-peer workers (`rawRtt`): the machine's floor. */
export function rawTcpContender(): Promise<Contender> {
  return workerPair(RAW_TCP, STREAM_PEER, 'rawStart');
}

/** Whether bench/libp2p is installed (`npm run bench:setup`). */
export function libp2pInstalled(): boolean {
  return existsSync(LIBP2P_WORKER) && existsSync(join(LIBP2P, 'node_modules'));
}

/** js-libp2p (TCP + Noise + Yamux) between two bench/libp2p/worker.mjs workers. */
export function libp2pContender(): Promise<Contender> {
  return workerPair(JS_LIBP2P, LIBP2P_WORKER, 'serverStart');
}

/** Runs `call` on `c` and measures the CPU time of both its processes around it. */
async function sample(c: Contender, call: (c: Contender) => Promise<Figures>): Promise<Sample> {
  const before = await c.cpu();
  const figures = await call(c);
  const after = await c.cpu();
  return {
    figures,
    clientCpuUs: after.client - before.client,
    serverCpuUs: after.server - before.server,
  };
}

/**
 * One untimed warm-up call per contender, then `runs` rounds of one call each, the order
 * alternating between rounds (forward on even rounds, reversed on odd ones).
 */
export async function interleave(
  contenders: readonly Contender[],
  runs: number,
  call: (c: Contender) => Promise<Figures>,
): Promise<Round[]> {
  for (const c of contenders) await call(c);
  const rounds: Round[] = [];
  for (let i = 0; i < runs; i++) {
    const load1 = round(loadavg()[0]!, 2);
    const order = i % 2 === 0 ? contenders : [...contenders].reverse();
    const samples: Record<string, Sample> = {};
    for (const c of order) samples[c.name] = await sample(c, call);
    rounds.push({ load1, samples });
  }
  return rounds;
}

/** The spread of `f` over the rounds where it is defined (a finite number). */
export function spread(rounds: readonly Round[], f: (r: Round) => number | undefined): Spread {
  const xs = rounds.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (xs.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** The spread of figure `key` of contender `name`. */
export function figure(rounds: readonly Round[], name: string, key: string): Spread {
  return spread(rounds, (r) => r.samples[name]?.figures[key]);
}

/** The spread of the per-round ratio `key(a) / key(b)`. */
export function ratio(rounds: readonly Round[], a: string, b: string, key: string): Spread {
  return spread(rounds, (r) => {
    const x = r.samples[a]?.figures[key];
    const y = r.samples[b]?.figures[key];
    return x === undefined || y === undefined ? undefined : x / y;
  });
}

/** The spread of CPU time per unit (`units` per run) of the client or the server of `name`. */
export function cpuPerUnit(
  rounds: readonly Round[],
  name: string,
  side: 'client' | 'server',
  units: number,
): Spread {
  return spread(rounds, (r) => {
    const s = r.samples[name];
    if (s === undefined) return undefined;
    return (side === 'client' ? s.clientCpuUs : s.serverCpuUs) / units;
  });
}

/** The load average of every round, in order. */
export function loads(rounds: readonly Round[]): number[] {
  return rounds.map((r) => r.load1);
}

/** `median [min-max]` with `digits` decimals and a suffix (`x`, ` us`); 'n/a' when unknown. */
export function fmtSpread(s: Spread | undefined, digits = 2, suffix = ''): string {
  if (s === undefined || s.n === 0) return 'n/a';
  const f = (x: number): string => x.toFixed(digits);
  return s.n === 1
    ? `${f(s.median)}${suffix}`
    : `${f(s.median)}${suffix} [${f(s.min)}-${f(s.max)}]`;
}

/** What the JSON output keeps of a list of rounds: loads, and every sample's figures and CPU. */
export function roundsJson(rounds: readonly Round[]): unknown {
  return rounds.map((r) => ({
    load1: r.load1,
    ...Object.fromEntries(
      Object.entries(r.samples).map(([k, s]) => [
        k,
        { ...s.figures, clientCpuUs: s.clientCpuUs, serverCpuUs: s.serverCpuUs },
      ]),
    ),
  }));
}

// ---------- Steps and the comparison table ----------

/** A figure a step reports. */
export interface FigureSpec {
  readonly key: string;
  readonly unit: string;
  readonly digits: number;
  /** Times: lower is better (the ratio still reads ours / theirs). */
  readonly lowerIsBetter?: boolean;
  readonly target: string;
}

/** One interleaved measurement: its contenders, its call, what it reports. */
export interface Step {
  /** The `--only` name it belongs to. */
  readonly key: string;
  /** Its row label. */
  readonly name: string;
  readonly makers: readonly (() => Promise<Contender>)[];
  readonly call: (c: Contender) => Promise<Figures>;
  /** Units per run (messages, MB, trips, connections) for CPU per unit. */
  readonly units: number;
  readonly cpuUnit: string;
  readonly figures: readonly FigureSpec[];
  /** A contender whose `p50us` is the floor the others' `p50us` is reported above. */
  readonly floor?: string;
  readonly floorTarget?: string;
}

const cell = (s: Spread, digits: number): string =>
  s.n === 0 ? 'n/a' : s.n === 1 ? s.median.toFixed(digits) : fmtSpread(s, digits);

/**
 * Prints one table over the steps run: `ours` against every name in `refs` (the ones a step
 * has), each cell the median of the rounds with its range, each ratio the median of the
 * per-round ratios with its range; then the load average of every round of every step.
 */
export function printComparison(
  done: readonly { readonly step: Step; readonly rounds: readonly Round[] }[],
  ours: string,
  refs: readonly string[],
): void {
  const header = ['measurement', ours, ...refs, 'unit', ...refs.map((r) => `${ours}/${r}`)];
  header.push('target');
  const rows: string[][] = [header];
  for (const { step, rounds } of done) {
    const has = (name: string): boolean => rounds.some((r) => r.samples[name] !== undefined);
    for (const f of step.figures) {
      rows.push([
        `${step.name} ${f.key}`,
        cell(figure(rounds, ours, f.key), f.digits),
        ...refs.map((r) => (has(r) ? cell(figure(rounds, r, f.key), f.digits) : '')),
        f.unit,
        ...refs.map((r) => (has(r) ? fmtSpread(ratio(rounds, ours, r, f.key), 2, 'x') : '')),
        f.target,
      ]);
    }
    const total = (name: string): Spread =>
      spread(rounds, (r) => {
        const s = r.samples[name];
        return s === undefined ? undefined : (s.clientCpuUs + s.serverCpuUs) / step.units;
      });
    const cpu = (name: string): string => {
      if (!has(name)) return '';
      const c = cpuPerUnit(rounds, name, 'client', step.units).median;
      const s = cpuPerUnit(rounds, name, 'server', step.units).median;
      return `${c.toFixed(2)} / ${s.toFixed(2)}`;
    };
    rows.push([
      `  CPU us/${step.cpuUnit} client / server`,
      cpu(ours),
      ...refs.map(cpu),
      'us',
      ...refs.map((r) =>
        has(r)
          ? fmtSpread(
              spread(rounds, (x) => {
                const a = x.samples[ours];
                const b = x.samples[r];
                if (a === undefined || b === undefined) return undefined;
                return (a.clientCpuUs + a.serverCpuUs) / (b.clientCpuUs + b.serverCpuUs);
              }),
              2,
              'x',
            )
          : '',
      ),
      `total ${cell(total(ours), 2)} us`,
    ]);
    const floor = step.floor;
    if (floor !== undefined && has(floor)) {
      const above = (name: string): Spread =>
        spread(rounds, (r) => {
          const x = r.samples[name]?.figures.p50us;
          const y = r.samples[floor]?.figures.p50us;
          return x === undefined || y === undefined ? undefined : x - y;
        });
      rows.push([
        `  ${floor} p50 (the floor, same rounds)`,
        cell(figure(rounds, floor, 'p50us'), 1),
        ...refs.map(() => ''),
        'us',
        ...refs.map(() => ''),
        '',
      ]);
      rows.push([
        '  p50 above the floor',
        cell(above(ours), 1),
        ...refs.map((r) => (has(r) ? cell(above(r), 1) : '')),
        'us',
        ...refs.map((r) =>
          has(r)
            ? fmtSpread(
                spread(rounds, (x) => {
                  const o = x.samples[ours]?.figures.p50us;
                  const t = x.samples[r]?.figures.p50us;
                  const y = x.samples[floor]?.figures.p50us;
                  if (o === undefined || t === undefined || y === undefined) return undefined;
                  return (o - y) / (t - y);
                }),
                2,
                'x',
              )
            : '',
        ),
        step.floorTarget ?? '',
      ]);
    }
  }
  console.log(table(rows));
  console.log('\nload average (1 min) at the start of each round:');
  for (const { step, rounds } of done) console.log(`  ${step.name}: ${loads(rounds).join(' ')}`);
}

/** The targets printed beside the shared throughput steps. */
export interface ThroughputTargets {
  readonly bulk: string;
  readonly msgs: string;
  readonly rttP50: string;
  /** The target of the round trip's p50 above the raw TCP floor. */
  readonly floor: string;
}

/**
 * The throughput measurements both benchmarks share (bulk, one-way 32 B and 1 KiB, round trip
 * with the raw TCP floor) over the contenders `sides` makes; each contender's `run` takes the
 * commands `bulk`, `msgs` and `rtt` with bench/libp2p/run.mjs's parameters.
 */
export function throughputSteps(
  cfg: typeof THROUGHPUT_FULL,
  sides: readonly (() => Promise<Contender>)[],
  targets: ThroughputTargets,
): Step[] {
  const msgs = (label: string, size: number, count: number): Step => ({
    key: 'msgs',
    name: `one-way ${label}`,
    makers: sides,
    call: (c) => c.run('msgs', { size, count }),
    units: count,
    cpuUnit: 'msg',
    figures: [{ key: 'msgsPerSec', unit: 'msg/s', digits: 0, target: targets.msgs }],
  });
  return [
    {
      key: 'bulk',
      name: 'bulk 64 KiB messages',
      makers: sides,
      call: (c) => c.run('bulk', cfg.bulk),
      units: cfg.bulk.totalBytes / 1e6,
      cpuUnit: 'MB',
      figures: [{ key: 'MBps', unit: 'MB/s', digits: 1, target: targets.bulk }],
    },
    msgs('32 B', cfg.msgs[0]!.size, cfg.msgs[0]!.count),
    msgs('1 KiB', cfg.msgs[1]!.size, cfg.msgs[1]!.count),
    {
      key: 'rtt',
      name: 'round trip 32 B',
      makers: [...sides, rawTcpContender],
      call: (c) => c.run(c.name === RAW_TCP ? 'rawRtt' : 'rtt', cfg.rtt),
      units: cfg.rtt.warmup + cfg.rtt.count,
      cpuUnit: 'trip',
      floor: RAW_TCP,
      figures: [
        { key: 'p50us', unit: 'us', digits: 1, lowerIsBetter: true, target: targets.rttP50 },
        { key: 'p99us', unit: 'us', digits: 1, lowerIsBetter: true, target: '' },
      ],
      floorTarget: targets.floor,
    },
  ];
}

/**
 * Runs the steps whose `key` is in `only`: for each, starts its contenders, runs `runs`
 * interleaved rounds and closes them; progress on stderr under `tag`.
 */
export async function runSteps(
  steps: readonly Step[],
  only: readonly string[],
  runs: number,
  tag: string,
): Promise<{ step: Step; rounds: Round[] }[]> {
  const done: { step: Step; rounds: Round[] }[] = [];
  for (const step of steps) {
    if (!only.includes(step.key)) continue;
    const t0 = nowNs();
    process.stderr.write(`[${tag}] ${step.name} ...`);
    const contenders: Contender[] = [];
    try {
      for (const make of step.makers) contenders.push(await make());
      done.push({ step, rounds: await interleave(contenders, runs, step.call) });
    } finally {
      await Promise.all(contenders.map((c) => c.close()));
    }
    process.stderr.write(` done in ${secondsSince(t0).toFixed(1)} s\n`);
  }
  return done;
}
