/**
 * The stream benchmark: authp2p's encrypted stream between two processes over loopback TCP, side
 * by side with js-libp2p (TCP + Noise + Yamux) when bench/libp2p is installed.
 *
 * Usage: node build/bench/stream.js [--quick] [--only bulk,msgs,rtt,conns] [--no-libp2p]
 *        [--json FILE] [--app-heap-mb N] (every worker holds N MB of live state: bench/app-heap.ts)
 *
 * Measurements (same sizes, counts, runs and clocks as bench/libp2p/run.mjs, PROTOCOL there):
 *   1. bulk: 256 MiB (quick 64) as 64 KiB messages, sendMany batches of 16; MB/s (10^6 bytes).
 *   2. one-way message rate, 32 B x 200 000 and 1 KiB x 100 000 (quick 50 000 / 25 000), sender
 *      uses sendMany batches of 256, counted at the receiver, which acks after the last one.
 *   3. round trip: 32 B request echoed, 1 000 warm-up + 10 000 timed; p50 / p99 in us.
 *   4. connections/s: 400 (quick 160) fresh connections, 16 in flight, each = TCP connect +
 *      handshake + one 32 B echo + close; after 200 (quick 100) untimed ones.
 * authp2p and js-libp2p are interleaved (bench/interleave.ts): each measurement starts one
 * worker pair per side, runs each once untimed, then RUNS (5, quick 3) rounds of one run per side,
 * alternating the order. Reported: the median of each side's runs, the median of the per-round
 * ratios with their range, CPU time per unit of each process (process.cpuUsage around every run;
 * on a shared 2-core machine far steadier than wall-clock rates), and the load average of every
 * round. The round trip also runs a raw node:net echo in every round (the machine's floor at that
 * moment), and reports each side's p50 above it. STREAM_BENCH_PROF=server|client writes a
 * --cpu-prof profile of that authp2p worker to ./prof; STREAM_BENCH_FLAGS passes node flags (e.g.
 * --trace-gc) to both authp2p workers.
 */

import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { cryptoBackend } from '../src/crypto/backend.js';
import { appHeapFromArgs, argValue, THROUGHPUT_FULL, THROUGHPUT_QUICK } from './common.js';
import {
  type Contender,
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

const FULL = {
  ...THROUGHPUT_FULL,
  conns: { total: 400, concurrency: 16 },
};
const QUICK: typeof FULL = {
  ...THROUGHPUT_QUICK,
  conns: { total: 160, concurrency: 16 },
};
type Settings = typeof FULL;

const AUTHP2P = 'authp2p';

/** The measurements, as interleaved steps (see bench/interleave.ts `printComparison`). */
function steps(cfg: Settings, withLibp2p: boolean): Step[] {
  const authp2p = (): Promise<Contender> => streamContender(AUTHP2P, 'STREAM_BENCH_PROF');
  const sides = withLibp2p ? [authp2p, libp2pContender] : [authp2p];
  return [
    ...throughputSteps(cfg, sides, {
      bulk: '>= 2.5x',
      msgs: '>= 10x',
      rttP50: '<= 0.4x',
      floor: '<= 0.2x',
    }),
    {
      key: 'conns',
      name: 'connections/s (16 in flight)',
      makers: sides,
      call: (c) => c.run('conns', cfg.conns),
      units: cfg.conns.total,
      cpuUnit: 'conn',
      figures: [
        { key: 'perSec', unit: 'conn/s', digits: 1, target: '>= 5x' },
        { key: 'latencyP50ms', unit: 'ms', digits: 2, lowerIsBetter: true, target: '' },
      ],
    },
  ];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const appHeapMb = appHeapFromArgs(argv);
  const withLibp2p = !argv.includes('--no-libp2p') && libp2pInstalled();
  if (!argv.includes('--no-libp2p') && !withLibp2p) {
    process.stderr.write('[stream bench] bench/libp2p not installed: authp2p column only\n');
  }
  const only = (argValue(argv, '--only') ?? 'bulk,msgs,rtt,conns').split(',');
  const jsonFile = argValue(argv, '--json');
  const cfg = quick ? QUICK : FULL;
  const loadStart = loadavg()[0]!;
  const done = await runSteps(steps(cfg, withLibp2p), only, cfg.runs, 'stream bench');
  console.log(
    `\nauthp2p stream vs js-libp2p (${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'})` +
      `${quick ? ' [quick]' : ''}, crypto ${cryptoBackend()}, ${cfg.runs} interleaved rounds, ` +
      `${appHeapMb > 0 ? `${appHeapMb} MB of application state per worker, ` : ''}load average ${loadStart.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}\n`,
  );
  printComparison(done, AUTHP2P, withLibp2p ? [JS_LIBP2P] : []);
  const json = {
    quick,
    runs: cfg.runs,
    appHeapMb,
    cryptoBackend: cryptoBackend(),
    rounds: Object.fromEntries(done.map((d) => [d.step.name, roundsJson(d.rounds)])),
  };
  if (jsonFile !== undefined) writeFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
