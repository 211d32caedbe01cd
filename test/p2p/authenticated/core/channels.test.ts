import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ring } from '../../../../src/actor/index.js';
import type { PublicKey } from '../../../../src/crypto/ed25519.js';
import { Channels } from '../../../../src/p2p/authenticated/channels.js';
import { encodeData } from '../../../../src/p2p/authenticated/data.js';
import { Relay, type RelayInboxes } from '../../../../src/p2p/authenticated/relay.js';
import { Actor as Router } from '../../../../src/p2p/authenticated/router/index.js';
import { P2PError } from '../../../../src/p2p/errors.js';
import { Recipients } from '../../../../src/p2p/types.js';
import type { Context } from '../../../../src/runtime/context.js';
import { pk, Quota, run, text, utf8 } from './helpers.js';

const tick = (ctx: Context): Promise<void> => ctx.clock.sleep(1);
const hexes = (keys: readonly { toHex(): string }[]): string[] => keys.map((k) => k.toHex());
const isCode =
  (code: string) =>
  (e: unknown): boolean =>
    e instanceof P2PError && e.code === code;

/** A started router with `n` connected peers (keys 1..n) and their queues. */
async function network(
  ctx: Context,
  n: number,
  opts: { maxMessageSize?: number; retainedPeers?: number } = {},
): Promise<{
  channels: Channels;
  queues: RelayInboxes[];
  router: ReturnType<typeof Router.create>[1];
}> {
  const channels = new Channels(ctx, {
    maxMessageSize: opts.maxMessageSize ?? 1024,
    retainedPeers: opts.retainedPeers ?? 4,
  });
  const [actor, router] = Router.create(ctx, { mailboxSize: 1000 });
  actor.start();
  const queues: RelayInboxes[] = [];
  for (let i = 1; i <= n; i++) {
    const [relay, q] = Relay.create(1000);
    router.ready(pk(i), relay);
    queues.push(q);
  }
  await tick(ctx);
  return { channels, queues, router };
}

describe('Channels', () => {
  it('throws MessageTooLarge before anything else, and accepts exactly maxMessageSize', async () => {
    await run(async (ctx) => {
      const { channels, router, queues } = await network(ctx, 1, { maxMessageSize: 10 });
      const [sender] = channels.register(0, Quota.perSecond(1));
      channels.start(router);
      await tick(ctx);
      assert.throws(
        () => sender.send(Recipients.one(pk(1)), new Uint8Array(11), false),
        isCode('MessageTooLarge'),
      );
      // The oversize attempt used no quota: the one cell is still there.
      assert.deepEqual(hexes(sender.send(Recipients.one(pk(1)), new Uint8Array(10), false)), [
        pk(1).toHex(),
      ]);
      await tick(ctx);
      assert.deepEqual(queues[0]!.low.drain(), [encodeData(0, new Uint8Array(10))]);
      channels.close();
      assert.throws(
        () => sender.send(Recipients.all(), new Uint8Array(11), false),
        isCode('MessageTooLarge'),
      );
    });
  });

  it('never sends beyond the outbound quota of a recipient', async () => {
    await run(async (ctx) => {
      const { channels, router, queues } = await network(ctx, 2);
      const [sender] = channels.register(3, Quota.perSecond(2)); // burst 2, one every 500 ms
      channels.start(router);
      await tick(ctx);
      const one = (): number => sender.send(Recipients.one(pk(1)), utf8('x'), true).length;
      assert.deepEqual([one(), one(), one()], [1, 1, 0]);
      await ctx.clock.sleep(499);
      assert.equal(one(), 0, '1 ms before the next cell');
      await ctx.clock.sleep(1);
      assert.equal(one(), 1, 'exactly at the next cell');
      assert.equal(one(), 0);
      // Some keeps only the allowed recipients; a cell is consumed for each allowed one.
      assert.deepEqual(hexes(sender.send(Recipients.some([pk(1), pk(2)]), utf8('y'), true)), [
        pk(2).toHex(),
      ]);
      // All expands to the connected snapshot: pk(2) still has one cell, pk(1) none.
      assert.deepEqual(hexes(sender.send(Recipients.all(), utf8('z'), true)), [pk(2).toHex()]);
      assert.deepEqual(sender.send(Recipients.all(), utf8('w'), true), []);
      // Clones share the limiter.
      assert.deepEqual(sender.clone().send(Recipients.one(pk(2)), utf8('v'), true), []);
      await tick(ctx);
      assert.equal(queues[0]!.high.size, 3);
      assert.equal(queues[1]!.high.size, 2);
      // Over a long window, at most burst + window / interval messages go through.
      let sent = 0;
      for (let t = 0; t < 10_000; t += 50) {
        sent += one();
        await ctx.clock.sleep(50);
      }
      assert.ok(sent <= 2 + 20 && sent >= 19, `sent ${sent} in 10 s at 2/s`);
    });
  });

  it('expands All to the latest connected snapshot and returns [] with nobody connected', async () => {
    await run(async (ctx) => {
      const { channels, router, queues } = await network(ctx, 0);
      const [sender] = channels.register(1, Quota.perSecond(100));
      channels.start(router);
      await tick(ctx);
      assert.deepEqual(sender.send(Recipients.all(), utf8('a'), false), []);
      const [relay, q] = Relay.create(10);
      router.ready(pk(4), relay);
      queues.push(q);
      await tick(ctx);
      assert.deepEqual(hexes(sender.send(Recipients.all(), utf8('b'), false)), [pk(4).toHex()]);
      // One/Some to a peer that is not connected are not attempted.
      assert.deepEqual(sender.send(Recipients.one(pk(7)), utf8('c'), false), []);
      assert.deepEqual(hexes(sender.send(Recipients.some([pk(7), pk(4)]), utf8('c'), false)), [
        pk(4).toHex(),
      ]);
      router.release(pk(4));
      await tick(ctx);
      assert.deepEqual(sender.send(Recipients.all(), utf8('d'), false), []);
      assert.deepEqual(
        q.low.drain().map((b) => text(b.subarray(3))),
        ['b', 'c'],
      );
    });
  });

  it('drops the newest inbound message when the channel queue is full, and counts it', async () => {
    await run(async (ctx) => {
      const channels = new Channels(ctx, { maxMessageSize: 100, retainedPeers: 2 });
      const [, receiver] = channels.register(5, Quota.perSecond(3)); // capacity 2 * 3 = 6
      const inbound = channels.inbound(5)!;
      assert.equal(inbound.quota.burstSize, 3);
      assert.equal(channels.capacity, 6);
      const results = Array.from({ length: 9 }, (_, i) =>
        inbound.deliver(pk(1 + (i % 2)), utf8(`m${i}`)),
      );
      assert.deepEqual(results, [true, true, true, true, true, true, false, false, false]);
      assert.equal(receiver.size, 6);
      const got: string[] = [];
      for (let i = 0; i < 6; i++) {
        const [from, msg] = await receiver.recv();
        assert.equal(from.toHex(), pk(1 + (i % 2)).toHex());
        got.push(text(msg));
      }
      assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
      assert.match(await ctx.metrics.encode(), /channel_mailbox_dropped_total\{channel="5"\} 3/);
      assert.equal(channels.inbound(6), undefined);
    });
  });

  it('rejects recv with NetworkClosed after shutdown, pending and later, and ends iteration', async () => {
    await run(async (ctx) => {
      const channels = new Channels(ctx, { maxMessageSize: 100, retainedPeers: 1 });
      const [sender, receiver] = channels.register(0, Quota.perSecond(10));
      channels.inbound(0)!.deliver(pk(1), utf8('before'));
      const collected: string[] = [];
      const loop = (async () => {
        for await (const [, m] of receiver) collected.push(text(m));
      })();
      const pending = receiver.recv();
      await tick(ctx);
      channels.inbound(0)!.deliver(pk(1), utf8('second'));
      await tick(ctx);
      channels.close();
      await loop;
      const results = await Promise.allSettled([pending, receiver.recv()]);
      assert.equal(collected.length + results.filter((r) => r.status === 'fulfilled').length, 2);
      for (const r of results.filter((x) => x.status === 'rejected')) {
        assert.ok(isCode('NetworkClosed')((r as PromiseRejectedResult).reason));
      }
      await assert.rejects(receiver.recv(), isCode('NetworkClosed'));
      // Sends after shutdown return [] and never throw; deliveries are dropped.
      assert.deepEqual(sender.send(Recipients.one(pk(1)), utf8('x'), true), []);
      assert.deepEqual(sender.send(Recipients.all(), utf8('x'), true), []);
      assert.equal(channels.inbound(0)!.deliver(pk(1), utf8('late')), false);
      assert.throws(() => channels.start({} as never), isCode('NetworkClosed'));
    });
  });

  it('closes when the context that owns it stops', async () => {
    await run(async (ctx) => {
      let channels!: Channels;
      const owner = ctx.spawn('owner', async (c) => {
        channels = new Channels(c, { maxMessageSize: 100, retainedPeers: 1 });
        await c.clock.sleep(1_000_000);
      });
      await ctx.clock.sleep(1);
      const [sender, receiver] = channels.register(0, Quota.perSecond(10));
      const pending = assert.rejects(receiver.recv(), isCode('NetworkClosed'));
      owner.stop();
      await owner.done;
      await pending;
      assert.equal(channels.isClosed, true);
      assert.deepEqual(sender.send(Recipients.one(pk(1)), utf8('x'), true), []);
    });
  });

  it('lets a recv be cancelled by its signal without losing a message', async () => {
    await run(async (ctx) => {
      const channels = new Channels(ctx, { maxMessageSize: 100, retainedPeers: 1 });
      const [, receiver] = channels.register(0, Quota.perSecond(10));
      const ac = new AbortController();
      const cancelled = receiver.recv({ signal: ac.signal });
      ac.abort(new Error('stop'));
      await assert.rejects(cancelled, /stop/);
      channels.inbound(0)!.deliver(pk(1), utf8('kept'));
      assert.equal(text((await receiver.recv())[1]), 'kept');
    });
  });

  it('returns [] before start, using no quota, and sends after start', async () => {
    await run(async (ctx) => {
      const { channels, router, queues } = await network(ctx, 1);
      const [sender] = channels.register(9, Quota.perSecond(1));
      for (const recipients of [
        Recipients.one(pk(1)),
        Recipients.some([pk(1)]),
        Recipients.all(),
      ]) {
        assert.deepEqual(sender.send(recipients, utf8('early'), true), [], 'nobody known yet');
      }
      await tick(ctx);
      assert.equal(queues[0]!.high.size, 0);
      channels.start(router);
      channels.start(router); // idempotent
      await tick(ctx);
      // The early sends used no cell: the only one is still there.
      assert.deepEqual(hexes(sender.send(Recipients.one(pk(1)), utf8('late'), true)), [
        pk(1).toHex(),
      ]);
      await tick(ctx);
      assert.equal(queues[0]!.high.size, 1);
    });
  });

  it('one and some attempt only connected recipients; the others use no quota', async () => {
    await run(async (ctx) => {
      const { channels, router, queues } = await network(ctx, 2);
      const [sender] = channels.register(2, Quota.perSecond(1)); // burst 1
      channels.start(router);
      await tick(ctx);
      const stranger = pk(9); // not connected (yet)
      assert.deepEqual(sender.send(Recipients.one(stranger), utf8('a'), true), []);
      assert.deepEqual(
        hexes(sender.send(Recipients.some([stranger, pk(2), stranger, pk(2)]), utf8('b'), true)),
        [pk(2).toHex()],
      );
      router.release(pk(1));
      await tick(ctx);
      // pk(1) is gone: not attempted, and its cell is kept for when it is back.
      assert.deepEqual(sender.send(Recipients.one(pk(1)), utf8('c'), true), []);
      assert.deepEqual(sender.send(Recipients.some([pk(1), pk(2)]), utf8('d'), true), []);
      const [relay, q] = Relay.create(10);
      router.ready(pk(1), relay);
      router.ready(stranger, Relay.create(10)[0]);
      await tick(ctx);
      assert.deepEqual(hexes(sender.send(Recipients.one(pk(1)), utf8('e'), true)), [pk(1).toHex()]);
      assert.deepEqual(hexes(sender.send(Recipients.one(stranger), utf8('f'), true)), [
        stranger.toHex(),
      ]);
      await tick(ctx);
      assert.equal(queues[0]!.high.size, 0);
      assert.deepEqual(
        q.high.drain().map((b) => text(b.subarray(3))),
        ['e'],
      );
      assert.deepEqual(
        queues[1]!.high.drain().map((b) => text(b.subarray(3))),
        ['b'],
      );
    });
  });

  it('returns [] when the router rejects the content, having consumed the quota', async () => {
    await run(async (ctx) => {
      const channels = new Channels(ctx, { maxMessageSize: 100, retainedPeers: 1 });
      const [sender] = channels.register(0, Quota.perSecond(1));
      let calls = 0;
      const [snapshots, peers] = ring<readonly PublicKey[]>(1);
      snapshots.send([pk(1)]);
      channels.start({
        content: () => {
          calls++;
          return 'dropped';
        },
        subscribePeers: () => peers,
      });
      assert.deepEqual(sender.send(Recipients.one(pk(1)), utf8('x'), true), []);
      // The check consumed the only cell even though the router rejected the message.
      assert.deepEqual(sender.send(Recipients.one(pk(1)), utf8('x'), true), []);
      assert.equal(calls, 1, 'a limited send never reaches the router');
      const rejected = ctx.metrics.counter('router_rejected', '', ['channel']);
      assert.equal(rejected.get({ channel: 0 }), 1, 'the rejection is counted, per channel');
    });
  });

  it('validates registrations: channel numbers, duplicates, and no registration after start', async () => {
    await run(async (ctx) => {
      const { channels, router } = await network(ctx, 0);
      for (const bad of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1]) {
        assert.throws(() => channels.register(bad, Quota.perSecond(1)), isCode('InvalidChannel'));
      }
      channels.register(Number.MAX_SAFE_INTEGER, Quota.perSecond(1));
      channels.register(0, Quota.perSecond(1));
      assert.throws(() => channels.register(0, Quota.perSecond(1)), isCode('DuplicateChannel'));
      assert.deepEqual(channels.channels(), [Number.MAX_SAFE_INTEGER, 0]);
      channels.start(router);
      assert.throws(() => channels.register(1, Quota.perSecond(1)), isCode('InvalidConfig'));
      assert.throws(
        () => new Channels(ctx, { maxMessageSize: -1, retainedPeers: 1 }),
        isCode('InvalidConfig'),
      );
    });
  });
});
