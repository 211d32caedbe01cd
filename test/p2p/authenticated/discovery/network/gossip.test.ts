/**
 * Address records in motion: peers that move, peers that lie about their address, peers that
 * disagree on a set, and old records replayed by a malicious peer.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  encodeGreeting,
  encodePeers,
} from '../../../../../src/p2p/authenticated/discovery/types.js';
import { Recipients } from '../../../../../src/p2p/types.js';
import {
  counter,
  fullMesh,
  hostileDial,
  ipOf,
  isConnected,
  keys,
  type Peer,
  received,
  signedRecord,
  signer,
  startPeer,
  stopAll,
  twice,
  twiceLogged,
  until,
  updates,
} from './helpers.js';

const HOSTILE = 50;

/** The dial attempts `from`'s dialer made to `to`. */
function attempts(from: Peer, to: Peer): number {
  return counter(from, 'dialer', 'attempts', ['peer']).get({ peer: to.hex });
}

describe('discovery network: records in motion (deterministic)', () => {
  test('peers restarting on new addresses are found again through gossip of their newer records', async () => {
    await twice(71, async (ctx) => {
      const boot = startPeer(ctx, 0);
      const peers = [
        boot,
        ...[1, 2, 3, 4].map((i) => startPeer(ctx, i, { bootstrappers: [boot] })),
      ];
      for (const p of peers) p.oracle.register(0, keys(peers));
      await until(ctx, () => fullMesh(peers), 'full mesh', { stepMs: 100 });
      const [, p1, , p3, p4] = peers as [Peer, Peer, Peer, Peer, Peer];
      assert.equal(updates(p1, p3), 1, 'one record of p3 so far');
      // p3 moves to a new port, p4 to a new IP, at the same time; both keep their keys.
      p3.handle.stop();
      p4.handle.stop();
      await Promise.all([p3.handle.done, p4.handle.done]);
      await ctx.clock.sleep(1_000);
      const m3 = startPeer(ctx, 3, { port: 4003, label: 'p3b', bootstrappers: [boot] });
      const m4 = startPeer(ctx, 4, { ip: '10.0.7.4', label: 'p4b', bootstrappers: [boot] });
      const now = [peers[0]!, p1, peers[2]!, m3, m4];
      for (const p of [m3, m4]) p.oracle.register(0, keys(now));
      await until(ctx, () => fullMesh(now), 'full mesh again', { stepMs: 100 });
      for (const p of [peers[0]!, p1, peers[2]!]) {
        assert.equal(updates(p, m3), 2, 'the newer record of p3 replaced the old one');
        assert.equal(updates(p, m4), 2, 'the newer record of p4 replaced the old one');
      }
      assert.ok(m3.network.info.timestampMs > p3.network.info.timestampMs);
      // Traffic reaches the moved peers.
      p1.sender.send(Recipients.some([m3.pk, m4.pk]), Uint8Array.of(9), false);
      const [a] = await m3.receiver.recv();
      const [b] = await m4.receiver.recv();
      assert.ok(a.equals(p1.pk) && b.equals(p1.pk));
      await stopAll(now);
      return ctx.clock.now();
    });
  });

  test("a peer advertising another peer's address cannot be dialed, and the honest peer stays reachable", async () => {
    await twiceLogged(72, async (ctx, log) => {
      const boot = startPeer(ctx, 0);
      const p1 = startPeer(ctx, 1, { bootstrappers: [boot] });
      // p2 listens on its own IP but signs p1's address as its dialable one.
      const liar = startPeer(ctx, 2, {
        bootstrappers: [boot],
        overrides: { dialable: p1.address },
      });
      const p3 = startPeer(ctx, 3, { bootstrappers: [boot] });
      const all = [boot, p1, liar, p3];
      for (const p of all) p.oracle.register(0, keys(all));
      const honest = [boot, p1, p3];
      await until(ctx, () => fullMesh(honest), 'honest full mesh', { stepMs: 100 });
      await ctx.clock.sleep(30_000);
      assert.ok(fullMesh(honest), 'the honest peers stay connected');
      // Dials to the liar reach p1, whose handshake proves the wrong key: they fail.
      const failed = log.find('dial failed', { peer: liar.hex, ingress: p1.address });
      assert.ok(failed.length > 0, 'somebody dialed the liar at the address it claimed');
      assert.equal(log.find('upgraded connection', { peer: liar.hex }).length, 0);
      // The liar only reaches peers by dialing out itself; it stays connected to the bootstrapper.
      assert.ok(isConnected(liar, boot));
      assert.ok(attempts(liar, boot) >= 1);
      // p1 never took a connection from someone expecting another key as a peer.
      assert.equal(received(p1, liar.hex, 'invalid'), 0);
      await stopAll(all);
      return failed.length;
    });
  });

  test('peers that disagree on a set close each other with a clear log line, at most once per cooldown', async () => {
    const cooldown = 5_000;
    const window = 60_000;
    await twiceLogged(73, async (ctx, log) => {
      const overrides = { peerConnectionCooldownMs: cooldown };
      const boot = startPeer(ctx, 0, { overrides });
      const p1 = startPeer(ctx, 1, { bootstrappers: [boot], overrides });
      // Set 0 at p0 has three primaries; at p1 it has two: their BitVecs differ in length.
      boot.oracle.register(0, [boot.pk, p1.pk, signer(2).publicKey]);
      p1.oracle.register(0, [boot.pk, p1.pk]);
      await until(ctx, () => log.find('killing peer').length > 0, 'a mismatch kill');
      const start = ctx.clock.now();
      const attemptsBefore = attempts(p1, boot);
      const backBefore = attempts(boot, p1);
      await ctx.clock.sleep(window);
      const kills = log.find('killing peer');
      for (const k of kills) {
        assert.equal(k.fields.why, 'bit vector length does not match the set');
      }
      // Each reconnection waits out the cooldown (both sides reserve per peer): no tight storm.
      const bound = Math.ceil(window / cooldown) + 1;
      const dials = attempts(p1, boot) - attemptsBefore;
      const back = attempts(boot, p1) - backBefore;
      assert.ok(dials >= 2, `p1 keeps retrying (${dials})`);
      assert.ok(dials <= bound, `p1: ${dials} dials in ${window} ms exceed ${bound}`);
      assert.ok(back <= bound, `p0: ${back} dials in ${window} ms exceed ${bound}`);
      for (const killed of [boot, p1]) {
        const n = log.find('killing peer', { peer: killed.hex }).filter((l) => l.at >= start);
        assert.ok(n.length <= dials + back, `${n.length} kills of one peer, ${dials + back} dials`);
      }
      assert.ok(ctx.clock.now() - start >= window);
      await stopAll([boot, p1]);
      return [dials, back, kills.length];
    });
  });

  test('a replayed older record, or one with an equal timestamp, does not replace the held one', async () => {
    await twiceLogged(74, async (ctx, log) => {
      const boot = startPeer(ctx, 0);
      const p1 = startPeer(ctx, 1, { bootstrappers: [boot] });
      const p2 = startPeer(ctx, 2, { bootstrappers: [boot] });
      const hostileKey = signer(HOSTILE);
      const set = [...keys([boot, p1, p2]), hostileKey.publicKey];
      for (const p of [boot, p1, p2]) p.oracle.register(0, set);
      await until(ctx, () => fullMesh([boot, p1, p2]), 'full mesh');
      const old = p1.network.info;
      // p1 moves to a new port: its new record is newer.
      p1.handle.stop();
      await p1.handle.done;
      const moved = startPeer(ctx, 1, { port: 4001, label: 'p1b', bootstrappers: [boot] });
      moved.oracle.register(0, set);
      const now = [boot, moved, p2];
      await until(ctx, () => fullMesh(now) && updates(p2, moved) === 2, 'p2 learned the move');
      // A tracked but malicious peer replays p1's old, validly signed record to p2.
      const hostile = await hostileDial(ctx, hostileKey, ipOf(HOSTILE), p2);
      const own = signedRecord(hostileKey, `${ipOf(HOSTILE)}:3000`, ctx.clock.now());
      // And a genuine record of p1 with the same timestamp as the one p2 holds, at another
      // address: equal is not newer.
      const tie = signedRecord(p1.key, `${ipOf(1)}:4999`, moved.network.info.timestampMs);
      await hostile.send(encodeGreeting(own), encodePeers([old, tie]));
      const replayedAt = ctx.clock.now();
      await ctx.clock.sleep(20_000);
      assert.equal(updates(p2, moved), 2, 'the old record was not taken');
      // A valid old record is no offence: the connection stays and nothing counts as invalid.
      assert.equal(received(p2, hostileKey.publicKey.toHex(), 'invalid'), 0);
      assert.equal(received(p2, hostileKey.publicKey.toHex(), 'peers'), 1, 'the replay arrived');
      // Nobody dials p1's old address, or the tie's, after the replay.
      for (const ingress of [p1.address, `${ipOf(1)}:4999`]) {
        const dials = log
          .find('dial failed', { peer: p1.hex, ingress })
          .filter((l) => l.at >= replayedAt);
        assert.deepEqual(dials, [], `no dial of ${ingress}`);
      }
      assert.ok(isConnected(p2, moved));
      await stopAll(now);
      return replayedAt;
    });
  });

  test('a stale record of a bootstrapper replayed before it is reached costs dials, never the bootstrapper', async () => {
    await twiceLogged(75, async (ctx, log) => {
      const bootKey = signer(0);
      const bootAddress = `${ipOf(0)}:3000`;
      const dead = `${ipOf(0)}:2999`;
      // p1 knows the bootstrapper's configured address; the bootstrapper is not up yet.
      const p1 = startPeer(ctx, 1, {
        bootstrappers: [{ pk: bootKey.publicKey, address: bootAddress } as Peer],
      });
      const hostileKey = signer(HOSTILE);
      p1.oracle.register(0, [bootKey.publicKey, p1.pk, hostileKey.publicKey]);
      // A validly signed record of the bootstrapper from an earlier life, at a dead address.
      const stale = signedRecord(bootKey, dead, ctx.clock.now() - 3_600_000);
      const hostile = await hostileDial(ctx, hostileKey, ipOf(HOSTILE), p1);
      const own = signedRecord(hostileKey, `${ipOf(HOSTILE)}:3000`, ctx.clock.now());
      await hostile.send(encodeGreeting(own), encodePeers([stale]));
      await until(ctx, () => updates(p1, bootKey.publicKey) === 1, 'p1 took the stale record');
      // The bootstrapper comes up once p1 has tried the stale address (how soon p1's dialer
      // first runs against the replay within one instant is not what this asserts).
      const staleDials = (): number =>
        log.find('dial failed', { peer: bootKey.publicKey.toHex(), ingress: dead }).length;
      await until(ctx, () => staleDials() >= 1, 'p1 tried the stale address');
      const boot = startPeer(ctx, 0);
      boot.oracle.register(0, [bootKey.publicKey, p1.pk, hostileKey.publicKey]);
      await until(ctx, () => isConnected(p1, boot), 'p1 reached the bootstrapper');
      const wasted = log.find('dial failed', { peer: boot.hex, ingress: dead }).length;
      assert.ok(wasted >= 1, 'the stale address was tried');
      assert.ok(wasted <= 1, `at most dialFailLimit (1) dials wasted, got ${wasted}`);
      // The bootstrapper's greeting carried its current, newer record.
      assert.equal(updates(p1, boot), 2);
      await stopAll([boot, p1]);
      return wasted;
    });
  });
});
