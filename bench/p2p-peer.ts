/**
 * Worker process of the p2p benchmark (forked by bench/p2p.ts). Each worker runs one lookup
 * network node on 127.0.0.1 under `nodeRuntime`, or (memory benchmark) a crowd of lightweight
 * authenticated clients, and answers IPC requests.
 *
 * Roles:
 * - `server`: node B. Channel 0 carries data; a background loop counts it (acknowledging the
 *   cumulative count on channel 1 every `ackEvery` messages and after the last one) or echoes it
 *   back on channel 0, as set by the `mode` request.
 * - `client`: node A. Times bulk, one-way and round-trip exchanges with B. It never has more
 *   than `window` unacknowledged messages outstanding, so (with `window <= mailboxSize`) the
 *   relay queue toward B can never overflow; `send` returning `[]` makes it yield and retry. Drops
 *   are still read from the metrics and reported.
 * - `node` / `crowd`: memory per connected peer. The node registers N secondary peers (accepted,
 *   never dialed) with loopback addresses; the crowd dials it N times with the stream handshake
 *   (keys `PrivateKey.fromSeed(i)`), pings every `pingFrequencyMs` like a peer actor would, reads
 *   and discards what arrives, and otherwise stays idle.
 *
 * IPC: the parent sends `{ id, cmd, params }`; the worker answers `{ id, ok, result | error }`.
 */

import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { ed25519 } from '../src/crypto/index.js';
import * as discovery from '../src/p2p/authenticated/discovery/index.js';
import {
  Config,
  Network,
  type Oracle,
  Quota,
  type Receiver,
  Recipients,
  type Sender,
} from '../src/p2p/authenticated/lookup/index.js';
import type { Connection, Context, Handle } from '../src/runtime/index.js';
import { nodeRuntime } from '../src/runtime/index.js';
import { listen as streamListen } from '../src/stream/index.js';
import {
  cpuTimeUs,
  freePorts,
  type Handler,
  type MemorySample,
  nowNs,
  p50p99us,
  round,
  sampleMemory,
  secondsSince,
  serveRequests,
} from './common.js';
import {
  type CrowdParams,
  crowdRegistration,
  crowdStreamConfig,
  NAMESPACE,
  openCrowd,
} from './crowd.js';
import { type RssBreakdown, rssBreakdown } from './heap.js';

const DATA = 0;
const ACK = 1;

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), false);
  return b;
}

function readU64(b: Uint8Array): number {
  return Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, false));
}

// ---------- Metrics ----------

/** Sums every sample of a metric whose name ends with `suffix` (any prefix, any labels). */
function sumMetric(text: string, suffix: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const name = line.slice(0, brace >= 0 ? brace : space);
    if (name.endsWith(suffix)) total += Number(line.slice(space + 1)) || 0;
  }
  return total;
}

/** Number of samples (label sets) of a metric whose name ends with `suffix`. */
function countSamples(text: string, suffix: string): number {
  let n = 0;
  for (const line of text.split('\n')) {
    const brace = line.indexOf('{');
    if (brace > 0 && line.slice(0, brace).endsWith(suffix)) n++;
  }
  return n;
}

// ---------- State ----------

interface Node {
  ctx: Context;
  network: Network | discovery.Network;
  /** The node's oracle: a lookup node's takes addresses, a discovery node's keys only. */
  oracle: { lookup: Oracle } | { discovery: discovery.Oracle };
  handle: Handle<void>;
  data: [Sender, Receiver];
  ack: [Sender, Receiver];
  port: number;
  key: ed25519.PrivateKey;
  maxMessageSize: number;
}

let node: Node | undefined;
let other: ed25519.PublicKey | undefined;

/** Server state: what the channel-0 loop does with each message. */
const serverMode = { mode: 'count' as 'count' | 'echo', ackEvery: 1, expect: 0, got: 0, bytes: 0 };

/** Client state: the latest cumulative count acknowledged by the server, and who waits for it. */
const acks = { count: 0, wake: undefined as (() => void) | undefined };

function need(): Node {
  if (node === undefined) throw new Error('node not started');
  return node;
}

async function start(
  ctx: Context,
  p: {
    seed: number;
    role: 'server' | 'client' | 'node';
    maxPeersPerSet: number;
    maxMessageSize: number;
    mailboxSize?: number;
    sendBatchSize?: number;
    quotaPerSecond: number;
    /** `discovery`: a discovery node (the client bootstraps from the server); default lookup. */
    flavour?: 'lookup' | 'discovery';
    /** Discovery: the bootstrapper's seed and port. */
    bootstrap?: [seed: number, port: number];
  },
): Promise<{ port: number; publicKey: string }> {
  const key = ed25519.PrivateKey.fromSeed(BigInt(p.seed));
  const big = Quota.perSecond(1_000_000);
  const shared = {
    signer: key,
    namespace: NAMESPACE,
    maxPeersPerSet: p.maxPeersPerSet,
    maxMessageSize: p.maxMessageSize,
    mailboxSize: p.mailboxSize,
    sendBatchSize: p.sendBatchSize,
    // Memory benchmark: let a crowd of clients from one IP handshake as fast as it can.
    maxConcurrentHandshakes: 100_000,
    allowedHandshakeRatePerIp: big,
    allowedHandshakeRatePerSubnet: big,
  };
  const nodeCtx = ctx.child('node');
  let network: Network | discovery.Network;
  let oracle: Oracle | undefined;
  let discoveryOracle: discovery.Oracle | undefined;
  if (p.flavour === 'discovery') {
    // A discovery node must advertise its port before it binds: a free one, bound and released.
    const [port] = await freePorts(1);
    const bootstrappers: [ed25519.PublicKey, string][] =
      p.bootstrap === undefined
        ? []
        : [
            [
              ed25519.PrivateKey.fromSeed(BigInt(p.bootstrap[0])).publicKey,
              `127.0.0.1:${p.bootstrap[1]}`,
            ],
          ];
    [network, discoveryOracle] = discovery.Network.create(
      nodeCtx,
      discovery.Config.local({
        ...shared,
        listen: `127.0.0.1:${port}`,
        dialable: `127.0.0.1:${port}`,
        bootstrappers,
      }),
    );
  } else {
    [network, oracle] = Network.create(nodeCtx, Config.local({ ...shared, listen: '127.0.0.1:0' }));
  }
  const quota = Quota.perSecond(p.quotaPerSecond);
  const data = network.register(DATA, quota);
  const ack = network.register(ACK, quota);
  const handle = network.start();
  const addr = await network.address();
  if (addr === undefined) throw new Error('network did not bind');
  node = {
    ctx: nodeCtx,
    network,
    oracle: discoveryOracle !== undefined ? { discovery: discoveryOracle } : { lookup: oracle! },
    handle,
    data,
    ack,
    port: addr.port,
    key,
    maxMessageSize: p.maxMessageSize,
  };
  if (p.role === 'server') ctx.spawn('serve', () => serve(data[0], data[1], ack[0]));
  if (p.role === 'client') ctx.spawn('acks', () => readAcks(ack[1]));
  return { port: addr.port, publicKey: key.publicKey.toHex() };
}

/** Sends, yielding and retrying while `send` returns [] (at most 10 000 times). */
async function sendRetrying(
  sender: Sender,
  to: Recipients,
  msg: Uint8Array,
  priority: boolean,
): Promise<boolean> {
  for (let tries = 0; tries < 10_000; tries++) {
    if (sender.send(to, msg, priority).length > 0) return true;
    await yieldToLoop();
  }
  return false;
}

async function serve(sender: Sender, receiver: Receiver, ackSender: Sender): Promise<void> {
  for await (const [from, msg] of receiver) {
    const m = serverMode;
    if (m.mode === 'echo') {
      await sendRetrying(sender, Recipients.one(from), msg, false);
      continue;
    }
    m.got++;
    m.bytes += msg.length;
    if (m.got % m.ackEvery === 0 || m.got === m.expect) {
      // Acks are small and high priority; if one cannot be queued, the next one covers it, but
      // the final one must get through.
      const ackMsg = u64(m.got);
      let tries = 0;
      while (ackSender.send(Recipients.one(from), ackMsg, true).length === 0) {
        if (m.got !== m.expect || ++tries > 10_000) break;
        await yieldToLoop();
      }
    }
  }
}

async function readAcks(receiver: Receiver): Promise<void> {
  for await (const [, msg] of receiver) {
    const n = readU64(msg);
    if (n > acks.count) acks.count = n;
    const wake = acks.wake;
    acks.wake = undefined;
    wake?.();
  }
}

/** Resolves at the next ack, or after `ms` (whichever comes first). */
function nextAck(ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      acks.wake = undefined;
      resolve();
    }, ms);
    acks.wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

async function register(
  _ctx: Context,
  p: { peers: [seed: number, port: number][] },
): Promise<boolean> {
  const n = need();
  const peers: [ed25519.PublicKey, string][] = [[n.key.publicKey, `127.0.0.1:${n.port}`]];
  for (const [seed, port] of p.peers) {
    const pk = ed25519.PrivateKey.fromSeed(BigInt(seed)).publicKey;
    peers.push([pk, `127.0.0.1:${port}`]);
    other = pk;
  }
  // A discovery node registers the keys only: addresses come from the bootstrapper and gossip.
  if ('discovery' in n.oracle)
    n.oracle.discovery.register(
      0,
      peers.map(([pk]) => pk),
    );
  else n.oracle.lookup.register(0, peers);
  return true;
}

async function connectedCount(n: Node): Promise<number> {
  return countSamples(await n.ctx.metrics.encode(), '_tracker_connected');
}

async function waitConnected(
  _ctx: Context,
  p: { n: number; timeoutMs: number },
): Promise<{ connected: number; seconds: number }> {
  const n = need();
  const t0 = nowNs();
  const deadline = Date.now() + p.timeoutMs;
  let c = await connectedCount(n);
  while (c < p.n && Date.now() < deadline) {
    await sleep(c > 0 ? 100 : 50);
    c = await connectedCount(n);
  }
  if (c < p.n) throw new Error(`only ${c} of ${p.n} peers connected after ${p.timeoutMs} ms`);
  return { connected: c, seconds: round(secondsSince(t0), 2) };
}

async function stats(): Promise<{
  relayDropped: number;
  inboundDropped: number;
  rateLimited: number;
  sent: number;
  received: number;
}> {
  const text = await need().ctx.metrics.encode();
  return {
    relayDropped:
      sumMetric(text, '_relay_low_backoff_total') + sumMetric(text, '_relay_high_backoff_total'),
    inboundDropped: sumMetric(text, '_channel_mailbox_dropped_total'),
    rateLimited: sumMetric(text, '_rate_limited'),
    sent: sumMetric(text, '_messages_sent_total'),
    received: sumMetric(text, '_messages_received_total'),
  };
}

async function mode(
  _ctx: Context,
  p: { mode: 'count' | 'echo'; ackEvery: number; expect: number },
): Promise<boolean> {
  serverMode.mode = p.mode;
  serverMode.ackEvery = p.ackEvery;
  serverMode.expect = p.expect;
  serverMode.got = 0;
  serverMode.bytes = 0;
  return true;
}

// ---------- Client measurements ----------

interface FlowResult {
  /** CPU time (user + system) the sending process spent, in us. */
  cpuUs: number;
  /** Messages the server acknowledged (= delivered to its application). */
  delivered: number;
  /** Messages `send` accepted. */
  sent: number;
  /** `send` calls that returned [] (retried after yielding). */
  refused: number;
  seconds: number;
  /** True if the run ended on the stall or time limit before every message was acknowledged. */
  incomplete: boolean;
}

/**
 * Sends `count` messages of `size` bytes to the server on channel 0 with at most `window`
 * unacknowledged, and returns once the server acknowledged all of them (or nothing was
 * acknowledged for `stallMs`, or `limitMs` elapsed).
 */
async function flow(p: {
  size: number;
  count: number;
  window: number;
  limitMs: number;
  stallMs: number;
}): Promise<FlowResult> {
  const n = need();
  const to = other;
  if (to === undefined) throw new Error('no peer registered');
  const [sender] = n.data;
  const recipients = Recipients.one(to);
  const msg = new Uint8Array(p.size).fill(7);
  acks.count = 0;
  let sent = 0;
  let refused = 0;
  let lastProgress = Date.now();
  let lastAcked = 0;
  let incomplete = false;
  const cpu0 = process.cpuUsage();
  const t0 = nowNs();
  const end = Date.now() + p.limitMs;
  while (acks.count < p.count) {
    // Fill the window; a refused send (router busy or quota) makes us yield to the loop.
    let burst = 0;
    while (sent < p.count && sent - acks.count < p.window) {
      if (sender.send(recipients, msg, false).length === 0) {
        refused++;
        break;
      }
      sent++;
      // Yield now and then so the router and the peer's writer run while we fill a large window.
      if (++burst === 256) break;
    }
    if (sent - acks.count >= p.window || sent === p.count) await nextAck(50);
    else await yieldToLoop();
    const now = Date.now();
    if (acks.count !== lastAcked) {
      lastAcked = acks.count;
      lastProgress = now;
    } else if (now - lastProgress > p.stallMs || now > end) {
      incomplete = true;
      break;
    }
  }
  const seconds = secondsSince(t0);
  return {
    delivered: acks.count,
    sent,
    refused,
    seconds,
    incomplete,
    cpuUs: cpuTimeUs(cpu0),
  };
}

async function bulk(
  _ctx: Context,
  p: { totalBytes: number; chunkBytes: number; window: number; limitMs: number },
): Promise<{ MBps: number; seconds: number } & Omit<FlowResult, 'seconds'>> {
  const count = Math.ceil(p.totalBytes / p.chunkBytes);
  const r = await flow({
    size: p.chunkBytes,
    count,
    window: p.window,
    limitMs: p.limitMs,
    stallMs: 3_000,
  });
  return {
    ...r,
    MBps: round((r.delivered * p.chunkBytes) / 1e6 / r.seconds),
    seconds: round(r.seconds, 3),
  };
}

async function msgs(
  _ctx: Context,
  p: { size: number; count: number; window: number; limitMs: number },
): Promise<{ msgsPerSec: number; seconds: number } & Omit<FlowResult, 'seconds'>> {
  const r = await flow({ ...p, stallMs: 3_000 });
  return { ...r, msgsPerSec: Math.round(r.delivered / r.seconds), seconds: round(r.seconds, 3) };
}

async function rtt(
  _ctx: Context,
  p: { size: number; warmup: number; count: number; limitMs: number },
): Promise<{ p50us: number; p99us: number; count: number; clientCpuUsPerTrip: number }> {
  const n = need();
  const to = other;
  if (to === undefined) throw new Error('no peer registered');
  const [sender, receiver] = n.data;
  const recipients = Recipients.one(to);
  const request = new Uint8Array(p.size).fill(3);
  const end = Date.now() + p.limitMs;
  const trip = async (): Promise<void> => {
    if (!(await sendRetrying(sender, recipients, request, false))) {
      throw new Error('the peer stopped accepting messages');
    }
    // Bounded by the parent's request timeout and the worker's lifetime (no per-trip timer: it
    // would cost more than the trip's own scheduling).
    await receiver.recv();
  };
  for (let i = 0; i < p.warmup; i++) await trip();
  const samples = new Float64Array(p.count);
  let done = 0;
  const cpu0 = process.cpuUsage();
  for (; done < p.count && Date.now() < end; done++) {
    const t0 = nowNs();
    await trip();
    samples[done] = Number(nowNs() - t0) / 1e3;
  }
  const cpuUs = cpuTimeUs(cpu0);
  return {
    clientCpuUsPerTrip: round(cpuUs / Math.max(done, 1), 2),
    ...p50p99us(samples.subarray(0, done)),
    count: done,
  };
}

// ---------- Memory: node and crowd ----------

async function memSample(): Promise<MemorySample & { connected: number; breakdown: RssBreakdown }> {
  const m = await sampleMemory();
  const connected = node === undefined ? 0 : await connectedCount(node);
  return { ...m, connected, breakdown: rssBreakdown() };
}

async function memRegister(
  _ctx: Context,
  p: { n: number; firstSeed: number },
): Promise<{ seconds: number }> {
  const n = need();
  const t0 = nowNs();
  // Every client dials from 127.0.0.1 (the egress IP the listener checks).
  if (!('lookup' in n.oracle)) throw new Error('the memory benchmark runs lookup nodes');
  await crowdRegistration(n.oracle.lookup, [n.key.publicKey, `127.0.0.1:${n.port}`], {
    ...p,
    spread: false,
  });
  return { seconds: round(secondsSince(t0), 2) };
}

const crowd: Connection[] = [];

async function memConnect(
  ctx: Context,
  p: Omit<CrowdParams, 'first' | 'spread' | 'attempts'>,
): Promise<{ opened: number; retries: number; seconds: number }> {
  const r = await openCrowd(ctx, p, crowd);
  return { ...r, opened: crowd.length };
}

/** Diagnostics: forces GCs, writes a heap snapshot to the temp directory and returns its path. */
async function heapSnapshot(_ctx: Context, p: { tag: string }): Promise<string> {
  await sampleMemory();
  return writeHeapSnapshot(join(tmpdir(), `p2p-bench-${process.pid}-${p.tag}.heapsnapshot`));
}

/**
 * Reference for the memory benchmark: a bare stream listener (no lookup network) that completes
 * the handshake with any of the crowd's keys and keeps one pending `recv` per session, reading
 * and discarding the crowd's pings. Its cost per connection is the floor under a lookup peer's.
 */
let streamSessions = 0;
async function streamNodeStart(
  ctx: Context,
  p: { seed: number; maxMessageSize: number },
): Promise<{ port: number }> {
  const cfg = crowdStreamConfig(p.seed, p.maxMessageSize);
  const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
  ctx.spawn('accept', async (child) => {
    try {
      for (;;) {
        const conn = await listener.accept(child.signal);
        child.spawn('session', async (c) => {
          try {
            const session = await streamListen(c, cfg, conn, () => true);
            streamSessions++;
            for (;;) await session.receiver.recv();
          } catch {
            conn.close();
          }
        });
      }
    } catch {
      listener.close();
    }
  });
  return { port: listener.address.port };
}

async function streamNodeCount(): Promise<number> {
  return streamSessions;
}

// ---------- Raw TCP reference (bench/libp2p/common.mjs rawTcpHandlers, when present) ----------

type RawHandlers = Record<string, (params: unknown) => Promise<unknown>>;
let raw: RawHandlers | undefined;

async function rawHandlers(): Promise<RawHandlers> {
  if (raw !== undefined) return raw;
  const path = fileURLToPath(new URL('../../bench/libp2p/common.mjs', import.meta.url));
  if (!existsSync(path)) throw new Error('bench/libp2p/common.mjs not found');
  const mod = (await import(path)) as { rawTcpHandlers: () => RawHandlers };
  raw = mod.rawTcpHandlers();
  return raw;
}

async function rawCall(_ctx: Context, p: { fn: string; params: unknown }): Promise<unknown> {
  const h = await rawHandlers();
  const fn = h[p.fn];
  if (fn === undefined) throw new Error(`no raw handler ${p.fn}`);
  return fn(p.params);
}

// ---------- IPC ----------

const handlers: Record<string, Handler<Context>> = {
  start,
  register,
  waitConnected,
  stats,
  mode,
  bulk,
  msgs,
  rtt,
  memSample,
  memRegister,
  memConnect,
  rawCall,
  heapSnapshot,
  cpu: async () => cpuTimeUs(),
  streamNodeStart,
  streamNodeCount,
  sleep: (_ctx, p: { ms: number }) => sleep(p.ms).then(() => true),
};

await nodeRuntime({ onTaskError: () => {} }).run(async (ctx) => {
  await serveRequests('p2p-peer', ctx, handlers);
  for (const c of crowd) c.close();
  if (node !== undefined) {
    node.handle.stop();
    await Promise.race([node.handle.done.catch(() => {}), sleep(3_000)]);
  }
});
process.exit(0);
