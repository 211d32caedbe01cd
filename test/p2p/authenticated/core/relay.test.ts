import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Relay, relayMetrics } from '../../../../src/p2p/authenticated/relay.js';
import { run } from './helpers.js';

describe('Relay', () => {
  it('queues up to mailboxSize per priority, then drops and counts the overflow', async () => {
    await run(async (ctx) => {
      const metrics = relayMetrics(ctx.metrics);
      const [relay, { high, low }] = Relay.create(3, metrics);
      for (let i = 0; i < 5; i++) {
        assert.equal(relay.send(Uint8Array.of(i), true), i < 3);
      }
      for (let i = 0; i < 4; i++) {
        assert.equal(relay.send(Uint8Array.of(10 + i), false), i < 3);
      }
      assert.equal(metrics.highBackoff.get(), 2);
      assert.equal(metrics.lowBackoff.get(), 1);
      // The queued ones are the oldest (newest dropped), in order.
      assert.deepEqual(
        high.drain().map((b) => b[0]),
        [0, 1, 2],
      );
      assert.deepEqual(
        low.drain().map((b) => b[0]),
        [10, 11, 12],
      );
      // Room again after draining.
      assert.equal(relay.send(Uint8Array.of(9), true), true);
      const text = await ctx.metrics.encode();
      assert.match(text, /relay_high_backoff\S* 2/);
    });
  });

  it('reports false without counting once the peer has closed its queues', async () => {
    await run(async (ctx) => {
      const metrics = relayMetrics(ctx.metrics);
      const [relay, { high, low }] = Relay.create(1, metrics);
      high.close();
      low.close();
      assert.equal(relay.isClosed, true);
      assert.equal(relay.send(Uint8Array.of(1), true), false);
      assert.equal(relay.send(Uint8Array.of(1), false), false);
      assert.equal(metrics.highBackoff.get() + metrics.lowBackoff.get(), 0);
    });
  });
});
