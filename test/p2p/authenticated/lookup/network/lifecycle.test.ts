import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Recipients } from '../../../../../src/p2p/types.js';
import type { Context } from '../../../../../src/runtime/context.js';
import { twice } from '../../scenarios.js';
import {
  counter,
  entries,
  fullMesh,
  isConnected,
  linksBetween,
  type Peer,
  startPeer,
  stopAll,
  until,
} from './helpers.js';

function startMesh(
  ctx: Context,
  n: number,
  overrides: Parameters<typeof startPeer>[2] = {},
): Peer[] {
  const peers: Peer[] = [];
  for (let i = 0; i < n; i++) peers.push(startPeer(ctx, i, overrides));
  for (const p of peers) p.oracle.register(0, entries(peers));
  return peers;
}

describe('lookup network lifecycle (deterministic)', () => {
  test('a peer-set rollover beyond trackedPeerSets disconnects exactly the peers that left', async () => {
    await twice(11, async (ctx) => {
      const peers = startMesh(ctx, 4, { overrides: { trackedPeerSets: 2 } });
      const [p0, p1, p2, p3] = peers as [Peer, Peer, Peer, Peer];
      await until(ctx, () => fullMesh(peers), 'full mesh');
      p0.oracle.register(1, entries([p0, p1, p2]));
      await ctx.clock.sleep(2_000);
      // Set 0 is still retained: nobody left yet.
      assert.ok(isConnected(p0, p3));
      p0.oracle.register(2, entries([p0, p1]));
      // Set 0 is evicted: p3 is in no retained set, p2 still is (set 1).
      const at = await until(ctx, () => !isConnected(p0, p3), 'p3 disconnected');
      assert.ok(isConnected(p0, p1) && isConnected(p0, p2));
      // p3 keeps trying (it still tracks p0) but is refused: it stays out.
      await ctx.clock.sleep(20_000);
      assert.ok(!isConnected(p0, p3) && !isConnected(p3, p0));
      assert.ok(isConnected(p0, p1) && isConnected(p0, p2));
      assert.deepEqual(
        (await p0.oracle.peerSet(0)) === undefined,
        true,
        'the evicted set is no longer retained',
      );
      await stopAll(peers);
      return at;
    });
  });

  test('a blocked peer is disconnected, stays out while blocked and reconnects after blockDurationMs', async () => {
    await twice(12, async (ctx) => {
      const blockDurationMs = 30_000;
      const peers = startMesh(ctx, 3, { overrides: { blockDurationMs } });
      const [p0, p1, p2] = peers as [Peer, Peer, Peer];
      await until(ctx, () => fullMesh(peers), 'full mesh');
      const blockedAt = ctx.clock.now();
      p0.oracle.block(p1.pk);
      await until(ctx, () => !isConnected(p0, p1) && !isConnected(p1, p0), 'p1 disconnected');
      await ctx.clock.sleep(blockDurationMs - 5_000);
      assert.ok(!isConnected(p0, p1), 'still blocked');
      assert.ok(isConnected(p0, p2), 'other peers unaffected');
      const back = await until(
        ctx,
        () => isConnected(p0, p1) && isConnected(p1, p0),
        'reconnected',
      );
      assert.ok(back >= blockedAt + blockDurationMs, 'not before the block expired');
      await stopAll(peers);
      return back - blockedAt;
    });
  });

  test('overwrite severs the old connection and the peer is reconnected under the new address', async () => {
    await twice(13, async (ctx) => {
      const peers = startMesh(ctx, 2);
      const [p0, p1] = peers as [Peer, Peer];
      await until(ctx, () => fullMesh(peers), 'connected');
      const before = linksBetween(ctx, p0, p1);
      assert.equal(before.length, 1);
      // Same socket, but now an asymmetric address: a change, so the connection is severed.
      p0.oracle.overwrite([[p1.pk, { ingress: p1.address, egress: `${p1.ip}:0` }]]);
      await until(
        ctx,
        () => !before.some((id) => linksBetween(ctx, p0, p1).includes(id)),
        'old link closed',
      );
      await until(ctx, () => fullMesh(peers), 'reconnected');
      const after = linksBetween(ctx, p0, p1);
      assert.equal(after.length, 1);
      assert.notEqual(after[0], before[0]);
      await stopAll(peers);
      return after;
    });
  });

  test('after a peer moves to a new port, overwrite points the others at it', async () => {
    await twice(14, async (ctx) => {
      const peers = startMesh(ctx, 3);
      const [p0, p1, p2] = peers as [Peer, Peer, Peer];
      await until(ctx, () => fullMesh(peers), 'full mesh');
      p1.handle.stop();
      await p1.handle.done;
      const moved = startPeer(ctx, 1, { port: 4000, label: 'p1b' });
      moved.oracle.register(0, entries([p0, moved, p2]));
      p0.oracle.overwrite([[p1.pk, moved.address]]);
      p2.oracle.overwrite([[p1.pk, moved.address]]);
      const now = [p0, moved, p2];
      await until(ctx, () => fullMesh(now), 'reconnected at the new address');
      // Traffic flows over the new connection.
      assert.deepEqual(p0.sender.send(Recipients.one(p1.pk), new Uint8Array([1]), false), [p1.pk]);
      const [from] = await moved.receiver.recv();
      assert.ok(from.equals(p0.pk));
      await stopAll(now);
      return ctx.clock.now();
    });
  });

  test('a peer that restarts on a new address is reached again once registered in a new set', async () => {
    await twice(15, async (ctx) => {
      const peers = startMesh(ctx, 4);
      const [p0, p1, p2, p3] = peers as [Peer, Peer, Peer, Peer];
      await until(ctx, () => fullMesh(peers), 'full mesh');
      p3.handle.stop();
      await p3.handle.done;
      await until(ctx, () => !isConnected(p0, p3), 'p0 noticed p3 left');
      const restarted = startPeer(ctx, 3, { port: 5000, label: 'p3b' });
      const now = [p0, p1, p2, restarted];
      for (const p of now) p.oracle.register(1, entries(now));
      await until(ctx, () => fullMesh(now), 'p3 reached again');
      await stopAll(now);
      return ctx.clock.now();
    });
  });

  test('two peers dialing each other at once end with exactly one connection', async () => {
    await twice(16, async (ctx) => {
      const peers = startMesh(ctx, 2);
      const [p0, p1] = peers as [Peer, Peer];
      await until(ctx, () => fullMesh(peers), 'connected', { stepMs: 10 });
      const link = linksBetween(ctx, p0, p1);
      assert.equal(link.length, 1);
      // Both sides dialed (their first dials crossed).
      assert.ok(counter(p0, 'dialer', 'attempts', ['peer']).get({ peer: p1.hex }) >= 1);
      assert.ok(counter(p1, 'dialer', 'attempts', ['peer']).get({ peer: p0.hex }) >= 1);
      // Stable: the same single connection a minute later.
      await ctx.clock.sleep(60_000);
      assert.deepEqual(linksBetween(ctx, p0, p1), link);
      assert.ok(fullMesh(peers));
      await stopAll(peers);
      return link;
    });
  });
});
