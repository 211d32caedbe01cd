/**
 * Security row 6 (connection floods), the honest side: on the deterministic runtime, for lookup
 * and discovery, honest traffic keeps its rate while the target is flooded with handshakes from
 * many source addresses (the simulated network dials from any IP), each scenario run twice for
 * one digest.
 *
 * The target's limits: per-subnet burst {@link SUBNET_BURST}, per-IP burst 4, both over a
 * 10-minute period (far longer than the run, so every count is exact), at most
 * {@link MAX_CONCURRENT} handshakes at once, and a handshake deadline (60 s) beyond the flood, so
 * every admitted flooder holds its slot throughout. The flood: every second for
 * {@link WAVES} s, one silent socket from each of 20 fresh IPs in each of {@link SUBNETS} /24
 * subnets (1,200 sockets). The first wave fills `SUBNETS × SUBNET_BURST` = 48 slots, every other
 * socket is refused by the subnet limit (exactly 1,152), none by the concurrency cap; an
 * honest peer already connected sends {@link RATE} messages a second throughout, and a second
 * honest peer starting 2 s into the flood, known to the target only at an address where nobody
 * listens (so only its own inbound handshake can join them), connects and sends at the same
 * rate. Asserted: both are delivered exactly {@link RATE} messages in every second of the flood
 * (the same as in the 10 s before it), the late one from its first full second connected on,
 * and it connected within 3 s.
 *
 * How we know the test bites (checked by editing the built `listener.js` locally and running
 * this file, then restoring it): making the subnet check always pass lets the first wave take
 * all 64 slots (and the concurrency cap refuse the rest): the late honest peer's handshake is
 * refused until the flooders' deadlines pass, it never connects within the flood and the wait
 * for it fails (for both flavours), as do the exact refusal counts.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ed25519 } from '../../src/crypto/index.js';
import type { Receiver, Sender } from '../../src/p2p/authenticated/channels.js';
import { Recipients } from '../../src/p2p/types.js';
import { Quota } from '../../src/quota/index.js';
import type { Connection, Context, Handle } from '../../src/runtime/context.js';
import { simulatedNetwork } from '../../src/runtime/index.js';
import * as discovery from '../p2p/authenticated/discovery/network/helpers.js';
import * as lookup from '../p2p/authenticated/lookup/network/helpers.js';
import { perSecond, twice } from '../p2p/authenticated/scenarios.js';

const PERIOD_MS = 10 * 60_000;
const SUBNET_BURST = 8;
const MAX_CONCURRENT = 64;
const SUBNETS = 6;
const IPS = 20;
const WAVES = 10;
const RATE = 10;

const LIMITS = {
  allowedHandshakeRatePerIp: Quota.withPeriod(PERIOD_MS).allowBurst(4),
  allowedHandshakeRatePerSubnet: Quota.withPeriod(PERIOD_MS).allowBurst(SUBNET_BURST),
  maxConcurrentHandshakes: MAX_CONCURRENT,
  handshakeTimeoutMs: 60_000,
} as const;

/** What the scenario needs of a peer of either flavour. */
interface Node {
  readonly pk: ed25519.PublicKey;
  readonly ip: string;
  readonly sender: Sender;
  readonly receiver: Receiver;
  readonly handle: Handle<void>;
  connected(other: Node): boolean;
}

/** The target, the honest peer connected before the flood, and a starter for the late one. */
interface Setup {
  readonly target: Node & { readonly ctx: Context; handshakesInFlight(): number };
  readonly early: Node;
  startLate(): Node;
}

function nodeOf(p: {
  pk: ed25519.PublicKey;
  ip: string;
  sender: Sender;
  receiver: Receiver;
  handle: Handle<void>;
  network: { connectedPeers(): ed25519.PublicKey[] };
}): Node {
  return {
    pk: p.pk,
    ip: p.ip,
    sender: p.sender,
    receiver: p.receiver,
    handle: p.handle,
    connected: (o) => p.network.connectedPeers().some((k) => k.equals(o.pk)),
  };
}

function lookupSetup(ctx: Context): Setup {
  const t = lookup.startPeer(ctx, 0, { overrides: { ...LIMITS, bypassIpCheck: true } });
  const a = lookup.startPeer(ctx, 1);
  const entries: [ed25519.PublicKey, string][] = [
    ...lookup.entries([t, a]),
    // Known at an address where nobody listens: only its own inbound connection joins it.
    [lookup.signer(2).publicKey, `${lookup.ipOf(2)}:2999`],
  ];
  for (const p of [t, a]) p.oracle.register(0, entries);
  return {
    target: { ...nodeOf(t), ctx: t.ctx, handshakesInFlight: () => t.network.handshakesInFlight },
    early: nodeOf(a),
    startLate() {
      const b = lookup.startPeer(ctx, 2);
      b.oracle.register(0, entries);
      return nodeOf(b);
    },
  };
}

function discoverySetup(ctx: Context): Setup {
  const t = discovery.startPeer(ctx, 0, { overrides: LIMITS });
  const a = discovery.startPeer(ctx, 1, { bootstrappers: [t] });
  const set = [t.pk, a.pk, discovery.signer(2).publicKey];
  for (const p of [t, a]) p.oracle.register(0, set);
  return {
    target: { ...nodeOf(t), ctx: t.ctx, handshakesInFlight: () => t.network.handshakesInFlight },
    early: nodeOf(a),
    startLate() {
      // It signs an address where nobody listens: only its own inbound connection joins it.
      const b = discovery.startPeer(ctx, 2, {
        bootstrappers: [t],
        overrides: { dialable: `${discovery.ipOf(2)}:2999` },
      });
      b.oracle.register(0, set);
      return nodeOf(b);
    },
  };
}

async function scenario(ctx: Context, setupOf: (ctx: Context) => Setup) {
  const s = setupOf(ctx);
  const { target, early } = s;
  await lookup.until(ctx, () => target.connected(early) && early.connected(target), 'early peer');
  const arrivals = new Map<string, number[]>();
  const recv = ctx.spawn('recv', async () => {
    for (;;) {
      const [from] = await target.receiver.recv().catch(() => [undefined]);
      if (from === undefined) return; // the target stopped
      const hex = from.toHex();
      arrivals.set(hex, [...(arrivals.get(hex) ?? []), ctx.clock.now()]);
    }
  });
  const senders: Handle<void>[] = [];
  const sendAtRate = (n: Node) =>
    senders.push(
      ctx.spawn('send', async (c) => {
        for (let k = 0; k < 10_000 && !c.signal.aborted; k++) {
          n.sender.send(Recipients.one(target.pk), Uint8Array.of(k & 0xff), false);
          await c.clock.sleep(1000 / RATE, c.signal).catch(() => undefined);
        }
      }),
    );
  sendAtRate(early);
  await ctx.clock.sleep(10_000);
  const of = (n: Node) => arrivals.get(n.pk.toHex()) ?? [];
  const baseline = perSecond(of(early), ctx.clock.now() - 10_000, 10);
  assert.deepEqual(baseline, new Array(10).fill(RATE), 'baseline');

  // The flood: a wave of silent sockets every second.
  const net = simulatedNetwork(ctx);
  const sockets: Connection[] = [];
  const floodStart = ctx.clock.now();
  let late: Node | undefined;
  let lateConnectedAt = -1;
  for (let w = 0; w < WAVES; w++) {
    for (let n = 0; n < SUBNETS; n++) {
      for (let h = 0; h < IPS; h++) {
        // Subnet 10.60.n.0/24; a fresh host in it every wave.
        const ip = `10.60.${n}.${w * IPS + h + 1}`;
        const conn = await net.host(ip).dial({ ip: target.ip, port: 3000 });
        sockets.push(conn);
      }
    }
    if (w === 2) {
      late = s.startLate();
      sendAtRate(late);
    }
    if (late !== undefined && lateConnectedAt < 0 && target.connected(late)) {
      lateConnectedAt = ctx.clock.now();
    }
    for (let step = 0; step < 10; step++) {
      await ctx.clock.sleep(100);
      if (late !== undefined && lateConnectedAt < 0 && target.connected(late)) {
        lateConnectedAt = ctx.clock.now();
      }
    }
  }
  const floodEnd = ctx.clock.now();
  assert.ok(late !== undefined);
  assert.ok(lateConnectedAt >= 0, 'the late honest peer connected during the flood');
  const lateStart = floodStart + 2_000;
  assert.ok(
    lateConnectedAt - lateStart <= 3_000,
    `late peer connected after ${lateConnectedAt - lateStart} ms`,
  );
  const m = target.ctx.child('network').child('listener').metrics;
  const count = (name: string) => m.counter(name, '').get();
  const flooders = SUBNETS * IPS * WAVES;
  assert.equal(count('handshake_subnet_rate_limited'), flooders - SUBNETS * SUBNET_BURST);
  assert.equal(count('handshake_concurrent_rate_limited'), 0);
  assert.equal(count('handshake_ip_rate_limited'), 0);
  assert.equal(target.handshakesInFlight(), SUBNETS * SUBNET_BURST, 'admitted flooders hold slots');
  const seconds = Math.floor((floodEnd - floodStart) / 1000);
  const during = perSecond(of(early), floodStart, seconds);
  assert.deepEqual(during, new Array(seconds).fill(RATE), 'the early peer at its rate');
  const from = Math.ceil((lateConnectedAt - floodStart) / 1000) + 1;
  const lateDuring = perSecond(of(late), floodStart, seconds).slice(from);
  assert.deepEqual(lateDuring, new Array(seconds - from).fill(RATE), 'the late peer at its rate');
  for (const h of senders) h.stop();
  await Promise.all(senders.map((h) => h.done));
  for (const c of sockets) c.close();
  for (const n of [target, early, late]) n.handle.stop();
  await Promise.all([target, early, late].map((n) => n.handle.done.catch(() => undefined)));
  await recv.done;
  return { lateConnectedMs: lateConnectedAt - lateStart, during, lateDuring };
}

describe('honest traffic keeps its rate during a handshake flood from many addresses (deterministic)', () => {
  test('lookup (bypassIpCheck)', async () => {
    const r = await twice(101, (ctx) => scenario(ctx, lookupSetup), { timeLimitMs: 600_000 });
    assert.ok(r.during.length >= WAVES - 1);
  });

  test('discovery', async () => {
    const r = await twice(102, (ctx) => scenario(ctx, discoverySetup), { timeLimitMs: 600_000 });
    assert.ok(r.during.length >= WAVES - 1);
  });
});
