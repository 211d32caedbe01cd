import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bytes, u64Number } from '../../../src/codec/index.js';
import { P2PError } from '../../../src/p2p/errors.js';
import { Recipients } from '../../../src/p2p/types.js';
import { Muxer, wrap } from '../../../src/p2p/utils/index.js';
import { type Flavour, pair, twice, until } from './helpers.js';

const closed = (e: unknown): boolean => e instanceof P2PError && e.code === 'NetworkClosed';

describe('wrap', () => {
  for (const flavour of ['lookup', 'discovery'] as const satisfies Flavour[]) {
    test(`typed values over ${flavour}; a message that fails to decode blocks its sender`, async () => {
      const got = await twice(21, async (ctx) => {
        const [a, b, stop] = await pair(ctx, flavour);
        const [aTx] = wrap(u64Number, a.sender, a.receiver, a.oracle);
        const [, bRx] = wrap(u64Number, b.sender, b.receiver, b.oracle);
        assert.equal(aTx.channel, 0);
        aTx.send(Recipients.one(b.pk), 42, false);
        const [from, value] = await bRx.recv();
        assert.ok(from.equals(a.pk));
        assert.equal(bRx.invalid, 0);
        // Three bytes are no u64: b blocks a and disconnects it.
        a.sender.send(Recipients.one(b.pk), Uint8Array.of(1, 2, 3), false);
        const next = bRx.recv();
        await until(ctx, () => b.blocked(a) && !b.connected(a), 'b blocks a');
        const invalid = bRx.invalid;
        await stop();
        await assert.rejects(next, closed);
        return [value, invalid, a.blocked(b)];
      });
      assert.deepEqual(got, [42, 1, false]);
    });
  }

  test('the codec limits apply: a value beyond cfg blocks the sender', async () => {
    const got = await twice(22, async (ctx) => {
      const [a, b, stop] = await pair(ctx, 'lookup');
      const [aTx] = wrap(bytes, a.sender, a.receiver, a.oracle, { max: 4 });
      const [, bRx] = wrap(bytes, b.sender, b.receiver, b.oracle, { max: 4 });
      aTx.send(Recipients.all(), Uint8Array.of(1, 2, 3, 4), false);
      aTx.send(Recipients.all(), Uint8Array.of(1, 2, 3, 4, 5), false); // encodes; too long to decode
      const [, ok] = await bRx.recv();
      const next = bRx.recv();
      await until(ctx, () => b.blocked(a), 'b blocks a');
      const invalid = bRx.invalid;
      await stop();
      await assert.rejects(next, closed);
      return [[...ok], invalid];
    });
    assert.deepEqual(got, [[1, 2, 3, 4], 1]);
  });

  test('over a muxer sub-channel, iterating until the network stops', async () => {
    const got = await twice(23, async (ctx) => {
      const [a, b, stop] = await pair(ctx, 'discovery');
      const ma = Muxer.create(a.ctx.child('mux'), a.sender, a.receiver, { mailboxSize: 8 });
      const mb = Muxer.create(b.ctx.child('mux'), b.sender, b.receiver, { mailboxSize: 8 });
      const [aSub] = ma.register(5);
      const [bSubTx, bSub] = mb.register(5);
      mb.start();
      const [aTx] = wrap(u64Number, aSub, bSub, a.oracle);
      const [, bRx] = wrap(u64Number, bSubTx, bSub, b.oracle);
      for (const v of [1, 2, 3]) aTx.send(Recipients.all(), v, false);
      const values: number[] = [];
      let stopped: Promise<void> | undefined;
      for await (const [, v] of bRx) {
        values.push(v);
        if (values.length === 3) stopped = stop();
      }
      await stopped;
      return values;
    });
    assert.deepEqual(got, [1, 2, 3]);
  });
});
