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

import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  const [network, oracle] = Network.create(ctx.child('hub'), config);
  network.register(0, Quota.perSecond(1000));
  const handle = network.start();
  const addr = await network.address();
  if (addr === undefined) throw new Error('network did not bind');
  hub = { network, oracle, handle, key, port: addr.port };
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

async function hubSample(): Promise<Record<string, unknown>> {
  const m = await sampleMemory();
  const connected = hub === undefined ? 0 : hub.network.connected().length;
  return { ...m, connected, breakdown: rssBreakdown() };
}

/**
 * CPU time (user + system) this process spends over `ms` of wall time, as a percentage of one
 * core; also the event-loop delay's p99 over the window, and the connected count at the end.
 */
async function hubCpu(
  _ctx: Context,
  p: { ms: number },
): Promise<{ cpuPercent: number; userMs: number; systemMs: number; connected: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(p.ms);
  const d = process.cpuUsage(c0);
  const wallMs = performance.now() - t0;
  return {
    cpuPercent: round((100 * (d.user + d.system)) / 1000 / wallMs, 2),
    userMs: round(d.user / 1000),
    systemMs: round(d.system / 1000),
    connected: hub === undefined ? 0 : hub.network.connected().length,
  };
}

async function heapSnapshot(_ctx: Context, p: { tag: string }): Promise<string> {
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
