import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Recipients } from '../../../../../src/p2p/types.js';
import { Quota } from '../../../../../src/quota/index.js';
import { simulatedNetwork } from '../../../../../src/runtime/index.js';
import { twice } from '../../scenarios.js';
import { counter, entries, fullMesh, type Peer, startPeer, stopAll, until } from './helpers.js';

describe('lookup network traffic (deterministic)', () => {
  test('a peer behind a stalled link does not delay delivery to the others', async () => {
    await twice(
      21,
      async (ctx) => {
        const peers = [0, 1, 2].map((i) => startPeer(ctx, i, { quota: Quota.perSecond(100_000) }));
        for (const p of peers) p.oracle.register(0, entries(peers));
        const [p0, p1, p2] = peers as [Peer, Peer, Peer];
        await until(ctx, () => fullMesh(peers), 'full mesh');
        // Bytes from p0 to p1 now take 20 s to arrive: p0's connection to p1 backs up.
        simulatedNetwork(ctx).setLinkDelay(p0.ip, p1.ip, 20_000);
        const count = 400;
        const payload = new Uint8Array(1000).fill(7);
        const start = ctx.clock.now();
        let got1 = 0;
        const r1 = ctx.spawn('r1', async (c) => {
          for (;;) {
            await p1.receiver.recv({ signal: c.signal });
            got1++;
          }
        });
        for (let k = 0; k < count; k++) {
          assert.equal(p0.sender.send(Recipients.all(), payload, false).length, 2);
          if (k % 50 === 49) await ctx.clock.sleep(1);
        }
        for (let k = 0; k < count; k++) {
          const [from] = await p2.receiver.recv();
          assert.ok(from.equals(p0.pk));
        }
        const elapsed = ctx.clock.now() - start;
        assert.ok(elapsed < 100, `the fast peer got everything in ${elapsed} ms`);
        assert.equal(got1, 0, 'nothing reached the slow peer yet');
        r1.stop();
        await r1.done.catch(() => {});
        await stopAll(peers);
        return elapsed;
      },
      { bufferBytes: 64 * 1024 },
    );
  });

  test('the outbound quota: no more than the burst is sent inside the window', async () => {
    await twice(22, async (ctx) => {
      const quota = Quota.perSecond(10);
      const peers = [0, 1].map((i) => startPeer(ctx, i, { quota }));
      for (const p of peers) p.oracle.register(0, entries(peers));
      const [p0, p1] = peers as [Peer, Peer];
      await until(ctx, () => fullMesh(peers), 'connected');
      const start = ctx.clock.now();
      let accepted = 0;
      for (let k = 0; k < 100; k++) {
        if (p0.sender.send(Recipients.one(p1.pk), new Uint8Array([k]), false).length === 1)
          accepted++;
      }
      assert.equal(accepted, 10, 'exactly the burst is accepted at once');
      const arrivals: number[] = [];
      const r = ctx.spawn('r', async (c) => {
        for (;;) {
          await p1.receiver.recv({ signal: c.signal });
          arrivals.push(c.clock.now() - start);
        }
      });
      await ctx.clock.sleep(500);
      // Half a second later five more cells (one per 100 ms) are available, not more.
      let later = 0;
      for (let k = 0; k < 100; k++) {
        if (p0.sender.send(Recipients.one(p1.pk), new Uint8Array([k]), false).length === 1) later++;
      }
      assert.equal(later, 5);
      await ctx.clock.sleep(2_000);
      r.stop();
      await r.done.catch(() => {});
      assert.equal(arrivals.length, 15);
      assert.equal(arrivals.filter((t) => t < 1_000).length, 15);
      await stopAll(peers);
      return arrivals;
    });
  });

  test('the inbound quota: a peer sending faster than allowed is paced, not dropped', async () => {
    await twice(23, async (ctx) => {
      // p0 believes the channel allows 10 000/s; p1 allows 10/s per peer.
      const p0 = startPeer(ctx, 0, { quota: Quota.perSecond(10_000) });
      const p1 = startPeer(ctx, 1, { quota: Quota.perSecond(10) });
      const peers = [p0, p1];
      for (const p of peers) p.oracle.register(0, entries(peers));
      await until(ctx, () => fullMesh(peers), 'connected');
      const start = ctx.clock.now();
      for (let k = 0; k < 40; k++) {
        assert.equal(p0.sender.send(Recipients.one(p1.pk), new Uint8Array([k]), false).length, 1);
      }
      const arrivals: number[] = [];
      for (let k = 0; k < 40; k++) {
        const [, msg] = await p1.receiver.recv();
        assert.equal(msg[0], k, 'in order, none lost');
        arrivals.push(ctx.clock.now() - start);
      }
      // GCRA: at most burst + floor(W / 100 ms) messages inside any window W from the start.
      for (const w of [0, 250, 1_000, 2_000]) {
        const inside = arrivals.filter((t) => t <= w).length;
        assert.ok(inside <= 10 + Math.floor(w / 100), `${inside} messages within ${w} ms`);
      }
      assert.ok(
        counter(p1, undefined, 'messages_rate_limited', ['peer', 'message']).get({
          peer: p0.hex,
          message: 'data_0',
        }) > 0,
      );
      await stopAll(peers);
      return arrivals;
    });
  });
});
