#!/usr/bin/env node

// js-libp2p side of the authp2p side-by-side benchmark.
//
// Usage: node bench/libp2p/run.mjs [--quick] [--only bulk,msgs,rtt,conns,mem] [--json out.json]
//
// PROTOCOL (an authp2p runner must implement the same five measurements with
// the same sizes, counts, run counts and clocks so the figures compare):
//
//   Topology. This process only coordinates. For every measurement it forks
//   two fresh worker processes (node:child_process fork, IPC channel): a
//   SERVER that listens on 127.0.0.1 port 0 and a CLIENT that dials it. The
//   server's listen address (a multiaddr here) goes server -> coordinator ->
//   client over IPC. All traffic is loopback TCP between those two processes.
//   Each measurement is repeated RUNS times inside the same worker pair (after
//   an untimed warm-up run) and the median of the runs is reported. Times use
//   process.hrtime.bigint() in the client. MB = 10^6 bytes, KiB = 1024 bytes.
//
//   1. bulk: one stream (libp2p: one yamux stream on one connection, reused
//      across runs; a new stream per run). Client sends an 8-byte big-endian
//      length, then 256 MiB (quick: 64 MiB) as 64 KiB writes, waiting for
//      drain whenever the write call reports backpressure. Server counts bytes
//      and replies 1 byte after the last one. Time = first write -> ack
//      received. Result MB/s = bytes / 1e6 / seconds.
//   2. one-way message rate: one stream, length-prefixed messages (unsigned
//      varint length + payload). Sender: `await lpStream(stream).write(msg)`
//      per message (@libp2p/utils lpStream, the js-libp2p 3 API; each write
//      is stream.send() plus a wait for 'drain' when send() reports
//      backpressure). First message = u32 count (untimed), then COUNT
//      messages of SIZE bytes. Server decodes with it-length-prefixed decode,
//      counts, and replies a 1-byte framed ack after the last message.
//      Time = first payload write -> ack. 32 B x 200,000 and 1 KiB x 100,000
//      (quick: 50,000 and 25,000). Result msg/s.
//   3. round trip: one stream, length-prefixed 32 B request, server echoes it
//      framed the same way; client uses lpStream write+read, strictly
//      sequential. 1,000 warm-up trips, then 10,000 timed (quick: 500 +
//      3,000), each timed individually. Result p50 and p99 (nearest rank) in
//      microseconds; the reported figure is the median over runs of each.
//   4. connections/s: 400 (quick: 160) fresh connections, 16 in flight. Each
//      = dial (TCP connect + Noise XX handshake + Yamux negotiation), open an
//      echo stream (multistream-select), one 32 B length-prefixed echo, then
//      close the connection (the close is inside the timed loop). An untimed
//      warm-up of 200 (quick: 100) connections precedes the runs. Each of the
//      16 lanes is its own client identity (libp2p merges concurrent dials to
//      one peer). Result = total / wall time from first dial to last close;
//      also per-connection dial->echo latency p50/p99.
//   5. memory per connection: fresh server process started with --expose-gc.
//      Baseline = server memoryUsage() after forced GCs, once listening and
//      idle. The client opens N = 200 and N = 1000 connections (separate
//      worker pairs), 16 at a time, each from a distinct client identity, each
//      proven with one 32 B echo on a stream that is then closed; connections
//      stay open and idle. After 500 ms settling, the server is sampled again
//      after forced GCs. Result = (after - baseline) / N for RSS and heapUsed,
//      in KiB. Reference: the same with raw node:net sockets (server side of N
//      accepted loopback sockets from the client process, each proven with a
//      1-byte echo), and N socket pairs (both ends) inside one process.
//      Memory runs: 3 per N (quick: 1, N = 200 and 1000 still).
//
// Output: progress on stderr; a readable table, then the JSON object, on
// stdout (the JSON is also written to --json FILE when given).

import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  median,
  memoryDeltaPerConn,
  nowNs,
  parseArgs,
  round,
  secondsSince,
  spawnWorker,
  summaryTable,
} from './common.mjs';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));

export const FULL = {
  runs: 5,
  bulk: { totalBytes: 256 * 1048576, chunkBytes: 64 * 1024 },
  msgs: [
    { key: 'msgRate32B', size: 32, count: 200_000 },
    { key: 'msgRate1KiB', size: 1024, count: 100_000 },
  ],
  rtt: { size: 32, warmup: 1_000, count: 10_000 },
  conns: { total: 400, concurrency: 16, warmupTotal: 200 },
  mem: { ns: [200, 1000], runs: 3, concurrency: 16, settleMs: 500 },
};
export const QUICK = {
  runs: 3,
  bulk: { totalBytes: 64 * 1048576, chunkBytes: 64 * 1024 },
  msgs: [
    { key: 'msgRate32B', size: 32, count: 50_000 },
    { key: 'msgRate1KiB', size: 1024, count: 25_000 },
  ],
  rtt: { size: 32, warmup: 500, count: 3_000 },
  conns: { total: 160, concurrency: 16, warmupTotal: 100 },
  mem: { ns: [200, 1000], runs: 1, concurrency: 16, settleMs: 500 },
};

/** Fork a server + client worker pair and hand the server address to the client. */
async function withPair(fn, { serverExecArgv = [], lifetimeMs = 240_000 } = {}) {
  const server = spawnWorker(WORKER, { name: 'server', execArgv: serverExecArgv, lifetimeMs });
  const client = spawnWorker(WORKER, { name: 'client', lifetimeMs });
  try {
    const { addr } = await server.request('serverStart', {}, 30_000);
    return await fn({ server, client, addr });
  } finally {
    await Promise.all([client.close(), server.close()]);
  }
}

/** Untimed warm-up call, then `runs` timed calls of the same client command. */
async function repeat(client, cmd, params, runs, timeoutMs) {
  await client.request(cmd, params, timeoutMs);
  const out = [];
  for (let i = 0; i < runs; i++) out.push(await client.request(cmd, params, timeoutMs));
  return out;
}

async function measureBulk(cfg) {
  return withPair(async ({ client, addr }) => {
    const runs = await repeat(client, 'bulk', { addr, ...cfg.bulk }, cfg.runs, 60_000);
    return {
      totalBytes: cfg.bulk.totalBytes,
      chunkBytes: cfg.bulk.chunkBytes,
      MBps: median(runs.map((r) => r.MBps)),
      runs,
    };
  });
}

async function measureMsgs(cfg) {
  return withPair(async ({ client, addr }) => {
    const out = {};
    for (const m of cfg.msgs) {
      const runs = await repeat(
        client,
        'msgs',
        { addr, size: m.size, count: m.count },
        cfg.runs,
        60_000,
      );
      out[m.key] = {
        size: m.size,
        count: m.count,
        msgsPerSec: median(runs.map((r) => r.msgsPerSec)),
        runs,
      };
    }
    return out;
  });
}

async function measureRtt(cfg) {
  return withPair(async ({ client, addr }) => {
    const runs = await repeat(client, 'rtt', { addr, ...cfg.rtt }, cfg.runs, 60_000);
    return {
      size: cfg.rtt.size,
      count: cfg.rtt.count,
      p50us: median(runs.map((r) => r.p50us)),
      p99us: median(runs.map((r) => r.p99us)),
      runs,
    };
  });
}

async function measureConns(cfg) {
  return withPair(async ({ client, addr }) => {
    const { total, concurrency, warmupTotal } = cfg.conns;
    await client.request('conns', { addr, total: warmupTotal, concurrency }, 60_000);
    const runs = [];
    for (let i = 0; i < cfg.runs; i++)
      runs.push(await client.request('conns', { addr, total, concurrency }, 90_000));
    return {
      total,
      concurrency,
      perSec: median(runs.map((r) => r.perSec)),
      latencyP50ms: median(runs.map((r) => r.latencyP50ms)),
      latencyP99ms: median(runs.map((r) => r.latencyP99ms)),
      runs,
    };
  });
}

function summarizeMem(runs, extra = {}) {
  return {
    ...extra,
    rssKiB: median(runs.map((r) => r.rssKiB)),
    heapUsedKiB: median(runs.map((r) => r.heapUsedKiB)),
    externalKiB: median(runs.map((r) => r.externalKiB)),
    runs,
  };
}

async function memLibp2pOnce(n, cfg) {
  return withPair(
    async ({ server, client, addr }) => {
      const before = await server.request('memSample', {}, 10_000);
      const t0 = nowNs();
      const info = await client.request(
        'memConnect',
        { addr, n, concurrency: cfg.mem.concurrency },
        120_000,
      );
      await client.request('sleep', { ms: cfg.mem.settleMs });
      const after = await server.request('memSample', {}, 10_000);
      if (after.connections !== n)
        throw new Error(`server holds ${after.connections} connections, expected ${n}`);
      return {
        ...memoryDeltaPerConn(before, after, n),
        connections: after.connections,
        setupSeconds: round(secondsSince(t0), 2),
        ...info,
      };
    },
    { serverExecArgv: ['--expose-gc'] },
  );
}

async function memRawOnce(n, cfg) {
  return withPair(
    async ({ server, client }) => {
      const { port } = await server.request('rawListen');
      const before = await server.request('memSample', {}, 10_000);
      await client.request('rawConnect', { port, n, concurrency: cfg.mem.concurrency }, 60_000);
      await client.request('sleep', { ms: cfg.mem.settleMs });
      const after = await server.request('memSample', {}, 10_000);
      const held = await server.request('rawCount');
      if (held !== n) throw new Error(`raw server holds ${held} sockets, expected ${n}`);
      return memoryDeltaPerConn(before, after, n);
    },
    { serverExecArgv: ['--expose-gc'] },
  );
}

async function memRawPairOnce(n) {
  const w = spawnWorker(WORKER, {
    name: 'rawpair',
    execArgv: ['--expose-gc'],
    lifetimeMs: 120_000,
  });
  try {
    const r = await w.request('rawPairs', { n }, 60_000);
    return r.perConn;
  } finally {
    await w.close();
  }
}

async function measureMem(cfg) {
  const out = {};
  for (const n of cfg.mem.ns) {
    const runs = [];
    for (let i = 0; i < cfg.mem.runs; i++) runs.push(await memLibp2pOnce(n, cfg));
    out[`libp2p_${n}`] = summarizeMem(runs, { n });
  }
  for (const n of cfg.mem.ns) {
    const runs = [];
    for (let i = 0; i < cfg.mem.runs; i++) runs.push(await memRawOnce(n, cfg));
    out[`rawTcpServerSocket_${n}`] = summarizeMem(runs, { n });
  }
  const n = cfg.mem.ns[cfg.mem.ns.length - 1];
  const runs = [];
  for (let i = 0; i < cfg.mem.runs; i++) runs.push(await memRawPairOnce(n));
  out[`rawTcpPairInProcess_${n}`] = summarizeMem(runs, { n });
  return out;
}

function versions() {
  const v = {};
  for (const p of [
    'libp2p',
    '@libp2p/tcp',
    '@chainsafe/libp2p-noise',
    '@chainsafe/libp2p-yamux',
    'it-length-prefixed',
    '@libp2p/utils',
  ]) {
    try {
      v[p] = JSON.parse(
        readFileSync(new URL(`./node_modules/${p}/package.json`, import.meta.url), 'utf8'),
      ).version;
    } catch {
      v[p] = 'not installed';
    }
  }
  return v;
}

async function main() {
  const opts = parseArgs();
  if (opts.help) {
    console.log(
      'usage: node bench/libp2p/run.mjs [--quick] [--only bulk,msgs,rtt,conns,mem] [--json FILE]',
    );
    return;
  }
  const cfg = opts.quick ? QUICK : FULL;
  const want = (k) => opts.only == null || opts.only.has(k);
  const result = {
    impl: 'js-libp2p',
    versions: versions(),
    node: process.version,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    quick: opts.quick,
    runs: cfg.runs,
    // 1/5/15-minute load averages: figures taken with load1 well above 0 on a
    // 2-core machine were measured under contention from other processes.
    loadavg: { start: loadavg().map((x) => round(x, 2)) },
  };
  if (loadavg()[0] > 0.5 * cpus().length) {
    process.stderr.write(
      `[bench] warning: load average ${loadavg()[0].toFixed(2)} on ${cpus().length} CPUs; figures will be contended\n`,
    );
  }
  const t0 = nowNs();
  // key: --only name; store: where the result goes (null = merge its fields).
  const step = async (key, store, fn) => {
    if (!want(key)) return;
    const s = nowNs();
    process.stderr.write(`[bench] ${key} ...`);
    try {
      const r = await fn(cfg);
      if (store == null) Object.assign(result, r);
      else result[store] = r;
      process.stderr.write(` done in ${secondsSince(s).toFixed(1)} s\n`);
    } catch (err) {
      process.stderr.write(` FAILED: ${err.message}\n`);
      result.errors = { ...result.errors, [key]: err.message };
    }
  };
  await step('bulk', 'bulk', measureBulk);
  await step('msgs', null, measureMsgs);
  await step('rtt', 'rtt32B', measureRtt);
  await step('conns', 'connsPerSec', measureConns);
  await step('mem', 'memory', measureMem);
  result.totalSeconds = round(secondsSince(t0), 1);
  result.loadavg.end = loadavg().map((x) => round(x, 2));

  console.log(
    `\njs-libp2p ${result.versions.libp2p} (${result.node}, ${result.cpus})${opts.quick ? ' [quick]' : ''}, median of ${cfg.runs} runs (memory: ${cfg.mem.runs}), load average ${result.loadavg.start[0]} -> ${result.loadavg.end[0]}\n`,
  );
  console.log(summaryTable(result));
  console.log();
  console.log(JSON.stringify(result, null, 2));
  if (opts.json) writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
  if (result.errors) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
