import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeData } from '../../../../src/p2p/authenticated/data.js';
import {
  Actor as PeerActor,
  PeerMetrics,
} from '../../../../src/p2p/authenticated/lookup/peer/index.js';
import { PING_FRAME } from '../../../../src/p2p/authenticated/lookup/types.js';
import { whenAdmitted } from '../../../../src/p2p/authenticated/peer/protocol.js';
import type { P2PError } from '../../../../src/p2p/errors.js';
import type { Context } from '../../../../src/runtime/context.js';
import {
  FakeConn,
  FakeInbound,
  pk,
  Quota,
  routes,
  run,
  streamPair,
  text,
  utf8,
} from './helpers.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function actor(
  ctx: Context,
  channels: FakeInbound[],
  opts: { sendBatchSize?: number; pingFrequencyMs?: number; mailboxSize?: number } = {},
): ReturnType<typeof PeerActor.create> {
  return PeerActor.create({
    mailboxSize: opts.mailboxSize ?? 1000,
    sendBatchSize: opts.sendBatchSize ?? 8,
    pingFrequencyMs: opts.pingFrequencyMs ?? 1000,
    channels: routes(...channels),
    metrics: PeerMetrics.create(ctx.metrics),
  });
}

describe('lookup peer actor', () => {
  it('sends a keep-alive Ping every pingFrequencyMs, the first one period after start', async () => {
    await run(async (ctx) => {
      const { a, b } = await streamPair(ctx);
      const [peerA] = actor(ctx, [], { pingFrequencyMs: 1000 });
      const [peerB] = actor(ctx, [], { pingFrequencyMs: 1000 });
      const t0 = ctx.clock.now();
      const hA = ctx.spawn('a', (c) => peerA.run(c, a));
      const hB = ctx.spawn('b', (c) => peerB.run(c, b));
      await ctx.clock.sleep(3_500);
      assert.deepEqual(
        a.sender.times.map((t) => t - t0),
        [1000, 2000, 3000],
      );
      assert.deepEqual(
        a.sender.batches.map((batch) => batch.map(hex)),
        [['01'], ['01'], ['01']],
      );
      const m = PeerMetrics.create(ctx.metrics);
      assert.equal(m.sent.get({ peer: pk(2).toHex(), message: 'ping' }), 3);
      assert.equal(m.received.get({ peer: pk(1).toHex(), message: 'ping' }), 3);
      assert.equal(m.rateLimited.get({ peer: pk(1).toHex(), message: 'ping' }), 0);
      hA.stop();
      hB.stop();
      assert.equal((await hA.done)?.code, 'NetworkClosed');
      assert.equal((await hB.done)?.code, 'NetworkClosed');
    });
  });

  it('throttles inbound Pings to one per half ping period instead of dropping the connection', async () => {
    await run(async (ctx) => {
      const conn = new FakeConn(pk(2));
      const [peer] = actor(ctx, [], { pingFrequencyMs: 1000 });
      const h = ctx.spawn('p', (c) => peer.run(c, conn));
      for (let i = 0; i < 5; i++) conn.push(PING_FRAME);
      await ctx.clock.sleep(2_100);
      const m = PeerMetrics.create(ctx.metrics);
      const labels = { peer: pk(2).toHex(), message: 'ping' };
      assert.equal(m.received.get(labels), 5, 'all five read, one every 500 ms');
      assert.equal(m.rateLimited.get(labels), 4);
      assert.equal(conn.closed, false);
      h.stop();
      await h.done;
      assert.equal(conn.closed, true);
    });
  });

  it('writes at most sendBatchSize frames per sendMany, high before low', async () => {
    await run(async (ctx) => {
      const { a, b } = await streamPair(ctx);
      const inB = new FakeInbound(ctx, 0, Quota.perSecond(1000));
      const [peerA, , relayA] = actor(ctx, [], { sendBatchSize: 4 });
      const [peerB] = actor(ctx, [inB]);
      for (let i = 0; i < 7; i++) relayA.send(encodeData(0, utf8(`low${i}`)), false);
      for (let i = 0; i < 3; i++) relayA.send(encodeData(0, utf8(`high${i}`)), true);
      ctx.spawn('a', (c) => peerA.run(c, a));
      ctx.spawn('b', (c) => peerB.run(c, b));
      await ctx.clock.sleep(10);
      assert.deepEqual(
        a.sender.batches.map((batch) => batch.length),
        [4, 4, 2],
      );
      const order = [
        'high0',
        'high1',
        'high2',
        'low0',
        'low1',
        'low2',
        'low3',
        'low4',
        'low5',
        'low6',
      ];
      assert.deepEqual(
        inB.delivered.map((d) => d.message),
        order,
      );
      assert.ok(inB.delivered.every((d) => d.from === pk(1).toHex()));
      const m = PeerMetrics.create(ctx.metrics);
      assert.equal(m.sent.get({ peer: pk(2).toHex(), message: 'data_0' }), 10);
      assert.equal(m.received.get({ peer: pk(1).toHex(), message: 'data_0' }), 10);
    });
  });

  it('keeps the batches of each connection its own, small and over a chunk, sent in the same turns', async () => {
    await run(async (ctx) => {
      const one = await streamPair(ctx, 1, 2, 4000);
      const two = await streamPair(ctx, 3, 4, 4001);
      const inB = new FakeInbound(ctx, 0, Quota.perSecond(1000));
      const inD = new FakeInbound(ctx, 0, Quota.perSecond(1000));
      const [peerA, , relayA] = actor(ctx, [], { sendBatchSize: 8 });
      const [peerB] = actor(ctx, [inB]);
      const [peerC, , relayC] = actor(ctx, [], { sendBatchSize: 8 });
      const [peerD] = actor(ctx, [inD]);
      // A's batch is three 60 KiB frames (over one 128 KiB chunk: sent across awaits), C's small.
      const big = (i: number): Uint8Array => new Uint8Array(60 * 1024).fill(i);
      for (let i = 0; i < 3; i++) relayA.send(encodeData(0, big(i + 1)), false);
      for (let i = 0; i < 3; i++) relayC.send(encodeData(0, utf8(`c${i}`)), false);
      ctx.spawn('a', (c) => peerA.run(c, one.a));
      ctx.spawn('c', (c) => peerC.run(c, two.a));
      ctx.spawn('b', (c) => peerB.run(c, one.b));
      ctx.spawn('d', (c) => peerD.run(c, two.b));
      for (let i = 0; i < 3; i++) relayC.send(encodeData(0, utf8(`c${i + 3}`)), false);
      await ctx.clock.sleep(100);
      assert.deepEqual(
        inD.delivered.map((d) => d.message),
        ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'],
      );
      assert.deepEqual(
        inB.delivered.map((d) => [d.message.length, d.message.charCodeAt(0)]),
        [1, 2, 3].map((i) => [60 * 1024, i]),
      );
      assert.deepEqual(
        one.a.sender.batches.map((b) => b.length),
        [3],
      );
    });
  });

  it('puts a due Ping first in the next batch and counts it toward sendBatchSize', async () => {
    await run(async (ctx) => {
      const conn = new FakeConn(pk(2));
      let open!: () => void;
      conn.gate = new Promise((resolve) => {
        open = resolve;
      });
      const [peer, , relay] = actor(ctx, [], { sendBatchSize: 3, pingFrequencyMs: 100 });
      ctx.spawn('p', (c) => peer.run(c, conn));
      relay.send(encodeData(0, utf8('m0')), false);
      await ctx.clock.sleep(50); // the first write is stuck until t = 150
      for (let i = 1; i <= 4; i++) relay.send(encodeData(0, utf8(`m${i}`)), false);
      await ctx.clock.sleep(100);
      conn.gate = undefined;
      open();
      await ctx.clock.sleep(1);
      const shown = conn.sent.map((batch) =>
        batch.map((f) => (f === PING_FRAME ? 'ping' : text(f.subarray(3)))),
      );
      assert.deepEqual(shown, [['m0'], ['ping', 'm1', 'm2'], ['m3', 'm4']]);
    });
  });

  it('pauses an over-quota peer: exactly the quota is delivered in the window, the rest later, none dropped', async () => {
    await run(async (ctx) => {
      const { a, b } = await streamPair(ctx);
      const inB = new FakeInbound(ctx, 2, Quota.perSecond(5)); // burst 5, then one per 200 ms
      const [peerA, , relayA] = actor(ctx, [], { sendBatchSize: 32 });
      const [peerB] = actor(ctx, [inB], { pingFrequencyMs: 60_000 });
      ctx.spawn('a', (c) => peerA.run(c, a));
      ctx.spawn('b', (c) => peerB.run(c, b));
      const t0 = ctx.clock.now();
      for (let i = 0; i < 20; i++) relayA.send(encodeData(2, utf8(`m${i}`)), false);
      await ctx.clock.sleep(999);
      assert.equal(inB.delivered.length, 5 + 4, 'burst plus one per 200 ms in the first second');
      await ctx.clock.sleep(5_000);
      assert.deepEqual(
        inB.delivered.map((d) => d.message),
        Array.from({ length: 20 }, (_, i) => `m${i}`),
      );
      const offsets = inB.delivered.map((d) => d.at - t0);
      assert.deepEqual(offsets.slice(0, 5), [0, 0, 0, 0, 0]);
      assert.deepEqual(
        offsets.slice(5),
        Array.from({ length: 15 }, (_, i) => 200 * (i + 1)),
      );
      const m = PeerMetrics.create(ctx.metrics);
      assert.equal(m.rateLimited.get({ peer: pk(1).toHex(), message: 'data_2' }), 15);
    });
  });

  it('closes the connection on data for an unknown channel with metric cardinality constant', async () => {
    await run(async (ctx) => {
      // Over a real stream: the receiver ends with InvalidChannel and the dialer sees the close.
      const { a, b } = await streamPair(ctx);
      const inB = new FakeInbound(ctx, 0, Quota.perSecond(10));
      const [peerA, , relayA] = actor(ctx, []);
      const [peerB] = actor(ctx, [inB]);
      const hA = ctx.spawn('a', (c) => peerA.run(c, a));
      const hB = ctx.spawn('b', (c) => peerB.run(c, b));
      relayA.send(encodeData(0, utf8('fine')), false);
      relayA.send(encodeData(123_456, utf8('bad')), false);
      relayA.send(encodeData(0, utf8('never')), false);
      assert.equal((await hB.done)?.code, 'InvalidChannel');
      assert.equal((await hA.done)?.code, 'ReceiveFailed');
      assert.deepEqual(
        inB.delivered.map((d) => d.message),
        ['fine'],
      );

      // Many distinct unknown channels over many connections: one `invalid` series per peer.
      const before = (await ctx.metrics.encode()).split('\n').length;
      const reasons: string[] = [];
      for (let i = 0; i < 200; i++) {
        const conn = new FakeConn(pk(2));
        const [peer] = actor(ctx, [inB]);
        const h = ctx.spawn('x', (c) => peer.run(c, conn));
        conn.push(encodeData(1_000_000 + i, utf8('?')));
        reasons.push((await h.done)?.code ?? 'none');
        assert.equal(conn.closed, true);
      }
      assert.ok(reasons.every((r) => r === 'InvalidChannel'));
      const text = await ctx.metrics.encode();
      assert.doesNotMatch(text, /data_1000/);
      const m = PeerMetrics.create(ctx.metrics);
      assert.equal(m.received.get({ peer: pk(2).toHex(), message: 'invalid' }), 200);
      assert.ok(text.split('\n').length <= before + 2, 'at most one new series');
    });
  });

  it('closes the connection on a frame that does not decode', async () => {
    await run(async (ctx) => {
      const conn = new FakeConn(pk(3));
      const [peer] = actor(ctx, []);
      const h = ctx.spawn('p', (c) => peer.run(c, conn));
      conn.push(Uint8Array.of(0x07, 0x00));
      assert.equal((await h.done)?.code, 'DecodeFailed');
      assert.equal(conn.closed, true);
      const m = PeerMetrics.create(ctx.metrics);
      assert.equal(m.received.get({ peer: pk(3).toHex(), message: 'invalid' }), 1);
    });
  });

  it('takes only the exact one-byte frame as a Ping: a Ping tag with trailing bytes does not decode', async () => {
    await run(async (ctx) => {
      const conn = new FakeConn(pk(4));
      const [peer] = actor(ctx, [], { pingFrequencyMs: 1000 });
      const h = ctx.spawn('p', (c) => peer.run(c, conn));
      conn.push(PING_FRAME);
      conn.push(Uint8Array.of(0x01, 0x00));
      assert.equal((await h.done)?.code, 'DecodeFailed');
      const m = PeerMetrics.create(ctx.metrics);
      assert.equal(m.received.get({ peer: pk(4).toHex(), message: 'ping' }), 1);
      assert.equal(m.received.get({ peer: pk(4).toHex(), message: 'invalid' }), 1);
    });
  });

  it('whenAdmitted continues at once when the quota granted, after the wait otherwise', async () => {
    let ran = 0;
    const then = (): null => {
      ran++;
      return null;
    };
    assert.equal(whenAdmitted(true, then), null, 'granted: no promise');
    assert.equal(ran, 1);
    const waited = whenAdmitted(Promise.resolve(true), then);
    assert.ok(waited instanceof Promise);
    assert.equal(ran, 1, 'not before the wait ends');
    assert.equal(await waited, null);
    assert.equal(ran, 2);
    const ended = await whenAdmitted(Promise.resolve(false), then);
    assert.equal((ended as P2PError).code, 'PeerDisconnected');
    assert.equal(ran, 2, 'a peer that ended meanwhile: its frame is not handled');
  });

  it('ends the connection on kill, ahead of queued data', async () => {
    await run(async (ctx) => {
      const { a, b } = await streamPair(ctx);
      const inB = new FakeInbound(ctx, 0, Quota.perSecond(10));
      const [peerA, controlA, relayA] = actor(ctx, []);
      const [peerB] = actor(ctx, [inB]);
      relayA.send(encodeData(0, utf8('queued')), true);
      controlA.kill();
      controlA.kill(); // idempotent
      const hA = ctx.spawn('a', (c) => peerA.run(c, a));
      const hB = ctx.spawn('b', (c) => peerB.run(c, b));
      assert.equal((await hA.done)?.code, 'PeerKilled');
      assert.equal((await hB.done)?.code, 'ReceiveFailed');
      assert.equal(a.sender.batches.length, 0, 'nothing sent after the kill');
      assert.equal(inB.delivered.length, 0);
      assert.equal(relayA.send(encodeData(0, utf8('after')), true), false, 'relay closed');
    });
  });

  it('ends on kill while running, and on a stopped context with NetworkClosed', async () => {
    await run(async (ctx) => {
      const conn = new FakeConn(pk(4));
      const inbound = new FakeInbound(ctx, 0, Quota.perSecond(10));
      const [peer, control] = actor(ctx, [inbound]);
      const h = ctx.spawn('p', (c) => peer.run(c, conn));
      conn.push(encodeData(0, utf8('one')));
      await ctx.clock.sleep(100);
      assert.equal(inbound.delivered.length, 1);
      control.kill();
      assert.equal((await h.done)?.code, 'PeerKilled');
      assert.equal(conn.closed, true);

      const conn2 = new FakeConn(pk(4));
      const [peer2] = actor(ctx, [inbound]);
      let result: P2PError | undefined;
      const h2 = ctx.spawn('q', async (c) => {
        result = await peer2.run(c, conn2);
        return result;
      });
      await ctx.clock.sleep(10);
      h2.stop();
      await h2.done;
      assert.equal(result?.code, 'NetworkClosed');
      assert.equal(conn2.closed, true);
      await assert.rejects(peer2.run(ctx, conn2), /runs once/);
    });
  });

  it('is deterministic: the same seed gives the same digest', async () => {
    const { deterministicRuntime } = await import('../../../../src/runtime/index.js');
    const scenario = async (ctx: Context): Promise<string[]> => {
      const { a, b } = await streamPair(ctx);
      const inB = new FakeInbound(ctx, 0, Quota.perSecond(3));
      const [peerA, , relayA] = actor(ctx, [], { sendBatchSize: 2, pingFrequencyMs: 300 });
      const [peerB] = actor(ctx, [inB], { pingFrequencyMs: 300 });
      ctx.spawn('a', (c) => peerA.run(c, a));
      ctx.spawn('b', (c) => peerB.run(c, b));
      for (let i = 0; i < 10; i++) relayA.send(encodeData(0, utf8(`m${i}`)), i % 2 === 0);
      await ctx.clock.sleep(5_000);
      return inB.delivered.map((d) => `${d.message}@${d.at}`);
    };
    const x = await deterministicRuntime({ seed: 11 }).run(scenario);
    const y = await deterministicRuntime({ seed: 11 }).run(scenario);
    assert.equal(x.digest, y.digest);
    assert.deepEqual(x.result, y.result);
    assert.equal(x.result.length, 10);
  });
});
