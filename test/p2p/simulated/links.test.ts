/**
 * Links and their errors (commonware `simulated/mod.rs`: test_linking_self, test_dynamic_links,
 * link changes while messages are in flight).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { P2PError, type P2PErrorCode } from '../../../src/p2p/errors.js';
import { Network } from '../../../src/p2p/simulated/index.js';
import { Recipients } from '../../../src/p2p/types.js';
import { twice } from '../authenticated/scenarios.js';
import { bytes, CONFIG, fixed, keys, type PublicKey, start, take } from './helpers.js';

type PK = PublicKey;

const code = (c: P2PErrorCode) => (e: unknown) => e instanceof P2PError && e.code === c;

describe('simulated links', () => {
  test('link errors: LinkingSelf, LinkExists, LinkMissing, bad options, NetworkClosed', async () => {
    await twice(1, async (ctx) => {
      const [network, oracle] = Network.create(ctx, CONFIG);
      const handle = network.start();
      const [a, b, c] = keys(3) as [PK, PK, PK];
      await assert.rejects(oracle.addLink(a, a, fixed(1)), code('LinkingSelf'));
      await assert.rejects(oracle.removeLink(a, a), code('LinkingSelf'));
      await oracle.addLink(a, b, fixed(1));
      await assert.rejects(oracle.addLink(a, b, fixed(2)), code('LinkExists'));
      await oracle.addLink(b, a, fixed(1)); // the other direction is another link
      await assert.rejects(oracle.removeLink(a, c), code('LinkMissing'));
      await assert.rejects(
        oracle.addLink(a, c, { latency: -1, jitter: 0, successRate: 1 }),
        code('InvalidConfig'),
      );
      await assert.rejects(
        oracle.addLink(a, c, { latency: 1, jitter: 0, successRate: 2 }),
        code('InvalidConfig'),
      );
      await assert.rejects(
        oracle.addLinks([[a, c, { latency: 1, jitter: Number.NaN, successRate: 1 }]]),
        code('InvalidConfig'),
      );
      assert.throws(
        () => Network.create(ctx, { ...CONFIG, maxSize: 2 ** 32 }),
        code('InvalidConfig'),
      );
      assert.throws(
        () => Network.create(ctx, { ...CONFIG, trackedPeerSets: 0 }),
        code('InvalidConfig'),
      );
      await assert.rejects(oracle.limitBandwidth(a, -5, null), code('InvalidConfig'));
      // All or nothing: a batch with one bad entry adds none of them.
      await assert.rejects(
        oracle.addLinks([
          [a, c, fixed(1)],
          [c, a, fixed(1)],
          [a, c, fixed(1)],
        ]),
        code('LinkExists'),
      );
      await oracle.addLink(a, c, fixed(1));
      await oracle.removeLink(a, b);
      handle.stop();
      await handle.done;
      await assert.rejects(oracle.addLink(c, b, fixed(1)), code('NetworkClosed'));
      await assert.rejects(oracle.removeLink(a, c), code('NetworkClosed'));
      await assert.rejects(oracle.limitBandwidth(a, 1, 1), code('NetworkClosed'));
      await assert.rejects(oracle.blocked(), code('NetworkClosed'));
    });
  });

  test('a partition stops traffic one way; healing restores it', async () => {
    const got = await twice(2, async (ctx) => {
      const sim = await start(ctx, 2, { link: fixed(10) });
      const [a, b] = sim.pks as [PK, PK];
      const [sa] = sim.channels[0]!;
      const [sb, rb] = [sim.channels[1]![0], sim.channels[1]![1]];
      await sim.oracle.removeLink(a, b);
      assert.deepEqual(sa.send(Recipients.one(b), bytes('lost'), false), []);
      assert.deepEqual(sb.send(Recipients.one(a), bytes('back'), false), [a]);
      await ctx.clock.sleep(100);
      const cut = rb.size;
      await sim.oracle.addLink(a, b, fixed(10));
      assert.deepEqual(sa.send(Recipients.one(b), bytes('healed'), false), [b]);
      const [m] = await take(ctx, rb, 1);
      const back = (await take(ctx, sim.channels[0]![1], 1))[0]!.msg;
      sim.handle.stop();
      return [cut, m!.msg, back];
    });
    assert.deepEqual(got, [0, 'healed', 'back']);
  });

  test('a message in flight when its link is removed still arrives, in order', async () => {
    const got = await twice(3, async (ctx) => {
      const sim = await start(ctx, 2, { link: fixed(100) });
      const [a, b] = sim.pks as [PK, PK];
      const t0 = ctx.clock.now();
      const [sa] = sim.channels[0]!;
      sa.send(Recipients.one(b), bytes('first'), false);
      await ctx.clock.sleep(20);
      await sim.oracle.removeLink(a, b);
      await sim.oracle.addLink(a, b, fixed(5));
      sa.send(Recipients.one(b), bytes('second'), false);
      await ctx.clock.sleep(10);
      sa.send(Recipients.one(b), bytes('third'), false);
      const ms = await take(ctx, sim.channels[1]![1], 3);
      sim.handle.stop();
      return ms.map((m) => [m.msg, m.at - t0]);
    });
    // The later messages' 5 ms links would land them at 25 and 35 ms: they wait for the first.
    assert.deepEqual(got, [
      ['first', 100],
      ['second', 100],
      ['third', 100],
    ]);
  });

  test('many links at once, then a full mesh exchange', async () => {
    const total = await twice(4, async (ctx) => {
      const sim = await start(ctx, 20, { link: { latency: 50, jitter: 20, successRate: 1 } });
      for (const [s] of sim.channels)
        assert.equal(s.send(Recipients.all(), bytes('x'), false).length, 19);
      let n = 0;
      for (const [, r] of sim.channels) n += (await take(ctx, r, 19)).length;
      sim.handle.stop();
      return n;
    });
    assert.equal(total, 20 * 19);
  });
});
