/**
 * Worker process of the scale benchmark (forked by bench/scale.ts). Two roles, answering IPC
 * requests (bench/common.ts `serveRequests`):
 *
 * - hub: one lookup network node on 127.0.0.1 under `nodeRuntime`, `Config.recommended` with the
 *   overrides a loopback test needs (private IPs allowed) and handshake limits raised for a burst
 *   of connections (see {@link hubStart}). It registers the crowd's keys as secondary peers, each
 *   with its own 127.x.y.z egress IP (bench/crowd.ts `clientIp`), and reports its connected count,
 *   memory (after forced GCs: run it with --expose-gc), CPU time over a window, and heap
 *   snapshots.
 * - crowd: opens a range of the clients (bench/crowd.ts `openCrowd`), each dialing from its own
 *   address, pinging at the hub's ping frequency.
 *
 * @module
 */

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeHeapSnapshot } from 'node:v8';
import { ed25519 } from '../src/crypto/index.js';
import { Config, Network, type Oracle, Quota } from '../src/p2p/authenticated/lookup/index.js';
import type { Connection, Context, Handle } from '../src/runtime/index.js';
import { nodeRuntime } from '../src/runtime/index.js';
import { type Handler, round, sampleMemory, serveRequests } from './common.js';
import { type CrowdParams, crowdRegistration, NAMESPACE, openCrowd } from './crowd.js';
import { rssBreakdown } from './heap.js';

interface Hub {
  ctx: Context;
  network: Network;
  oracle: Oracle;
  handle: Handle<void>;
  key: ed25519.PrivateKey;
  port: number;
}

let hub: Hub | undefined;
const crowd: Connection[] = [];

function need(): Hub {
  if (hub === undefined) throw new Error('hub not started');
  return hub;
}

/**
 * Starts the hub: `Config.recommended` (ping every 50 s, mailboxes of 1000, ...) with
 * `allowPrivateIps` (loopback), `maxPeersPerSet` = peers + 1, and the handshake limits of the
 * test: `maxConcurrentHandshakes` as given, 10 handshakes/s per IP (each client has its own, and
 * may retry), and no practical per-subnet limit (250 clients share a /24).
 */
async function hubStart(
  ctx: Context,
  p: { seed: number; peers: number; maxConcurrentHandshakes: number; maxMessageSize: number },
): Promise<{ port: number; pingFrequencyMs: number }> {
  const key = ed25519.PrivateKey.fromSeed(BigInt(p.seed));
  const config = Config.recommended({
    signer: key,
    namespace: NAMESPACE,
    listen: '127.0.0.1:0',
    maxPeersPerSet: p.peers + 1,
    maxMessageSize: p.maxMessageSize,
    allowPrivateIps: true,
    maxConcurrentHandshakes: p.maxConcurrentHandshakes,
    allowedHandshakeRatePerIp: Quota.perSecond(10),
    allowedHandshakeRatePerSubnet: Quota.perSecond(1_000_000),
  });
  const hubCtx = ctx.child('hub');
  const [network, oracle] = Network.create(hubCtx, config);
  network.register(0, Quota.perSecond(1000));
  const handle = network.start();
  const addr = await network.address();
  if (addr === undefined) throw new Error('network did not bind');
  hub = { ctx: hubCtx, network, oracle, handle, key, port: addr.port };
  return { port: addr.port, pingFrequencyMs: config.pingFrequencyMs };
}

async function hubRegister(
  _ctx: Context,
  p: { n: number; firstSeed: number },
): Promise<{ seconds: number }> {
  const h = need();
  const t0 = performance.now();
  await crowdRegistration(h.oracle, [h.key.publicKey, `127.0.0.1:${h.port}`], {
    ...p,
    spread: true,
  });
  return { seconds: round((performance.now() - t0) / 1000, 2) };
}

/** Waits (polling every 100 ms, at most `timeoutMs`) until `n` peers are connected. */
async function hubWait(
  _ctx: Context,
  p: { n: number; timeoutMs: number },
): Promise<{ connected: number; seconds: number }> {
  const h = need();
  const t0 = performance.now();
  const deadline = t0 + p.timeoutMs;
  let c = h.network.connected().length;
  while (c < p.n && performance.now() < deadline) {
    await sleep(100);
    c = h.network.connected().length;
  }
  return { connected: c, seconds: round((performance.now() - t0) / 1000, 2) };
}

/**
 * Memory after forced GCs. A scrape (`metrics.encode()`) first, as a deployment's Prometheus
 * would make: it folds the per-peer counters' pending counts into their series, so every
 * per-peer series exists when the heap is measured.
 */
async function hubSample(): Promise<Record<string, unknown>> {
  let metricsBytes = 0;
  if (hub !== undefined) metricsBytes = (await hub.ctx.metrics.encode()).length;
  const m = await sampleMemory();
  const connected = hub === undefined ? 0 : hub.network.connected().length;
  return { ...m, connected, metricsBytes, breakdown: rssBreakdown() };
}

/**
 * CPU time (user + system) this process spends over `ms` of wall time, as a percentage of one
 * core, and the connected count at the end. With `profile`, a CPU profile of the window is
 * written to that path (node:inspector; open it in Chrome DevTools).
 */
async function hubCpu(
  _ctx: Context,
  p: { ms: number; profile?: string; allocProfile?: string; allocKept?: boolean },
): Promise<{
  cpuPercent: number;
  userMs: number;
  systemMs: number;
  threadsMs: Record<string, number>;
  gc: GcStats;
  connected: number;
}> {
  let session: Session | undefined;
  if (p.profile !== undefined || p.allocProfile !== undefined) {
    session = new Session();
    session.connect();
  }
  if (session !== undefined && p.profile !== undefined) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  if (session !== undefined && p.allocProfile !== undefined) {
    // Every allocation of the window, also what a full GC collected meanwhile, and (unless
    // `allocKept`: then only what survived a scavenge) what a scavenge collected.
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: p.allocKept !== true,
    } as object);
  }
  // Under `--trace-gc-nvp` (--hub-flags), mark the window in the trace for bench/scale-gc.ts.
  const marks = process.execArgv.includes('--trace-gc-nvp');
  if (marks) process.stdout.write(`[scale-peer] window start ${p.ms}\n`);
  const gc = watchGc();
  const threads0 = threadTimes();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(p.ms);
  const d = process.cpuUsage(c0);
  const threads1 = threadTimes();
  const wallMs = performance.now() - t0;
  const gcStats = gc.stop();
  if (marks) process.stdout.write(`[scale-peer] window end ${p.ms}\n`);
  if (session !== undefined && p.profile !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(p.profile, JSON.stringify(profile));
  }
  if (session !== undefined && p.allocProfile !== undefined) {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(p.allocProfile, JSON.stringify(profile));
  }
  session?.disconnect();
  return {
    cpuPercent: round((100 * (d.user + d.system)) / 1000 / wallMs, 2),
    userMs: round(d.user / 1000),
    systemMs: round(d.system / 1000),
    threadsMs: threadDelta(threads0, threads1),
    gc: gcStats,
    connected: hub === undefined ? 0 : hub.network.connected().length,
  };
}

/** Collections of one kind in a window: how many, and their pause (main thread) in ms. */
export interface GcStats {
  /** By kind (`minor` scavenges, `major` mark-compacts, `incremental` marking steps, `weakcb`). */
  [kind: string]: { count: number; ms: number };
}

/** Records the collections V8 reports (perf_hooks `gc` entries) until `stop`. */
function watchGc(): { stop(): GcStats } {
  const kinds: Record<number, string> = {
    [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  const out: GcStats = {};
  const add = (entries: readonly { detail?: unknown; duration: number }[]): void => {
    for (const e of entries) {
      const kind = kinds[(e.detail as { kind: number } | undefined)?.kind ?? -1] ?? 'other';
      const s = out[kind] ?? { count: 0, ms: 0 };
      out[kind] = s;
      s.count++;
      s.ms += e.duration;
    }
  };
  const obs = new PerformanceObserver((list) => add(list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  return {
    stop(): GcStats {
      add(obs.takeRecords());
      obs.disconnect();
      for (const v of Object.values(out)) v.ms = round(v.ms, 1);
      return out;
    },
  };
}

/**
 * CPU ticks (user + system) of each thread of this process, by thread id, named `main` (the
 * event loop) or by the thread's name (V8's and libuv's helpers). Linux only.
 */
function threadTimes(): Map<string, { name: string; ticks: number }> {
  const out = new Map<string, { name: string; ticks: number }>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      // The main thread (the event loop) is the one whose id is the process id.
      const name = tid === String(process.pid) ? 'main' : `${comm} (other)`;
      const f = stat.slice(close + 2).split(' ');
      // Fields 14 and 15 (utime, stime) are at 11 and 12 after the name.
      out.set(tid, { name, ticks: Number(f[11]) + Number(f[12]) });
    }
  } catch {}
  return out;
}

/** CPU ms per thread name between two {@link threadTimes} (clock ticks of 10 ms). */
function threadDelta(
  a: Map<string, { name: string; ticks: number }>,
  b: Map<string, { name: string; ticks: number }>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [tid, t] of b) {
    const d = (t.ticks - (a.get(tid)?.ticks ?? 0)) * 10;
    if (d > 0) out[t.name] = (out[t.name] ?? 0) + d;
  }
  return out;
}

async function heapSnapshot(_ctx: Context, p: { tag: string }): Promise<string> {
  if (hub !== undefined) await hub.ctx.metrics.encode();
  await sampleMemory();
  return writeHeapSnapshot(join(tmpdir(), `scale-bench-${process.pid}-${p.tag}.heapsnapshot`));
}

async function crowdOpen(
  ctx: Context,
  p: CrowdParams,
): Promise<{ opened: number; retries: number; seconds: number }> {
  return openCrowd(ctx, { ...p, spread: true }, crowd);
}

const handlers: Record<string, Handler<Context>> = {
  hubStart,
  hubRegister,
  hubWait,
  hubSample,
  hubCpu,
  heapSnapshot,
  crowdOpen,
  crowdCount: async () => crowd.length,
};

await nodeRuntime({ onTaskError: () => {} }).run(async (ctx) => {
  await serveRequests('scale-peer', ctx, handlers);
  for (const c of crowd) c.close();
  if (hub !== undefined) {
    hub.handle.stop();
    await Promise.race([hub.handle.done.catch(() => {}), sleep(5_000)]);
  }
});
process.exit(0);
