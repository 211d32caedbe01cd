/** Split routing for twins tests (reference section 11, `split_with`). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { P2PError } from '../../../src/p2p/errors.js';
import { splitReceiver, splitSender } from '../../../src/p2p/simulated/index.js';
import { Recipients } from '../../../src/p2p/types.js';
import { twice } from '../authenticated/scenarios.js';
import { bytes, fixed, type PublicKey, start, take } from './helpers.js';

type PK = PublicKey;

describe('simulated split routing', () => {
  test('twins of one peer send to and hear from the halves the test chose', async () => {
    const got = await twice(1, async (ctx) => {
      const sim = await start(ctx, 4, { link: fixed(5) });
      const [x, a, b] = sim.pks as [PK, PK, PK, PK];
      const [sender, receiver] = sim.channels[0]!;
      // The primary twin talks to a, the secondary to b; c hears from neither.
      const [p, s] = splitSender(sender, (origin) => Recipients.one(origin === 'primary' ? a : b));
      assert.deepEqual(p.send(Recipients.all(), bytes('from primary'), false), [a]);
      assert.deepEqual(s.send(Recipients.all(), bytes('from secondary'), false), [b]);
      const [rp, rs] = splitReceiver(ctx, receiver, ([from]) =>
        from.equals(a) ? 'primary' : from.equals(b) ? 'secondary' : 'both',
      );
      for (const i of [1, 2, 3])
        sim.channels[i]![0].send(Recipients.one(x), bytes(`hi${i}`), false);
      const heardA = (await take(ctx, sim.channels[1]![1], 1))[0]!.msg;
      const heardB = (await take(ctx, sim.channels[2]![1], 1))[0]!.msg;
      const primary = (await take(ctx, rp, 2)).map((m) => m.msg).sort();
      const secondary = (await take(ctx, rs, 2)).map((m) => m.msg).sort();
      await ctx.clock.sleep(50);
      const cHeard = sim.channels[3]![1].size;
      sim.handle.stop();
      await sim.handle.done;
      const ended = await rp.recv().then(
        () => 'message',
        (e: unknown) => (e instanceof P2PError ? e.code : 'other'),
      );
      return {
        heardA,
        heardB,
        primary,
        secondary,
        cHeard,
        ended,
      };
    });
    assert.deepEqual(got, {
      heardA: 'from primary',
      heardB: 'from secondary',
      primary: ['hi1', 'hi3'],
      secondary: ['hi2', 'hi3'],
      cHeard: 0,
      ended: 'NetworkClosed',
    });
  });
});
