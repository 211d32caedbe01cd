import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ed25519 } from '../../../../src/crypto/index.js';
import { Relay, type RelayInboxes, relayMetrics } from '../../../../src/p2p/authenticated/relay.js';
import { Actor as Router } from '../../../../src/p2p/authenticated/router/index.js';
import { Recipients } from '../../../../src/p2p/types.js';
import type { Context } from '../../../../src/runtime/context.js';
import { pk, run } from './helpers.js';

function connect(
  router: ReturnType<typeof Router.create>[1],
  key: ed25519.PublicKey,
  size = 16,
): RelayInboxes & { relay: Relay } {
  const [relay, queues] = Relay.create(size);
  router.ready(key, relay);
  return { relay, high: queues.high, low: queues.low };
}

const tick = (ctx: Context): Promise<void> => ctx.clock.sleep(1);
const firsts = (q: RelayInboxes['high']): number[] => q.drain().map((b) => b[0]!);

describe('Router', () => {
  it('fans One, Some and All out to connected recipients only, each once', async () => {
    await run(async (ctx) => {
      const [actor, router] = Router.create(ctx, { mailboxSize: 64 });
      actor.start();
      const a = connect(router, pk(1));
      const b = connect(router, pk(2));
      const c = connect(router, pk(3));
      router.content(Recipients.one(pk(2)), Uint8Array.of(1), true);
      router.content(Recipients.some([pk(1), pk(3), pk(1), pk(9)]), Uint8Array.of(2), false);
      router.content(Recipients.all(), Uint8Array.of(3), true);
      router.content(Recipients.one(pk(9)), Uint8Array.of(4), true);
      await tick(ctx);
      assert.deepEqual(firsts(a.high), [3]);
      assert.deepEqual(firsts(a.low), [2]);
      assert.deepEqual(firsts(b.high), [1, 3]);
      assert.deepEqual(firsts(b.low), []);
      assert.deepEqual(firsts(c.high), [3]);
      assert.deepEqual(firsts(c.low), [2]);
    });
  });

  it('shares one encoded buffer between all recipients', async () => {
    await run(async (ctx) => {
      const [actor, router] = Router.create(ctx, { mailboxSize: 8 });
      actor.start();
      const a = connect(router, pk(1));
      const b = connect(router, pk(2));
      const payload = Uint8Array.of(7, 7);
      router.content(Recipients.all(), payload, false);
      await tick(ctx);
      assert.equal(a.low.tryRecv(), payload);
      assert.equal(b.low.tryRecv(), payload);
    });
  });

  it('keeps delivering to fast peers while a slow peer queue is full', async () => {
    await run(async (ctx) => {
      const metrics = relayMetrics(ctx.metrics);
      const [actor, router] = Router.create(ctx, { mailboxSize: 1000 });
      actor.start();
      const [slowRelay] = Relay.create(2, metrics); // never drained
      router.ready(pk(1), slowRelay);
      const [fastRelay, fast] = Relay.create(2, metrics);
      router.ready(pk(2), fastRelay);
      // A consumer that drains the fast peer as soon as anything is queued.
      const received: number[] = [];
      const times: number[] = [];
      ctx.spawn('fast', async (c) => {
        while (await fast.high.ready(c.signal)) {
          for (const m of fast.high.drain()) {
            received.push(m[0]!);
            times.push(c.clock.now());
          }
        }
      });
      const start = ctx.clock.now();
      for (let i = 0; i < 200; i++) {
        router.content(Recipients.all(), Uint8Array.of(i), true);
        // Let the router and the fast consumer run between sends.
        await Promise.resolve();
        await tick(ctx);
      }
      assert.equal(received.length, 200, 'the fast peer got every message');
      assert.deepEqual(
        received,
        Array.from({ length: 200 }, (_, i) => i),
      );
      // Each message reached the fast peer at the virtual instant it was sent.
      assert.deepEqual(
        times.map((t) => t - start),
        Array.from({ length: 200 }, (_, i) => i),
      );
      assert.equal(
        metrics.highBackoff.get(),
        198,
        'the slow peer lost everything beyond its queue',
      );
    });
  });

  it('fans content out in the call while idle, and queues it in order behind pending messages', async () => {
    await run(async (ctx) => {
      const [actor, router] = Router.create(ctx, { mailboxSize: 3 });
      actor.start();
      const a = connect(router, pk(1));
      await tick(ctx);
      // Idle (nothing queued): the payload reaches the relay within the call.
      assert.equal(router.content(Recipients.all(), Uint8Array.of(1), true), 'ok');
      assert.deepEqual(firsts(a.high), [1]);
      // A queued lifecycle message puts the router behind: content waits after it, in order.
      const b = connect(router, pk(2));
      assert.equal(router.content(Recipients.all(), Uint8Array.of(2), true), 'ok');
      assert.deepEqual(firsts(a.high), [], 'not fanned out ahead of the queued connect');
      await tick(ctx);
      assert.deepEqual(firsts(a.high), [2]);
      assert.deepEqual(firsts(b.high), [2], 'the connect was handled first');
    });
  });

  it('rejects content when its mailbox is full but always keeps lifecycle messages', async () => {
    await run(async (ctx) => {
      const [actor, router] = Router.create(ctx, { mailboxSize: 3 });
      actor.start();
      const a = connect(router, pk(1));
      await tick(ctx);
      // A queued connect first, so content queues behind it (an idle router would fan it out at
      // once); nothing runs between these synchronous calls: the mailbox fills up.
      const b = connect(router, pk(2));
      assert.equal(router.content(Recipients.all(), Uint8Array.of(1), true), 'ok');
      assert.equal(router.content(Recipients.all(), Uint8Array.of(2), true), 'ok');
      assert.equal(router.content(Recipients.all(), Uint8Array.of(3), true), 'dropped');
      const c = connect(router, pk(3)); // retained in overflow
      assert.equal(router.release(pk(1), a.relay), 'backoff');
      await tick(ctx);
      assert.deepEqual(firsts(a.high), [1, 2]);
      assert.deepEqual(firsts(b.high), [1, 2]);
      router.content(Recipients.all(), Uint8Array.of(4), true);
      await tick(ctx);
      assert.deepEqual(firsts(a.high), [], 'released peer gets nothing more');
      assert.deepEqual(firsts(b.high), [4]);
      assert.deepEqual(firsts(c.high), [4]);
    });
  });

  it('keeps its snapshot sorted through any sequence of connects and releases (fast-check)', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => pk(i + 1));
    // Each step: connect (true) or release (false) key `index`.
    const steps = fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: keys.length - 1 })), {
      maxLength: 40,
    });
    await fc.assert(
      fc.asyncProperty(steps, async (ops) => {
        await run(async (ctx) => {
          const [actor, router] = Router.create(ctx, { mailboxSize: 64 });
          const sub = router.subscribePeers();
          actor.start();
          const live = new Map<number, Relay>();
          for (const [up, i] of ops) {
            if (up) live.set(i, connect(router, keys[i]!).relay);
            else {
              router.release(keys[i]!, live.get(i));
              live.delete(i);
            }
          }
          await tick(ctx);
          const expected = [...live.keys()]
            .map((i) => keys[i]!)
            .sort((x, y) => x.compare(y))
            .map((k) => k.toHex());
          let latest: readonly ed25519.PublicKey[] | undefined;
          for (let s = sub.tryRecv(); s !== undefined; s = sub.tryRecv()) latest = s;
          assert.deepEqual(
            (latest ?? []).map((k) => k.toHex()),
            expected,
          );
        });
      }),
      { numRuns: 40, seed: 12 },
    );
  });

  it('publishes sorted snapshots of connected peers to subscribers', async () => {
    await run(async (ctx) => {
      const [actor, router] = Router.create(ctx, { mailboxSize: 8 });
      const early = router.subscribePeers();
      actor.start();
      await tick(ctx);
      assert.deepEqual(early.tryRecv(), []);
      const keys = [pk(5), pk(1), pk(3)];
      const relays = keys.map((k) => connect(router, k).relay);
      await tick(ctx);
      const sorted = [...keys].sort((x, y) => x.compare(y)).map((k) => k.toHex());
      // Ring of capacity 1: only the latest snapshot is kept.
      assert.deepEqual(
        early.tryRecv()?.map((k) => k.toHex()),
        sorted,
      );
      assert.equal(early.tryRecv(), undefined);
      const late = router.subscribePeers();
      await tick(ctx);
      assert.deepEqual(
        late.tryRecv()?.map((k) => k.toHex()),
        sorted,
      );
      router.release(pk(3), relays[2]);
      await tick(ctx);
      assert.deepEqual(
        early.tryRecv()?.map((k) => k.toHex()),
        sorted.filter((h) => h !== pk(3).toHex()),
      );
      // A release carrying a stale relay does not remove a newer connection.
      const newer = connect(router, pk(5)).relay;
      router.release(pk(5), relays[0]);
      await tick(ctx);
      router.content(Recipients.one(pk(5)), Uint8Array.of(1), true);
      await tick(ctx);
      assert.equal(newer.isClosed, false);
      late.close();
      router.release(pk(1));
      await tick(ctx);
      assert.equal(late.tryRecv(), undefined);
      assert.equal(early.tryRecv()?.length, 1);
    });
  });

  it('accepts and discards content before it starts, and reports closed after it stops', async () => {
    await run(async (ctx) => {
      const [actor, router] = Router.create(ctx, { mailboxSize: 1 });
      const a = connect(router, pk(1));
      for (let i = 0; i < 10; i++) {
        assert.equal(router.content(Recipients.all(), Uint8Array.of(i), true), 'ok');
      }
      const handle = actor.start();
      await tick(ctx);
      assert.equal(a.high.size, 0, 'pre-start content was discarded');
      router.content(Recipients.all(), Uint8Array.of(42), true);
      await tick(ctx);
      assert.deepEqual(firsts(a.high), [42]);
      handle.stop();
      await handle.done;
      assert.equal(router.content(Recipients.all(), Uint8Array.of(1), true), 'closed');
      assert.equal(router.ready(pk(2), a.relay), 'closed');
      assert.equal(router.subscribePeers().isClosed, true);
    });
  });
});
