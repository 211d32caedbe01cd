/** Metrics, and the network on the Node runtime (real timers, bounded by a deadline). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Recipients } from '../../../src/p2p/types.js';
import { nodeRuntime } from '../../../src/runtime/index.js';
import { twice } from '../authenticated/scenarios.js';
import { bytes, fixed, start, take } from './helpers.js';

/** The value of the sample of `name` whose labels include every `label="value"` given. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

describe('simulated metrics and runtimes', () => {
  test('messages_sent per origin and channel, messages_received per recipient and channel', async () => {
    const got = await twice(1, async (ctx) => {
      const sim = await start(ctx, 3, { link: fixed(1) });
      const [a, b] = sim.pks.map((k) => k.toHex());
      sim.channels[0]![0].send(Recipients.all(), bytes('x'), false);
      sim.channels[0]![0].send(Recipients.all(), bytes('y'), false);
      await take(ctx, sim.channels[1]![1], 2);
      const text = await ctx.metrics.encode();
      sim.handle.stop();
      return {
        sent: sample(text, 'messages_sent_total', { origin: a!, channel: '0' }),
        received: sample(text, 'messages_received_total', { recipient: b!, channel: '0' }),
        pairSeries: text.split('\n').some((l) => l.includes('origin=') && l.includes('recipient=')),
      };
    });
    assert.deepEqual(got, { sent: 4, received: 2, pairSeries: false });
  });

  test('runs on the Node runtime: three peers exchange over real timers', async () => {
    const heard = await nodeRuntime().run(async (ctx) => {
      const sim = await start(ctx, 3, { link: fixed(5) });
      for (const [s] of sim.channels)
        assert.equal(s.send(Recipients.all(), bytes('hi'), false).length, 2);
      const timer = new AbortController();
      const deadline = ctx.clock.sleep(5_000, timer.signal).then(
        () => Promise.reject(new Error('no delivery within 5 s')),
        () => [] as never,
      );
      const all = Promise.all(sim.channels.map(([, r]) => take(ctx, r, 2)));
      const got = await Promise.race([all, deadline]);
      timer.abort();
      sim.handle.stop();
      await sim.handle.done;
      return got.flat().length;
    });
    assert.equal(heard, 6);
  });
});
