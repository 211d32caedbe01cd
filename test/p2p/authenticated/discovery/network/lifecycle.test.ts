/**
 * The discovery network's peer-set lifecycle: set rollover, blocking, secondaries and
 * bootstrappers.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  counter,
  fullMesh,
  isConnected,
  keys,
  type Peer,
  startPeer,
  stopAll,
  twice,
  until,
} from './helpers.js';

/** The dial attempts `from`'s dialer made to `to`. */
function attempts(from: Peer, to: Peer): number {
  return counter(from, 'dialer', 'attempts', ['peer']).get({ peer: to.hex });
}

/** Whether `a` and `b` are connected, seen from both sides. */
function linked(a: Peer, b: Peer): boolean {
  return isConnected(a, b) && isConnected(b, a);
}

describe('discovery network lifecycle (deterministic)', () => {
  test('a rollover beyond trackedPeerSets disconnects the peers in no retained set and connects the new members', async () => {
    await twice(81, async (ctx) => {
      const overrides = { trackedPeerSets: 2 };
      const boot = startPeer(ctx, 0, { overrides });
      const first = [
        boot,
        ...[1, 2, 3].map((i) => startPeer(ctx, i, { bootstrappers: [boot], overrides })),
      ];
      const [, p1, p2, p3] = first as [Peer, Peer, Peer, Peer];
      for (const p of first) p.oracle.register(0, keys(first));
      await until(ctx, () => fullMesh(first), 'full mesh');
      // p4 joins in set 1; set 2 drops p3 and p2 at p0, and set 0 is evicted there.
      const p4 = startPeer(ctx, 4, { bootstrappers: [boot], overrides });
      const set1 = [boot, p1, p2, p4];
      for (const p of [boot, p1, p2, p4]) p.oracle.register(1, keys(set1));
      await until(ctx, () => linked(boot, p4) && linked(p1, p4), 'p4 joined');
      assert.ok(linked(boot, p3), 'set 0 is still retained: p3 stays');
      boot.oracle.register(2, keys([boot, p1, p4]));
      const at = await until(ctx, () => !isConnected(boot, p3), 'p3 disconnected');
      assert.ok(linked(boot, p2), 'p2 is still in set 1');
      assert.ok(linked(boot, p1) && linked(boot, p4));
      // p3 still tracks p0 (and has it as bootstrapper) and keeps trying, but is refused.
      const tries = attempts(p3, boot);
      await ctx.clock.sleep(20_000);
      assert.ok(attempts(p3, boot) > tries, 'p3 kept dialing');
      assert.ok(!isConnected(boot, p3) && !isConnected(p3, boot));
      // Others that still track p3 keep it: rollover is local to p0.
      assert.ok(linked(p1, p3));
      assert.equal(await boot.oracle.peerSet(0), undefined, 'set 0 is no longer retained');
      await stopAll([...first, p4]);
      return at;
    });
  });

  test('a blocked peer is disconnected, refused while blocked and reconnects after blockDurationMs', async () => {
    await twice(82, async (ctx) => {
      const blockDurationMs = 30_000;
      const overrides = { blockDurationMs };
      const boot = startPeer(ctx, 0, { overrides });
      const peers = [
        boot,
        ...[1, 2].map((i) => startPeer(ctx, i, { bootstrappers: [boot], overrides })),
      ];
      const [, p1, p2] = peers as [Peer, Peer, Peer];
      for (const p of peers) p.oracle.register(0, keys(peers));
      await until(ctx, () => fullMesh(peers), 'full mesh');
      const blockedAt = ctx.clock.now();
      boot.oracle.block(p1.pk);
      await until(ctx, () => !isConnected(boot, p1) && !isConnected(p1, boot), 'p1 disconnected');
      const tries = attempts(p1, boot);
      await ctx.clock.sleep(blockDurationMs - 5_000);
      assert.ok(attempts(p1, boot) > tries, 'p1 kept dialing its bootstrapper');
      assert.ok(!isConnected(boot, p1), 'still refused');
      assert.ok(linked(boot, p2) && linked(p1, p2), 'other connections unaffected');
      const back = await until(ctx, () => linked(boot, p1), 'reconnected');
      assert.ok(back >= blockedAt + blockDurationMs, 'not before the block expired');
      await stopAll(peers);
      return back - blockedAt;
    });
  });

  test('a secondary is accepted but never dialed, and a bootstrapper is dialed while in no set', async () => {
    await twice(83, async (ctx) => {
      const p1 = startPeer(ctx, 1);
      const p0 = startPeer(ctx, 0, { bootstrappers: [p1] });
      const p2 = startPeer(ctx, 2, { bootstrappers: [p1] });
      // Everyone agrees: p0 and p1 are the primaries (the BitVec's bits), p2 a secondary.
      const set = { primary: keys([p0, p1]), secondary: keys([p2]) };
      for (const p of [p0, p1, p2]) p.oracle.register(0, set);
      // p3 registers no set at all: its bootstrapper p1 is dialed anyway (and p1 tracks p3).
      const p3 = startPeer(ctx, 3, { bootstrappers: [p1] });
      p1.oracle.register(1, { primary: keys([p0, p1, p3]), secondary: keys([p2]) });
      await until(ctx, () => linked(p0, p2), 'p2 reached p0 (it learned p0 from p1)');
      await until(ctx, () => linked(p3, p1), 'p3 reached its bootstrapper');
      await ctx.clock.sleep(30_000);
      assert.equal(attempts(p0, p2), 0, 'p0 never dialed its secondary');
      assert.equal(attempts(p1, p2), 0, 'nor did p1');
      assert.ok(attempts(p2, p0) >= 1, 'the connection was p2 dialing in');
      assert.ok(attempts(p3, p1) >= 1);
      assert.ok(linked(p0, p2) && linked(p3, p1));
      // p3 dials only its bootstrapper: it tracks nobody else.
      assert.equal(attempts(p3, p0) + attempts(p3, p2), 0);
      await stopAll([p0, p1, p2, p3]);
      return ctx.clock.now();
    });
  });
});
