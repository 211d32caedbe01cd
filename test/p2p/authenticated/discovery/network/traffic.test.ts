/**
 * A slow peer must not slow the others: neither one behind a stalled link nor one whose
 * application never reads.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Recipients } from '../../../../../src/p2p/types.js';
import { Quota } from '../../../../../src/quota/index.js';
import type { Context } from '../../../../../src/runtime/context.js';
import { simulatedNetwork } from '../../../../../src/runtime/index.js';
import {
  counter,
  fullMesh,
  isConnected,
  keys,
  type Peer,
  type PeerOptions,
  startPeer,
  stopAll,
  twice,
  until,
} from './helpers.js';

const FAST = Quota.perSecond(100_000);
const COUNT = 400;
const PAYLOAD = new Uint8Array(1000).fill(7);

/** p0 (bootstrapper), p1 (the slow one, with `slow` options) and p2, in a full mesh. */
async function triangle(ctx: Context, slow: PeerOptions = {}): Promise<[Peer, Peer, Peer]> {
  const boot = startPeer(ctx, 0, { quota: FAST });
  const p1 = startPeer(ctx, 1, { quota: FAST, ...slow, bootstrappers: [boot] });
  const p2 = startPeer(ctx, 2, { quota: FAST, bootstrappers: [boot] });
  const peers = [boot, p1, p2] as [Peer, Peer, Peer];
  for (const p of peers) p.oracle.register(0, keys(peers));
  await until(ctx, () => fullMesh(peers), 'full mesh');
  return peers;
}

/** p0 broadcasts {@link COUNT} messages; returns how long p2 took to receive them all (ms). */
async function broadcastToFast(ctx: Context, p0: Peer, p2: Peer): Promise<number> {
  const start = ctx.clock.now();
  for (let k = 0; k < COUNT; k++) {
    assert.equal(p0.sender.send(Recipients.all(), PAYLOAD, false).length, 2);
    if (k % 50 === 49) await ctx.clock.sleep(1);
  }
  for (let k = 0; k < COUNT; k++) {
    const [from] = await p2.receiver.recv();
    assert.ok(from.equals(p0.pk));
  }
  return ctx.clock.now() - start;
}

describe('discovery network traffic (deterministic)', () => {
  test('a peer behind a stalled link does not delay delivery to the others', async () => {
    await twice(
      91,
      async (ctx) => {
        const [p0, p1, p2] = await triangle(ctx);
        // Bytes from p0 to p1 now take 20 s to arrive: p0's connection to p1 backs up.
        simulatedNetwork(ctx).setLinkDelay(p0.ip, p1.ip, 20_000);
        let got1 = 0;
        const r1 = ctx.spawn('r1', async (c) => {
          for (;;) {
            await p1.receiver.recv({ signal: c.signal });
            got1++;
          }
        });
        const elapsed = await broadcastToFast(ctx, p0, p2);
        assert.ok(elapsed < 100, `the fast peer got everything in ${elapsed} ms`);
        assert.equal(got1, 0, 'nothing reached the slow peer yet');
        r1.stop();
        await r1.done.catch(() => {});
        await stopAll([p0, p1, p2]);
        return elapsed;
      },
      { bufferBytes: 64 * 1024 },
    );
  });

  test('a peer whose application never reads does not delay delivery to the others', async () => {
    await twice(
      92,
      async (ctx) => {
        // p1's inbound quota is tiny and nobody reads its channel: its connections are paced.
        const [p0, p1, p2] = await triangle(ctx, { quota: Quota.perSecond(10) });
        const elapsed = await broadcastToFast(ctx, p0, p2);
        assert.ok(elapsed < 100, `the fast peer got everything in ${elapsed} ms`);
        const paced = counter(p1, undefined, 'messages_rate_limited', ['peer', 'message']).get({
          peer: p0.hex,
          message: 'data_0',
        });
        assert.ok(paced > 0, 'p1 did pace p0');
        // A second round still flows at full speed, and p1 stays connected (it is slow, not dead).
        const again = await broadcastToFast(ctx, p0, p2);
        assert.ok(again < 100, `second round in ${again} ms`);
        assert.ok(isConnected(p0, p1) && isConnected(p1, p0));
        await stopAll([p0, p1, p2]);
        return [elapsed, again];
      },
      { bufferBytes: 64 * 1024 },
    );
  });
});
