/**
 * Two real lookup peers (Node runtime, 127.0.0.1) talking through the fault-injecting proxy
 * (`test/helpers/proxy.ts`): each peer's registered address of the other is a proxy in front of
 * it, so every connection between them, whoever dials, crosses one. A third peer, C, is connected
 * to A directly and must never notice the faults.
 *
 * - Handshakes and traffic survive 1-byte writes and coalesced, delayed and jittered writes
 *   byte-exactly, in order and once each.
 * - A stall (closed by the read timeout, the Pings having stopped), a cut in the middle of a
 *   write, a half-close and a reset each close only the proxied connection; the peers connect
 *   again after their cooldown and traffic flows.
 * - No unhandled rejection occurs, and after shutdown no socket, server or timer is left.
 *
 * Every wait is on an event with a deadline; nothing sleeps on wall time.
 *
 * How we know these tests bite (each checked by editing the built test locally and watching it
 * fail): with the proxy's chunking off (`chunkBytes` left at Infinity) the one-write-per-byte
 * assertion fails; with the Pings off (`pingFrequencyMs` of 10 minutes) a healthy idle connection
 * dies at the read timeout too, and "C stayed connected" fails.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PublicKey } from '../../src/crypto/ed25519.js';
import type { Receiver, Sender } from '../../src/p2p/authenticated/channels.js';
import { Config } from '../../src/p2p/authenticated/lookup/config.js';
import { Network } from '../../src/p2p/authenticated/lookup/network.js';
import type { Oracle } from '../../src/p2p/authenticated/lookup/oracle.js';
import { Recipients } from '../../src/p2p/types.js';
import { Quota } from '../../src/quota/index.js';
import type { Context, Handle, SocketAddr } from '../../src/runtime/context.js';
import { nodeRuntime } from '../../src/runtime/index.js';
import { FaultProxy, type Faults, type ProxyConnection } from '../helpers/proxy.js';
import { deadline, EventLog, openResources, watchRejections } from '../helpers/wait.js';
import { NAMESPACE, signer } from '../p2p/authenticated/lookup/network/helpers.js';

const COOLDOWN_MS = 300;
const READ_TIMEOUT_MS = 1_500;
const WAIT_MS = 15_000;

interface TcpPeer {
  readonly name: string;
  readonly pk: PublicKey;
  readonly network: Network;
  readonly oracle: Oracle;
  readonly sender: Sender;
  readonly receiver: Receiver;
  readonly handle: Handle<void>;
  readonly log: EventLog;
  readonly address: SocketAddr;
}

async function startPeer(ctx: Context, i: number, name: string): Promise<TcpPeer> {
  const config = Config.local({
    signer: signer(i),
    namespace: NAMESPACE,
    listen: '127.0.0.1:0',
    maxPeersPerSet: 8,
    maxMessageSize: 4096,
    dialFrequencyMs: 50,
    peerConnectionCooldownMs: COOLDOWN_MS,
    handshakeTimeoutMs: 1_000,
    pingFrequencyMs: 200,
    allowedHandshakeRatePerIp: Quota.perSecond(10_000),
    allowedHandshakeRatePerSubnet: Quota.perSecond(10_000),
  });
  const [network, oracle] = Network.create(ctx.child(name), config);
  const [sender, receiver] = network.register(0, Quota.perSecond(100_000));
  const handle = network.start();
  const log = new EventLog(network);
  const address = await deadline(network.address(), 5_000, `${name} binds`);
  assert.ok(address !== undefined);
  return {
    name,
    pk: signer(i).publicKey,
    network,
    oracle,
    sender,
    receiver,
    handle,
    log,
    address,
  };
}

const at = (a: SocketAddr) => `127.0.0.1:${a.port}`;

/** A, B and C; A and B only through proxies (faults `faults`), C straight to A. */
async function trio(ctx: Context, faults: Partial<Faults>, seed: number) {
  const a = await startPeer(ctx, 1, 'a');
  const b = await startPeer(ctx, 2, 'b');
  const c = await startPeer(ctx, 3, 'c');
  const toB = await FaultProxy.start({
    target: { host: '127.0.0.1', port: b.address.port },
    seed,
    faults,
  });
  const toA = await FaultProxy.start({
    target: { host: '127.0.0.1', port: a.address.port },
    seed: seed + 1,
    faults,
  });
  a.oracle.register(0, [
    [a.pk, at(a.address)],
    [b.pk, toB.address],
    [c.pk, at(c.address)],
  ]);
  b.oracle.register(0, [
    [a.pk, toA.address],
    [b.pk, at(b.address)],
  ]);
  c.oracle.register(0, [
    [a.pk, at(a.address)],
    [c.pk, at(c.address)],
  ]);
  await Promise.all([
    a.log.next(0, 'connected', b.pk, WAIT_MS),
    a.log.next(0, 'connected', c.pk, WAIT_MS),
    b.log.next(0, 'connected', a.pk, WAIT_MS),
  ]);
  const proxies = [toA, toB];
  const stop = async () => {
    for (const p of [a, b, c]) p.handle.stop();
    await deadline(Promise.all([a, b, c].map((p) => p.handle.done)), 10_000, 'shutdown');
    await Promise.all(proxies.map((p) => p.close()));
  };
  return { a, b, c, proxies, stop };
}

const has = (p: TcpPeer, q: TcpPeer) => p.network.connected().some((k) => k.equals(q.pk));

/**
 * The one open proxied connection once A and B settled on it (a lost simultaneous dial closes)
 * and both list each other as connected.
 */
async function live(
  a: TcpPeer,
  b: TcpPeer,
  proxies: readonly FaultProxy[],
): Promise<ProxyConnection> {
  const settled = async () => {
    for (let i = 0; i < 1_000; i++) {
      const open = proxies.flatMap((p) => p.open);
      if (open.length === 1 && has(a, b) && has(b, a)) return open[0]!;
      await Promise.race([...open.map((c) => c.closed), a.log.changed(), b.log.changed()]);
    }
    throw new Error('the proxied connections never settled on one');
  };
  return deadline(settled(), WAIT_MS, 'one proxied connection');
}

/** Deterministic message `seq` of a run: its index then bytes derived from it. */
function message(tag: number, seq: number): Uint8Array {
  const len = 4 + ((seq * 37) % 300);
  const m = new Uint8Array(len);
  m[0] = tag;
  m[1] = seq >> 8;
  m[2] = seq & 0xff;
  for (let i = 3; i < len; i++) m[i] = (seq * 31 + i * 7 + tag) & 0xff;
  return m;
}

/**
 * `from` sends `count` messages to `to` (each must be accepted for sending); `to` must receive
 * exactly those, in order, each once, byte for byte. Messages tagged otherwise are skipped.
 */
async function exact(from: TcpPeer, to: TcpPeer, tag: number, count: number): Promise<void> {
  for (let seq = 0; seq < count; seq++) {
    const sent = from.sender.send(Recipients.one(to.pk), message(tag, seq), seq % 2 === 0);
    assert.equal(sent.length, 1, `${from.name} -> ${to.name}: message ${seq} accepted`);
  }
  const seen: number[] = [];
  const received = (async () => {
    let next = 0;
    while (next < count) {
      const [key, msg] = await to.receiver.recv();
      if (msg[0] !== tag || !key.equals(from.pk)) continue;
      // High and low priority interleave, so order holds per priority: check each by its own seq.
      const seq = (msg[1]! << 8) | msg[2]!;
      assert.deepEqual(msg, message(tag, seq), `message ${seq} byte-exact`);
      next++;
      seen.push(seq);
    }
  })();
  await deadline(received, WAIT_MS, `${to.name} receives ${count} from ${from.name}`);
  const high = seen.filter((s) => s % 2 === 0);
  const low = seen.filter((s) => s % 2 === 1);
  assert.deepEqual(
    high,
    [...high].sort((x, y) => x - y),
    'high priority in order',
  );
  assert.deepEqual(
    low,
    [...low].sort((x, y) => x - y),
    'low priority in order',
  );
  assert.equal(new Set(seen).size, count, 'each once');
}

/** A round trip on a fresh tag, after a reconnection, proves the new connection carries data. */
async function roundTrip(a: TcpPeer, b: TcpPeer, tag: number): Promise<void> {
  await exact(a, b, tag, 5);
  await exact(b, a, tag, 5);
}

/**
 * Runs `body` on the Node runtime (short read timeout), then asserts that no socket, server or
 * timer is left and that no promise rejection went unhandled meanwhile.
 */
async function guarded(body: (ctx: Context) => Promise<void>): Promise<void> {
  const rejections = watchRejections();
  const baseline = openResources();
  try {
    await nodeRuntime({ readTimeoutMs: READ_TIMEOUT_MS }).run(body);
  } finally {
    assert.deepEqual(rejections.stop(), [], 'no unhandled rejection');
  }
  assert.deepEqual(openResources(), baseline, 'every socket, server and timer released');
}

describe('lookup through the fault proxy (real TCP)', () => {
  test('1-byte writes both ways: handshake and 40 messages each way arrive byte-exactly', {
    timeout: 60_000,
  }, async () => {
    await guarded(async (ctx) => {
      const { a, b, proxies, stop } = await trio(ctx, { chunkBytes: 1 }, 11);
      try {
        const conn = await live(a, b, proxies);
        await exact(a, b, 1, 40);
        await exact(b, a, 2, 40);
        for (const dir of ['up', 'down'] as const) {
          assert.ok(conn.forwarded(dir) > 1_000, `${dir}: ${conn.forwarded(dir)} bytes`);
          assert.equal(conn.writes(dir), conn.forwarded(dir), `${dir}: one write per byte`);
        }
      } finally {
        await stop();
      }
    });
  });

  test('coalesced, delayed and jittered writes: 60 messages each way arrive byte-exactly', {
    timeout: 60_000,
  }, async () => {
    await guarded(async (ctx) => {
      const faults = { coalesceMs: 15, delayMs: 3, jitterMs: 20 };
      const { a, b, proxies, stop } = await trio(ctx, faults, 12);
      try {
        const conn = await live(a, b, proxies);
        const before = { up: conn.writes('up'), down: conn.writes('down') };
        await Promise.all([exact(a, b, 3, 60), exact(b, a, 4, 60)]);
        // 60 messages each way (sent at once) left in far fewer writes: frames were joined.
        for (const dir of ['up', 'down'] as const) {
          const writes = conn.writes(dir) - before[dir];
          assert.ok(writes >= 1 && writes < 30, `${dir}: ${writes} writes for 60+ frames`);
        }
      } finally {
        await stop();
      }
    });
  });

  test('stall, mid-write cut (each way), half-close and reset close only the proxied connection; it comes back', {
    timeout: 120_000,
  }, async () => {
    await guarded(async (ctx) => {
      const { a, b, c, proxies, stop } = await trio(ctx, {}, 13);
      const cMark = a.log.mark;
      const faults: [string, (conn: ProxyConnection) => void, boolean][] = [
        ['stall', (conn) => conn.stall(), false],
        ['cut a frame from b to a', (conn) => conn.cutMidWrite('up'), true],
        ['cut a frame from a to b', (conn) => conn.cutMidWrite('down'), true],
        ['half-close towards the listener', (conn) => conn.halfClose('up'), false],
        ['reset', (conn) => conn.reset(), false],
      ];
      try {
        let tag = 10;
        for (const [what, inject, needsTraffic] of faults) {
          const conn = await live(a, b, proxies);
          const accepted = proxies.reduce((n, p) => n + p.accepted.length, 0);
          const markA = a.log.mark;
          const markB = b.log.mark;
          inject(conn);
          if (needsTraffic) {
            // Frames in both directions, so whichever way the proxy carries them, one is cut.
            a.sender.send(Recipients.one(b.pk), message(99, 0), false);
            b.sender.send(Recipients.one(a.pk), message(99, 0), false);
          }
          await deadline(conn.closed, WAIT_MS, `${what}: the proxied connection closes`);
          await a.log.next(markA, 'disconnected', b.pk, WAIT_MS);
          await b.log.next(markB, 'disconnected', a.pk, WAIT_MS);
          await a.log.next(markA, 'connected', b.pk, WAIT_MS);
          await b.log.next(markB, 'connected', a.pk, WAIT_MS);
          await live(a, b, proxies);
          await roundTrip(a, b, tag++);
          // A cooldown-paced redial, not a storm: one or two new connections (a simultaneous dial).
          const dials = proxies.reduce((n, p) => n + p.accepted.length, 0) - accepted;
          assert.ok(dials >= 1 && dials <= 4, `${what}: ${dials} new proxied connections`);
        }
        // C, connected straight to A, never noticed.
        assert.deepEqual(a.log.since(cMark, 'disconnected', c.pk), [], 'C stayed connected');
        assert.ok(has(a, c));
        await exact(a, c, 50, 5);
      } finally {
        await stop();
      }
    });
  });

  test('a new connection stalled from its first byte is closed at the handshake deadline', {
    timeout: 60_000,
  }, async () => {
    await guarded(async (ctx) => {
      const { a, b, proxies, stop } = await trio(ctx, {}, 14);
      try {
        const conn = await live(a, b, proxies);
        // New connections are stalled from the start; the current one is reset.
        for (const p of proxies) p.faults = { ...p.faults, stalled: true };
        const next = proxies.map((p) => p.connection());
        const markA = a.log.mark;
        conn.reset();
        await a.log.next(markA, 'disconnected', b.pk, WAIT_MS);
        const stalled = await deadline(Promise.race(next), WAIT_MS, 'a redial reaches the proxy');
        await deadline(stalled.closed, WAIT_MS, 'the stalled handshake is given up');
        assert.equal(stalled.forwarded('up') + stalled.forwarded('down'), 0);
        assert.deepEqual(a.log.since(markA, 'connected', b.pk), []);
        for (const p of proxies) p.faults = { ...p.faults, stalled: false };
        await a.log.next(markA, 'connected', b.pk, WAIT_MS);
        await live(a, b, proxies);
        await roundTrip(a, b, 60);
      } finally {
        await stop();
      }
    });
  });
});
