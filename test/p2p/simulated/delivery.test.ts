/** Delivery, ordering and timing on the simulated network (commonware `simulated/mod.rs`). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Recipients } from '../../../src/p2p/types.js';
import { twice } from '../authenticated/scenarios.js';
import { bytes, fixed, start, take } from './helpers.js';

describe('simulated delivery', () => {
  test('a message arrives after the link latency, from the right sender', async () => {
    const got = await twice(1, async (ctx) => {
      const sim = await start(ctx, 2, { link: fixed(50) });
      const t0 = ctx.clock.now();
      const sentTo = sim.channels[0]![0].send(Recipients.one(sim.pks[1]!), bytes('hi'), false);
      assert.deepEqual(sentTo, [sim.pks[1]]);
      const [m] = await take(ctx, sim.channels[1]![1], 1);
      sim.handle.stop();
      await sim.handle.done;
      return { ...m!, at: m!.at - t0 };
    });
    assert.deepEqual(got, {
      from: (await import('./helpers.js')).key(0).toHex(),
      msg: 'hi',
      at: 50,
    });
  });
});
