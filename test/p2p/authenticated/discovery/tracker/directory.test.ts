import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BitMap } from '../../../../../src/codec/bitmap.js';
import { PrivateKey, type PublicKey } from '../../../../../src/crypto/ed25519.js';
import { type Ingress, parseIngress } from '../../../../../src/p2p/address.js';
import {
  Directory,
  type DirectoryConfig,
} from '../../../../../src/p2p/authenticated/discovery/tracker/directory.js';
import type { InfoLike } from '../../../../../src/p2p/authenticated/discovery/tracker/info.js';
import type { Metadata } from '../../../../../src/p2p/authenticated/tracker/metadata.js';
import { PAUSE, runSteps } from '../../../../../src/p2p/authenticated/tracker/steps.js';
import { P2PError } from '../../../../../src/p2p/errors.js';
import { TrackedPeers } from '../../../../../src/p2p/types.js';
import { keysInShard } from '../../tracker/shard-keys.js';

// ---------- Helpers ----------

/** A small seeded generator (mulberry32) giving `int` in `[min, max)`. */
function seededRng(seed: number): { int(min: number, max: number): number } {
  let a = seed >>> 0;
  return {
    int(min, max) {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const u = ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
      return min + Math.floor(u * (max - min));
    },
  };
}

const pk = (n: number): PublicKey => PrivateKey.fromSeed(BigInt(n)).publicKey;
const ME = pk(0);
const [A, B, C, D] = [pk(1), pk(2), pk(3), pk(4)] as const;
const BOOT = pk(9);
const ing = (s: string): Ingress => parseIngress(s);
const info = (key: PublicKey, ingress: string, timestampMs: number): InfoLike => ({
  ingress: ing(ingress),
  timestampMs,
  publicKey: key,
  signature: new Uint8Array(64),
});
const MY_INFO = info(ME, '8.8.4.4:1', 1);
const hexes = (keys: readonly PublicKey[] | undefined) => keys?.map((k) => k.toHex());

function harness(over: Partial<DirectoryConfig> = {}, seed = 1) {
  const config: DirectoryConfig = {
    allowPrivateIps: false,
    allowDns: true,
    trackedPeerSets: 2,
    maxPeersPerSet: 16,
    peerConnectionCooldownMs: 100,
    blockDurationMs: 10_000,
    dialFailLimit: 1,
    peerGossipMaxCount: 32,
    ...over,
  };
  const released: Metadata[] = [];
  const dir = new Directory(MY_INFO, [[BOOT, ing('8.8.8.8:9')]], config, {
    rng: seededRng(seed),
    releaser: (m) => released.push(m),
  });
  return { dir, released };
}

/** Releases reservation `r` through the directory, as the actor does. */
function release(dir: Directory, r: { metadata: Metadata; release(): void }) {
  r.release();
  return dir.release(r.metadata);
}

/** Tracks `primary` (and `secondary`) at `index`, asserting it was accepted. */
function track(dir: Directory, index: number, primary: PublicKey[], secondary: PublicKey[] = []) {
  const kill = dir.track(index, TrackedPeers.from(primary, secondary));
  assert.ok(kill !== undefined, `index ${index} accepted`);
  return kill;
}

/** A BitVec for the set at `index` with every bit clear. */
const zeros = (index: number, n: number) => ({ index, bits: new BitMap(n) });

// ---------- Tests ----------

describe('discovery Directory: bootstrappers and records', () => {
  it('makes bootstrappers persistent and dialable at once, without any set', () => {
    const { dir } = harness();
    assert.deepEqual(hexes(dir.dialable(0).peers), [BOOT.toHex()]);
    const d = dir.dial(BOOT, 0)!;
    assert.deepEqual(d.ingress, ing('8.8.8.8:9'));
    assert.deepEqual(d.reservation.metadata, {
      kind: 'dialer',
      publicKey: BOOT,
      ingress: ing('8.8.8.8:9'),
      generation: 1,
    });
    assert.equal(dir.dial(BOOT, 0), undefined, 'reserved');
    release(dir, d.reservation);
    assert.ok(dir.record(BOOT) !== undefined, 'never deleted');
    assert.equal(dir.trackedCount, 1);
  });

  it('ignores a bootstrapper entry for our own key', () => {
    const dir = new Directory(
      MY_INFO,
      [[ME, ing('8.8.8.8:1')]],
      {
        allowPrivateIps: false,
        allowDns: true,
        trackedPeerSets: 1,
        maxPeersPerSet: 4,
        peerConnectionCooldownMs: 0,
        blockDurationMs: 1,
        dialFailLimit: 1,
        peerGossipMaxCount: 1,
      },
      { rng: { int: (min) => min }, releaser() {} },
    );
    assert.equal(dir.record(ME)?.address.kind, 'myself');
    assert.equal(dir.trackedCount, 0);
  });

  it('rejects a non-positive dialFailLimit or peerGossipMaxCount', () => {
    assert.throws(
      () => harness({ dialFailLimit: 0 }),
      (e) => e instanceof P2PError && e.code === 'InvalidConfig',
    );
    assert.throws(() => harness({ peerGossipMaxCount: 0 }), P2PError);
  });

  it('takes Infos only for keys in the directory and only when newer', () => {
    const { dir } = harness();
    track(dir, 0, [A]);
    assert.deepEqual(hexes(dir.update([info(C, '1.1.1.1:1', 5)])), [], 'unknown key ignored');
    assert.equal(dir.record(C), undefined);
    assert.deepEqual(hexes(dir.update([info(A, '1.1.1.1:1', 5)])), [A.toHex()]);
    assert.deepEqual(dir.update([info(A, '2.2.2.2:1', 4)]), [], 'replayed older Info ignored');
    assert.deepEqual(dir.record(A)?.ingress(1), ing('1.1.1.1:1'));
    assert.deepEqual(dir.update([info(ME, '2.2.2.2:1', 99)]), [], 'never our own record');
  });
});

describe('discovery Directory: knowledge bits and want', () => {
  it('follows learn, connect, release (a dial failure) and a fresh Info', () => {
    const { dir } = harness({ dialFailLimit: 1 });
    track(dir, 0, [A, B]);
    assert.equal(dir.knows(0, A), false, 'unknown: wanted');
    dir.update([info(A, '1.1.1.1:1', 5)]);
    assert.equal(dir.knows(0, A), true, 'learned');
    const d = dir.dial(A, 0)!;
    assert.equal(dir.connect(A, true, 0), 'connected');
    assert.equal(dir.knows(0, A), true, 'connected');
    release(dir, d.reservation);
    assert.equal(dir.knows(0, A), false, 'the ended dial counts as a failure: want fresh info');
    assert.equal(dir.record(A)?.want(1), true);
    dir.update([info(A, '1.1.1.2:1', 6)]);
    assert.equal(dir.knows(0, A), true, 'a newer Info resets the failures');
    assert.equal(dir.knows(0, B), false);
    assert.equal(dir.knows(0, C), undefined, 'not a primary there');
  });

  it('does not count a listener release as a dial failure', () => {
    const { dir } = harness();
    track(dir, 0, [A]);
    dir.update([info(A, '1.1.1.1:1', 5)]);
    const r = dir.listen(A, '1.1.1.1', 0)!.reservation;
    assert.equal(dir.connect(A, false, 0), 'connected');
    release(dir, r);
    assert.equal(dir.knows(0, A), true);
  });

  it('starts a new set with the bits of what is already known', () => {
    const { dir } = harness({ trackedPeerSets: 3 });
    track(dir, 0, [A]);
    dir.update([info(A, '1.1.1.1:1', 5)]);
    track(dir, 1, [A, B]);
    assert.equal(dir.knows(1, A), true);
    assert.equal(dir.knows(1, B), false);
  });
});

describe('discovery Directory: gossip answers', () => {
  it('answers clear bits with sharable Infos: ours always, a peer only while connected', () => {
    const { dir } = harness();
    track(dir, 0, [ME, A, B]);
    dir.update([info(A, '1.1.1.1:1', 5), info(B, '2.2.2.2:1', 5)]);
    const n = dir.peerSet(0)!.primary.length;
    const answer = () => {
      const r = dir.infos(zeros(0, n), 10);
      assert.equal(r.kind, 'infos');
      return r.kind === 'infos' ? hexes(r.infos.map((i) => i.publicKey)) : undefined;
    };
    assert.deepEqual(answer(), [ME.toHex()], 'inert peers are not vouched for');
    dir.dial(A, 0);
    assert.equal(dir.connect(A, true, 0), 'connected');
    assert.deepEqual(answer()?.sort(), [ME, A].map((k) => k.toHex()).sort());
    // A set bit means the asker already knows that peer.
    const bits = new BitMap(n);
    bits.set(dir.peerSet(0)!.primary.indexOf(ME));
    const r = dir.infos({ index: 0, bits }, 10);
    assert.deepEqual(r.kind === 'infos' && hexes(r.infos.map((i) => i.publicKey)), [A.toHex()]);
  });

  it('never answers with an Info dated in the future', () => {
    const { dir } = harness();
    track(dir, 0, [A]);
    dir.update([info(A, '1.1.1.1:1', 500)]);
    dir.dial(A, 0);
    dir.connect(A, true, 0);
    assert.deepEqual(dir.infos(zeros(0, 1), 499), { kind: 'infos', infos: [] });
    const later = dir.infos(zeros(0, 1), 500);
    assert.equal(later.kind === 'infos' && later.infos.length, 1);
  });

  it('ignores an unknown index and reports a length mismatch', () => {
    const { dir } = harness();
    track(dir, 0, [A, B]);
    assert.deepEqual(dir.infos(zeros(7, 2), 0), { kind: 'unknownIndex' });
    assert.deepEqual(dir.infos(zeros(0, 3), 0), { kind: 'mismatch' });
    assert.deepEqual(dir.infos(zeros(0, 1), 0), { kind: 'mismatch' });
  });

  it('caps an answer at peerGossipMaxCount with a random subset, the same for the same seed', () => {
    const many = Array.from({ length: 10 }, (_, i) => pk(100 + i));
    const pick = (seed: number) => {
      const { dir } = harness({ peerGossipMaxCount: 3, maxPeersPerSet: 16 }, seed);
      track(dir, 0, many);
      dir.update(many.map((k, i) => info(k, `1.1.1.${i + 1}:1`, 1)));
      for (const k of many) {
        dir.dial(k, 0);
        assert.equal(dir.connect(k, true, 0), 'connected');
      }
      const r = dir.infos(zeros(0, many.length), 10);
      assert.equal(r.kind, 'infos');
      return r.kind === 'infos' ? hexes(r.infos.map((i) => i.publicKey))! : [];
    };
    const first = pick(7);
    assert.equal(first.length, 3);
    assert.equal(new Set(first).size, 3);
    assert.deepEqual(pick(7), first, 'deterministic with the seeded rng');
    const others = [8, 9, 10, 11].map((s) => pick(s).join());
    assert.ok(
      others.some((o) => o !== first.join()),
      'another seed picks another subset',
    );
  });

  it('builds a BitVec of a retained set, or none without sets', () => {
    const { dir } = harness();
    assert.equal(dir.bitVec(), undefined);
    track(dir, 0, [A, B]);
    dir.update([info(B, '2.2.2.2:1', 5)]);
    const bv = dir.bitVec()!;
    assert.equal(bv.index, 0);
    const b = dir.peerSet(0)!.primary.indexOf(B);
    assert.deepEqual(
      bv.bits.toBools(),
      [0, 1].map((i) => i === b),
    );
  });
});

describe('discovery Directory: sets, dialing and blocking', () => {
  it('dials primaries only and accepts secondaries', () => {
    const { dir } = harness();
    track(dir, 0, [A], [B]);
    dir.update([info(A, '1.1.1.1:1', 5), info(B, '2.2.2.2:1', 5)]);
    assert.deepEqual(hexes(dir.dialable(0).peers)?.sort(), [A, BOOT].map((k) => k.toHex()).sort());
    assert.equal(dir.dial(B, 0), undefined, 'a secondary is never dialed');
    assert.ok(dir.acceptable(B, '2.2.2.2', 0));
    assert.ok(dir.listen(B, '2.2.2.2', 0) !== undefined);
    assert.equal(dir.acceptable(C, '3.3.3.3', 0), false, 'untracked');
  });

  it('applies the private-IP and DNS policy to the dialed ingress', () => {
    const { dir } = harness({ allowPrivateIps: false, allowDns: false });
    track(dir, 0, [A, B, C]);
    dir.update([info(A, '10.0.0.1:1', 5), info(B, 'b.example:1', 5), info(C, '3.3.3.3:1', 5)]);
    assert.deepEqual(hexes(dir.dialable(0).peers)?.sort(), [C, BOOT].map((k) => k.toHex()).sort());
    assert.equal(dir.dial(A, 0), undefined);
    assert.equal(dir.dial(B, 0), undefined);
  });

  it('evicts the lowest set beyond trackedPeerSets and kills peers that lost every set', () => {
    const { dir } = harness({ trackedPeerSets: 1 });
    track(dir, 0, [A, B]);
    dir.update([info(A, '1.1.1.1:1', 5)]);
    const r = dir.dial(A, 0)!;
    dir.connect(A, true, 0);
    const kill = track(dir, 1, [C]);
    assert.deepEqual(hexes(kill), [A.toHex()]);
    assert.equal(dir.record(B), undefined, 'inert and unreferenced: deleted');
    assert.equal(dir.peerSet(0), undefined);
    assert.equal(dir.connect(A, true, 0), 'refused');
    assert.equal(release(dir, r.reservation), 'released');
    assert.equal(dir.record(A), undefined, 'deleted on release');
    assert.equal(dir.track(1, TrackedPeers.from([D])), undefined, 'index must increase');
  });

  it('keeps a bootstrapper eligible when its set is evicted', () => {
    const { dir } = harness({ trackedPeerSets: 1 });
    track(dir, 0, [BOOT]);
    const r = dir.listen(BOOT, '8.8.8.8', 0)!.reservation;
    dir.connect(BOOT, false, 0);
    assert.deepEqual(track(dir, 1, [A]), [], 'persistent: no kill');
    release(dir, r);
    assert.ok(dir.record(BOOT) !== undefined);
  });

  it('rejects an oversized set before any change', () => {
    const { dir } = harness({ maxPeersPerSet: 2 });
    assert.throws(
      () => dir.track(0, TrackedPeers.from([A, B])),
      (e) => e instanceof P2PError && e.code === 'InvalidPeerSet',
    );
    assert.equal(dir.record(A), undefined);
    track(dir, 0, [ME, A]);
  });

  it('blocks a peer (dial, accept, connect) until the block expires', () => {
    const { dir } = harness({ blockDurationMs: 1000 });
    track(dir, 0, [A]);
    dir.update([info(A, '1.1.1.1:1', 5)]);
    const r = dir.dial(A, 0)!;
    assert.ok(dir.block(A, 0));
    assert.equal(dir.connect(A, true, 0), 'refused');
    release(dir, r.reservation);
    assert.equal(dir.acceptable(A, '', 500), false);
    assert.deepEqual(dir.dialable(500).nextQueryAt, 1000);
    assert.equal(dir.dial(A, 500), undefined);
    assert.equal(dir.block(ME, 0), false, 'never ourselves');
    assert.equal(dir.knows(0, A), false, 'the ended dial counted as a failure');
    assert.deepEqual(hexes(dir.unblockExpired(1000)), [A.toHex()]);
    assert.ok(dir.acceptable(A, '', 1000));
    assert.equal(dir.knows(0, A), false, 'unblocking does not make an address known');
    dir.update([info(A, '1.1.1.1:1', 6)]);
    assert.equal(dir.knows(0, A), true);
  });

  it('dials a bootstrapper at its configured ingress after a replayed Info failed', () => {
    const { dir } = harness({ dialFailLimit: 1, peerConnectionCooldownMs: 0 });
    dir.update([info(BOOT, '6.6.6.6:1', 1)]);
    const first = dir.dial(BOOT, 0)!;
    assert.deepEqual(first.ingress, ing('6.6.6.6:1'), 'the replayed address is tried');
    release(dir, first.reservation);
    const second = dir.dial(BOOT, 1000)!;
    assert.deepEqual(second.ingress, ing('8.8.8.8:9'), 'then the configured one');
    dir.connect(BOOT, true, 1000);
    // The bootstrapper's own greeting carries its current, newer Info.
    dir.update([info(BOOT, '8.8.8.8:9', 2)]);
    release(dir, second.reservation);
    assert.deepEqual(dir.dial(BOOT, 2000)?.ingress, ing('8.8.8.8:9'));
  });
});

describe('discovery Directory: registration steps', () => {
  /** Runs `dir`'s registration of `peers` at `index`; returns the record counts at each PAUSE. */
  function pauses(dir: Directory, index: number, peers: TrackedPeers): number[] {
    const job = dir.beginTrack(index, peers);
    assert.ok(job !== undefined);
    const at: number[] = [];
    for (let r = job.next(); r.done !== true; r = job.next()) {
      if (r.value === PAUSE) at.push(dir.trackedCount + 1);
    }
    return at;
  }

  it('pauses before and after the record that may grow its shard (at 1,024 entries), not for known keys', () => {
    const { dir } = harness({ maxPeersPerSet: 2_000, trackedPeerSets: 3 });
    // 1,025 keys of shard a (ourselves and the bootstrapper are in others) and one of shard 3.
    const keys = keysInShard('a', 1_025);
    const [elsewhere] = keysInShard('3', 1);
    const first = TrackedPeers.from(keys.slice(0, 900), keys.slice(900, 1_024));
    assert.deepEqual(pauses(dir, 0, first), [], "shard a's 1,024th entry does not grow it");
    assert.equal(dir.trackedCount + 1, 1_026);
    assert.deepEqual(pauses(dir, 1, first), [], 'known keys at a power-of-two size: no pause');
    const other = TrackedPeers.from([...keys.slice(0, 900), elsewhere!], keys.slice(900, 1_024));
    assert.deepEqual(pauses(dir, 2, other), [], 'a new key of another shard: no pause');
    // One new key of shard a (a secondary, so the pause is in that loop) makes its 1,025th.
    const second = TrackedPeers.from(keys.slice(0, 900), keys.slice(900));
    // Before it (1,027 records) and after it (1,028): the growth has a turn of its own.
    assert.deepEqual(pauses(dir, 3, second), [1_027, 1_028]);
    assert.equal(dir.trackedCount + 1, 1_028);
    for (const key of keys) assert.equal(dir.record(key)?.key, key, 'a record carries its key');
    assert.equal(dir.record(ME)?.key.toHex(), ME.toHex());
    assert.equal(dir.record(BOOT)?.persistent, true);
    assert.equal(dir.record(keys[0]!)?.persistent, false);
  });
});

describe('discovery Directory: members without a record of their own', () => {
  it('evicts, counts and shows set members that were never asked about', () => {
    const { dir } = harness();
    track(dir, 0, [A, B]);
    track(dir, 1, [C], [A]);
    assert.equal(dir.trackedCount, 4, 'A, B, C and the bootstrapper');
    // Set 0 goes: B leaves every set; A stays as set 1's secondary.
    assert.deepEqual(track(dir, 2, [D]), []);
    assert.equal(dir.trackedCount, 4, 'A, C, D and the bootstrapper');
    assert.equal(dir.record(B), undefined);
    assert.equal(dir.acceptable(B, '', 0), false);
    assert.ok(dir.acceptable(A, '', 0), 'a secondary is accepted');
    const a = dir.record(A)!;
    assert.deepEqual([a.primarySets, a.secondarySets, a.status], [0, 1, 'inert']);
    assert.equal(a.isOutboundTarget(), false);
    const page = runSteps(dir.status(0, 10, 0));
    assert.deepEqual(
      new Set(page.peers.map((p) => p.key.toHex())),
      new Set([BOOT, A, C, D].map((k) => k.toHex())),
    );
    assert.ok(page.peers.every((p) => p.state === 'disconnected'));
    // Set 1 goes: A and C leave.
    track(dir, 3, []);
    assert.equal(dir.trackedCount, 2, 'D and the bootstrapper');
    assert.equal(dir.acceptable(A, '', 0), false);
    assert.equal(dir.record(C), undefined);
  });

  it('a member asked about, dialed and released keeps its state across registrations', () => {
    const { dir } = harness();
    track(dir, 0, [A, B]);
    dir.update([info(A, '8.8.8.1:1', 5)]);
    assert.deepEqual(
      hexes(dir.dialable(0).peers),
      hexes([BOOT, A].sort((x, y) => (x.toHex() < y.toHex() ? -1 : 1))),
    );
    const r = dir.dial(A, 0)!;
    assert.ok(r);
    assert.equal(dir.connect(A, true, 0, r.reservation.metadata.generation), 'connected');
    // Re-registered: A is counted twice and stays connected and known; B twice, still bare.
    assert.deepEqual(track(dir, 1, [A, B]), []);
    assert.equal(dir.record(A)!.primarySets, 2);
    assert.equal(dir.record(A)!.status, 'active');
    assert.equal(dir.knows(1, A), true);
    assert.equal(dir.knows(1, B), false);
    assert.equal(dir.record(B)!.primarySets, 2);
    assert.equal(release(dir, r.reservation), 'released');
  });
});
