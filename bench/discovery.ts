/**
 * The discovery and tracker scale benchmark (`npm run bench:discovery`).
 *
 * Usage: node --expose-gc build/bench/discovery.js [--quick] [--only scale,memory,converge,loopback]
 *        [--peers N] [--sizes 100,300] [--loopback-peers N] [--converge-wall-s S] [--json FILE]
 *        (1,000 peers: node --expose-gc --max-old-space-size=16000 build/bench/discovery.js
 *        --only converge --sizes 1000 --converge-wall-s 1500)
 *
 * Measurements (each part runs in its own forked process, so heaps and JIT state do not mix):
 *   1. scale: a 65,536-peer set (`--peers`) registered at index 0 through the real tracker actor
 *      (mailbox `register`, then `peerSet(0)` resolves: the tracker has applied it) on the Node
 *      runtime, discovery and lookup; the longest event-loop turn meanwhile (a setImmediate
 *      chain; see discovery-tracker.ts) and the GC pauses inside the window. Then (discovery)
 *      256 records are made discovered and connected (fake Infos and PeerControls) and one of
 *      them sends an all-clear BitVec over the 65,536 bits: time until its answer (capped at
 *      peerGossipMaxCount = 32 Infos). Then the dialer's `dialable()` over the set. 3 runs per
 *      flavour (quick 1), each on a new tracker; the keys are made once. Then the same
 *      registration in a bare directory, its steps timed one by one (the longest step's CPU
 *      time: what the turn figures cannot go below, and, unlike them, not moved by load).
 *   2. memory: heap (heapUsed + external, after 4 forced GCs) before and after the registration
 *      of the 65,536-peer set, per peer; keys (and lookup addresses) made before the first
 *      sample, as the application holds them.
 *   3. converge: n discovery peers (100, 300; quick 100) on the deterministic runtime's simulated
 *      network, `Config.local`, all bootstrapped from peer 0 (which knows nobody), all
 *      registering the set of all n: virtual time until every peer's tracker holds an Info of
 *      every other peer (its `updates{peer}` counter), in gossip periods, beside log2(n); for
 *      n <= 100 also until a full mesh.
 *   4. loopback: 100 discovery peers on 127.0.0.1 in this process (`Config.local` defaults,
 *      ports bound first): wall time until every record is known, then until a full mesh,
 *      polled every second; bounded at 170 s.
 *
 * Output: progress on stderr; a table, then one JSON line, on stdout.
 *
 * @module
 */

import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { argValue, fmt, median, round, runJson, table } from './common.js';
import { type Convergence, converge } from './discovery-mesh.js';
import {
  type DirectorySteps,
  directorySteps,
  type Flavour,
  makeKeys,
  type OracleRegister,
  oracleRegister,
  type TrackerMemory,
  type TrackerScale,
  trackerMemory,
  trackerScale,
} from './discovery-tracker.js';

const argv = process.argv.slice(2);
const SELF = fileURLToPath(import.meta.url);
const QUICK = argv.includes('--quick');
const PEERS = Number(argValue(argv, '--peers') ?? 65_536);
const SIZES = (argValue(argv, '--sizes') ?? (QUICK ? '100' : '100,300')).split(',').map(Number);
const LOOPBACK_PEERS = Number(argValue(argv, '--loopback-peers') ?? 100);
const RUNS = QUICK ? 1 : 3;
/** Wall-time bound of one convergence run (s); its forked process gets 20 s more. */
const CONVERGE_WALL_S = Number(argValue(argv, '--converge-wall-s') ?? 280);
const log = (msg: string): void => void process.stderr.write(`[bench:discovery] ${msg}\n`);

// ---------- Parts (each in its own process) ----------

/** The scale part's result: the tracker runs per flavour, and the oracle's caller-side calls. */
type Scale = Record<Flavour, TrackerScale[]> & {
  /** Lookup with its input made old before the call (see `trackerScale`'s `agedInput`). */
  lookupAged?: TrackerScale[];
  oracle: OracleRegister[];
  steps?: DirectorySteps[];
};

async function part(name: string): Promise<unknown> {
  switch (name) {
    case 'scale': {
      const keys = makeKeys(PEERS);
      const out: Scale = { discovery: [], lookup: [], oracle: [], steps: [] };
      for (const f of ['discovery', 'lookup'] as const) {
        for (let r = 0; r < RUNS; r++) out[f].push(await trackerScale(f, keys));
      }
      out.lookupAged = [];
      for (let r = 0; r < RUNS; r++) {
        out.lookupAged.push(await trackerScale('lookup', keys, undefined, true));
      }
      for (const f of ['discovery', 'lookup'] as const) {
        for (let r = 0; r < RUNS; r++) out.steps!.push(directorySteps(f, keys));
      }
      for (const input of ['discovery', 'lookup', 'lookup-v6'] as const) {
        for (let r = 0; r < RUNS; r++) out.oracle.push(await oracleRegister(input, keys));
      }
      return out;
    }
    case 'memory-discovery':
    case 'memory-lookup': {
      const keys = makeKeys(PEERS);
      return trackerMemory(name === 'memory-lookup' ? 'lookup' : 'discovery', keys);
    }
    case 'converge': {
      const n = Number(argValue(argv, '--n'));
      return converge({
        n,
        runtime: 'deterministic',
        // The full mesh too where it fits the time (300 peers: 44,850 connections).
        mesh: n <= 100,
        limitMs: 600_000,
        wallLimitMs: CONVERGE_WALL_S * 1000,
        // A pass over the n * (n - 1) counters costs ~1 us each: poll less often when large.
        stepMs: n > 300 ? 1_000 : 250,
        onProgress: ([t, missing, conns, heap, wall]) =>
          log(
            `converge n=${n}: ${fmt(t / 1000, 0)} s virtual, ${fmt(missing)} unknown, ${fmt(conns)} connections, heap ${fmt(heap)} MiB, ${wall} s wall`,
          ),
      });
    }
    case 'loopback':
      return converge({
        n: LOOPBACK_PEERS,
        runtime: 'loopback',
        mesh: true,
        limitMs: 170_000,
        wallLimitMs: 170_000,
        // One pass over the 9,900 counters takes up to ~90 ms at the start: polling more often
        // would slow the peers it measures.
        stepMs: 1_000,
      });
    default:
      throw new Error(`unknown part ${name}`);
  }
}

async function forkPart(name: string, extra: string[] = [], limitMs = 300_000): Promise<unknown> {
  log(`${name} ${extra.join(' ')}`);
  const passed: string[] = argv.filter((a) => a === '--quick');
  for (const flag of ['--peers', '--loopback-peers', '--converge-wall-s']) {
    const v = argValue(argv, flag);
    if (v !== undefined) passed.push(flag, v);
  }
  const result = await runJson(SELF, ['--part', name, ...passed, ...extra], {
    // A larger heap given to this process (--max-old-space-size) goes to the part too.
    execArgv: ['--expose-gc', ...process.execArgv.filter((a) => a.startsWith('--max-old'))],
    limitMs,
    tmpPrefix: 'bench-discovery-',
  });
  if (result === undefined) log(`${name}: no result (crashed or over ${limitMs} ms)`);
  return result;
}

// ---------- Output ----------

const ms = (x: number | undefined): string => fmt(x, 1);
const worst = (xs: readonly number[]): number => Math.max(...xs);
const verdict = (ok: boolean | undefined): string =>
  ok === undefined ? 'n/a' : ok ? 'met' : 'missed';

function report(results: {
  scale?: Scale | undefined;
  memory: Partial<Record<Flavour, TrackerMemory>>;
  converge: Convergence[];
  loopback?: Convergence | undefined;
}): string {
  const rows: string[][] = [['measurement', 'median', 'worst', 'target', 'verdict']];
  const s = results.scale;
  if (s !== undefined) {
    for (const f of ['discovery', 'lookup'] as const) {
      const runs = s[f];
      const reg = runs.map((r) => r.register);
      rows.push([
        `${f}: register ${fmt(PEERS)} peers, total (ms)`,
        ms(median(reg.map((r) => r.ms))),
        ms(worst(reg.map((r) => r.ms))),
        '<= 250',
        verdict(median(reg.map((r) => r.ms)) <= 250),
      ]);
      rows.push([
        `${f}: register, longest turn (ms)`,
        ms(median(reg.map((r) => r.maxTurnMs))),
        ms(worst(reg.map((r) => r.maxTurnMs))),
        '<= 10',
        verdict(worst(reg.map((r) => r.maxTurnMs)) <= 10),
      ]);
      rows.push([
        `${f}: register, CPU time of the most used turn (ms; load moves it less)`,
        ms(median(reg.map((r) => r.maxTurnCpuMs))),
        ms(worst(reg.map((r) => r.maxTurnCpuMs))),
        '(<= 10)',
        verdict(worst(reg.map((r) => r.maxTurnCpuMs)) <= 10),
      ]);
      rows.push([
        `${f}: register, longest GC pause in it (ms)`,
        ms(median(reg.map((r) => r.gcMaxMs))),
        ms(worst(reg.map((r) => r.gcMaxMs))),
        '',
        '',
      ]);
      if (f === 'discovery') {
        const bv = runs.map((r) => r.bitVec!);
        rows.push([
          `discovery: BitVec over ${fmt(PEERS)} bits answered (ms; ${bv[0]!.answered} Infos, ${bv[0]!.connected} connected)`,
          ms(median(bv.map((r) => r.ms))),
          ms(worst(bv.map((r) => r.ms))),
          '<= 250',
          verdict(worst(bv.map((r) => r.ms)) <= 250),
        ]);
        rows.push([
          'discovery: BitVec, longest turn (ms)',
          ms(median(bv.map((r) => r.maxTurnMs))),
          ms(worst(bv.map((r) => r.maxTurnMs))),
          '<= 10',
          verdict(worst(bv.map((r) => r.maxTurnMs)) <= 10),
        ]);
      }
      const st = (s.steps ?? []).filter((r) => r.flavour === f);
      if (st.length > 0) {
        rows.push([
          `${f}: register, longest directory step, no actor (CPU ms; step ${st[0]!.worstAt + 1} of ${st[0]!.steps})`,
          ms(median(st.map((r) => r.worstCpuMs))),
          ms(worst(st.map((r) => r.worstCpuMs))),
          '(<= 10: load-independent)',
          verdict(worst(st.map((r) => r.worstCpuMs)) <= 10),
        ]);
      }
      const dl = runs.map((r) => r.dialable);
      rows.push([
        `${f}: dialable() over the set, one turn (ms; ${fmt(dl[0]!.dialable)} dialable)`,
        ms(median(dl.map((r) => r.maxTurnMs))),
        ms(worst(dl.map((r) => r.maxTurnMs))),
        '(none; <= 10 like the rest)',
        verdict(worst(dl.map((r) => r.maxTurnMs)) <= 10),
      ]);
    }
    const aged = (s.lookupAged ?? []).map((r) => r.register);
    if (aged.length > 0) {
      // The same lookup registration with its freshly built input collected first: what is
      // left is the tracker's own share (the rows above include the copy of the input).
      const what = 'lookup, input made old first (a GC before the call)';
      for (const [label, pick] of [
        ['longest turn (ms)', (r: (typeof aged)[number]) => r.maxTurnMs],
        ['CPU time of the most used turn (ms)', (r: (typeof aged)[number]) => r.maxTurnCpuMs],
        ['longest GC pause in it (ms)', (r: (typeof aged)[number]) => r.gcMaxMs],
      ] as const) {
        rows.push([
          `${what}: ${label}`,
          ms(median(aged.map(pick))),
          ms(worst(aged.map(pick))),
          '',
          '',
        ]);
      }
    }
    const inputs = { discovery: 'keys', lookup: "'ip:port'", 'lookup-v6': "'[v6]:port'" };
    for (const input of ['discovery', 'lookup', 'lookup-v6'] as const) {
      const calls = (s.oracle ?? []).filter((o) => o.input === input);
      if (calls.length === 0) continue;
      const wall = calls.map((o) => o.ms);
      const cpu = calls.map((o) => o.cpuMs);
      rows.push([
        `${input}: Oracle.register of ${fmt(PEERS)} ${inputs[input]}, the caller's turn (ms)`,
        ms(median(wall)),
        ms(worst(wall)),
        '< 50',
        verdict(worst(wall) < 50),
      ]);
      rows.push([
        `${input}: the same, CPU time of the call (ms)`,
        ms(median(cpu)),
        ms(worst(cpu)),
        '',
        '',
      ]);
    }
  }
  for (const f of ['discovery', 'lookup'] as const) {
    const m = results.memory[f];
    if (m === undefined) continue;
    const target = f === 'discovery' ? 1024 : 500;
    rows.push([
      `${f}: heap per tracked peer (B; ${fmt(m.bytesPerPeerWithInput)} with the input set)`,
      fmt(m.bytesPerPeer),
      '',
      `~${target}`,
      verdict(m.bytesPerPeer <= target),
    ]);
  }
  for (const c of results.converge) {
    if (c.meshAtMs !== undefined) {
      const meshTarget = ((c.n - 1) / 2) * 500 + 2 * c.gossipMs;
      rows.push([
        `deterministic, ${c.n} peers: full mesh (virtual s)`,
        fmt(c.meshAtMs / 1000, 1),
        '',
        `<= ${fmt(meshTarget / 1000, 2)}`,
        verdict(c.meshAtMs <= meshTarget),
      ]);
    }
    rows.push([
      `deterministic, ${c.n} peers: gossip rounds to know all (log2 n = ${fmt(Math.log2(c.n), 1)})`,
      c.rounds === undefined ? `not in ${c.stoppedBy}` : fmt(c.rounds, 2),
      '',
      '~log2 n',
      verdict(c.rounds === undefined ? undefined : c.rounds <= Math.log2(c.n)),
    ]);
  }
  const l = results.loopback;
  if (l !== undefined) {
    const knowTarget = 3 * l.gossipMs;
    const meshTarget = ((l.n - 1) / 2) * 500 + 2 * l.gossipMs;
    rows.push([
      `loopback, ${l.n} peers: every record known (s)`,
      l.knownAtMs === undefined ? `not in ${l.stoppedBy}` : fmt(l.knownAtMs / 1000, 1),
      '',
      `<= ${fmt(knowTarget / 1000, 1)}`,
      verdict(l.knownAtMs === undefined ? false : l.knownAtMs <= knowTarget),
    ]);
    rows.push([
      `loopback, ${l.n} peers: full mesh (s)`,
      l.meshAtMs === undefined ? `not in ${l.stoppedBy}` : fmt(l.meshAtMs / 1000, 1),
      '',
      `<= ${fmt(meshTarget / 1000, 2)}`,
      verdict(l.meshAtMs === undefined ? false : l.meshAtMs <= meshTarget),
    ]);
  }
  return table(rows);
}

// ---------- Main ----------

async function main(): Promise<void> {
  const partName = argValue(argv, '--part');
  const jsonFile = argValue(argv, '--json');
  if (partName !== undefined) {
    const result = await part(partName);
    if (jsonFile !== undefined) writeFileSync(jsonFile, JSON.stringify(result));
    return;
  }
  const only = new Set((argValue(argv, '--only') ?? 'scale,memory,converge,loopback').split(','));
  log(
    `${cpus().length} CPUs, Node ${process.version}, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const results: Parameters<typeof report>[0] = { memory: {}, converge: [] };
  if (only.has('scale')) {
    results.scale = (await forkPart('scale')) as Scale | undefined;
  }
  if (only.has('memory')) {
    for (const f of ['discovery', 'lookup'] as const) {
      const m = (await forkPart(`memory-${f}`)) as TrackerMemory | undefined;
      if (m !== undefined) results.memory[f] = m;
    }
  }
  if (only.has('converge')) {
    for (const n of SIZES) {
      const c = (await forkPart('converge', ['--n', String(n)], (CONVERGE_WALL_S + 20) * 1000)) as
        | Convergence
        | undefined;
      if (c !== undefined) results.converge.push(c);
    }
  }
  if (only.has('loopback')) {
    results.loopback = (await forkPart('loopback', [], 200_000)) as Convergence | undefined;
  }
  const load = loadavg().map((x) => x.toFixed(2));
  console.log(report(results));
  console.log(`load average after: ${load.join(' ')}`);
  console.log(JSON.stringify(results, (_, v) => (typeof v === 'number' ? round(v, 2) : v)));
  if (jsonFile !== undefined) writeFileSync(jsonFile, JSON.stringify(results));
}

await main();
