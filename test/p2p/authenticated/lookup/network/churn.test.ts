/**
 * Churn does not grow the metric registry: a peer that leaves every tracked set has its
 * per-peer series removed (issue: per-peer labels removed when a peer leaves every set).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Recipients } from '../../../../../src/p2p/types.js';
import { twice } from '../../scenarios.js';
import { entries, isConnected, startPeer, stopAll, until } from './helpers.js';

/** The distinct `peer` label values in `text`. */
function peersIn(text: string): Set<string> {
  return new Set([...text.matchAll(/peer="([0-9a-f]+)"/g)].map((m) => m[1]!));
}

describe('lookup: per-peer metric series under churn', () => {
  test('a peer that leaves every tracked set leaves no series behind', async () => {
    const sizes = await twice(71, async (ctx) => {
      const hub = startPeer(ctx, 0, { overrides: { trackedPeerSets: 1 } });
      const seen: number[] = [];
      for (let round = 0; round < 4; round++) {
        const guests = [1, 2].map((j) =>
          startPeer(ctx, 1 + round * 2 + j - 1, { overrides: { trackedPeerSets: 1 } }),
        );
        const set = entries([hub, ...guests]);
        hub.oracle.register(round, set);
        for (const g of guests) g.oracle.register(0, set);
        await until(ctx, () => guests.every((g) => isConnected(hub, g)), `round ${round} meshes`);
        for (const g of guests) hub.sender.send(Recipients.one(g.pk), Uint8Array.of(round), false);
        for (const g of guests) await g.receiver.recv();
        const text = await hub.ctx.metrics.encode();
        for (const g of guests) assert.ok(peersIn(text).has(g.hex), 'a live peer has series');
        seen.push(peersIn(text).size);
        await stopAll(guests);
      }
      // The last set leaves: everyone but the hub is gone.
      hub.oracle.register(10, entries([hub]));
      await ctx.clock.sleep(5_000);
      const after = peersIn(await hub.ctx.metrics.encode());
      await stopAll([hub]);
      return { seen, after: after.size };
    });
    assert.deepEqual(sizes.seen, [2, 2, 2, 2], 'only the current set has series each round');
    assert.equal(sizes.after, 0, 'no per-peer series once every peer left');
  });
});
