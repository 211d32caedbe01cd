import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey, type PublicKey } from '../../../../../src/crypto/ed25519.js';
import { Address, parseAddress } from '../../../../../src/p2p/address.js';
import {
  Directory,
  type DirectoryConfig,
} from '../../../../../src/p2p/authenticated/lookup/tracker/directory.js';
import type { JitterRng } from '../../../../../src/p2p/authenticated/lookup/tracker/record.js';
import type { Metadata } from '../../../../../src/p2p/authenticated/tracker/metadata.js';
import type { DirectoryMetrics } from '../../../../../src/p2p/authenticated/tracker/metrics.js';
import { PAUSE } from '../../../../../src/p2p/authenticated/tracker/steps.js';
import { P2PError } from '../../../../../src/p2p/errors.js';
import { registeredAddress } from '../../../../../src/p2p/registered-address.js';
import { AddressableTrackedPeers } from '../../../../../src/p2p/types.js';
import type { Counter, Gauge, Labels } from '../../../../../src/runtime/context.js';
import { keysInShard } from '../../tracker/shard-keys.js';

// ---------- Helpers ----------

const pk = (n: bigint): PublicKey => PrivateKey.fromSeed(n).publicKey;
const ME = pk(0n);
const A = pk(1n);
const B = pk(2n);
const C = pk(3n);
const D = pk(4n);

/** Metric fakes that remember values per label set. */
class FakeGauge implements Gauge {
  readonly values = new Map<string, number>();
  set(labels: Labels | undefined, value: number): void {
    this.values.set(JSON.stringify(labels ?? {}), value);
  }
  inc(labels?: Labels, value = 1): void {
    this.set(labels, this.get(labels) + value);
  }
  dec(labels?: Labels, value = 1): void {
    this.set(labels, this.get(labels) - value);
  }
  get(labels?: Labels): number {
    return this.values.get(JSON.stringify(labels ?? {})) ?? 0;
  }
  has(labels?: Labels): boolean {
    return this.values.has(JSON.stringify(labels ?? {}));
  }
  remove(labels: Labels): void {
    this.values.delete(JSON.stringify(labels));
  }
}
class FakeCounter implements Counter {
  readonly g = new FakeGauge();
  inc(labels?: Labels, value = 1): void {
    this.g.inc(labels, value);
  }
  get(labels?: Labels): number {
    return this.g.get(labels);
  }
}
type Fakes = {
  tracked: FakeGauge;
  blocked: FakeGauge;
  reserved: FakeGauge;
  connected: FakeGauge;
  limits: FakeCounter;
  updates: FakeCounter;
  mailboxBackoff: FakeCounter;
};
const fakeMetrics = (): Fakes & DirectoryMetrics => ({
  forget() {},
  tracked: new FakeGauge(),
  blocked: new FakeGauge(),
  reserved: new FakeGauge(),
  connected: new FakeGauge(),
  limits: new FakeCounter(),
  updates: new FakeCounter(),
  mailboxBackoff: new FakeCounter(),
});

const zeroRng: JitterRng = { int: (min) => min };
const maxRng: JitterRng = { int: (_min, max) => max - 1 };

interface Harness {
  dir: Directory;
  metrics: Fakes;
  released: Metadata[];
}

function harness(over: Partial<DirectoryConfig> = {}, rng: JitterRng = zeroRng): Harness {
  const config: DirectoryConfig = {
    allowPrivateIps: true,
    allowDns: true,
    bypassIpCheck: false,
    trackedPeerSets: 3,
    maxPeersPerSet: 16,
    peerConnectionCooldownMs: 100,
    blockDurationMs: 100_000,
    ...over,
  };
  const metrics = fakeMetrics();
  const released: Metadata[] = [];
  const dir = new Directory(ME, config, {
    rng,
    releaser: (m) => released.push(m),
    metrics,
  });
  return { dir, metrics, released };
}

type Entries = [PublicKey, string | Address][];
const peers = (primary: Entries, secondary: Entries = []) =>
  AddressableTrackedPeers.from({ primary, secondary });
const hexes = (keys: readonly PublicKey[] | undefined) => keys?.map((k) => k.toHex());
const sortedHex = (...keys: PublicKey[]) => keys.map((k) => k.toHex()).sort();
const peerLabel = (k: PublicKey) => ({ peer: k.toHex() });

/** Tracks one set and returns the kill list (asserting the index was accepted). */
function track(dir: Directory, index: number, primary: Entries, secondary: Entries = []) {
  const kill = dir.track(index, peers(primary, secondary));
  assert.ok(kill !== undefined, `index ${index} should be accepted`);
  return kill;
}

// ---------- Peer sets ----------

describe('Directory.track', () => {
  it('returns the peers evicted while connected and deletes inert ones (test_track_return_value)', () => {
    const { dir, metrics } = harness({ trackedPeerSets: 1 });
    assert.deepEqual(
      track(dir, 0, [
        [A, '127.0.0.1:1235'],
        [B, '127.0.0.1:1236'],
      ]),
      [],
    );
    assert.equal(metrics.tracked.get(), 2);
    // A connected, B inert: evicting both kills only A; B's record goes.
    const r = dir.listen(A, '127.0.0.1', 0)!.reservation;
    assert.equal(dir.connect(A, 0), 'connected');
    const kill = track(dir, 1, [[C, '127.0.0.1:1237']]);
    assert.deepEqual(hexes(kill), [A.toHex()]);
    assert.equal(dir.record(B), undefined);
    assert.equal(dir.record(A)?.status, 'active', 'kept until released');
    assert.equal(metrics.tracked.get(), 2, 'A (still connected) and C');
    r.release();
    dir.release(r.metadata);
    assert.equal(dir.record(A), undefined, 'deleted on release');
    assert.equal(metrics.tracked.get(), 1);
  });

  it('rejects an index that already exists or does not increase (index must increase)', () => {
    const { dir } = harness();
    track(dir, 5, [[A, '127.0.0.1:1']]);
    assert.equal(dir.track(5, peers([[B, '127.0.0.1:2']])), undefined);
    assert.equal(dir.track(4, peers([[B, '127.0.0.1:2']])), undefined);
    assert.equal(dir.record(B), undefined, 'a rejected set changes nothing');
    assert.equal(dir.latestIndex(), 5);
    assert.ok(dir.track(6, peers([[B, '127.0.0.1:2']])) !== undefined);
    assert.throws(
      () => dir.track(-1, peers([])),
      (e) => e instanceof P2PError && e.code === 'InvalidPeerSet',
    );
  });

  it('rejects a set with too many peers, counting ourselves when absent', () => {
    const { dir } = harness({ maxPeersPerSet: 3 });
    const isInvalid = (e: unknown) => e instanceof P2PError && e.code === 'InvalidPeerSet';
    // A, B, C + self = 4 > 3
    assert.throws(
      () =>
        dir.track(
          0,
          peers(
            [
              [A, '127.0.0.1:1'],
              [B, '127.0.0.1:2'],
            ],
            [[C, '127.0.0.1:3']],
          ),
        ),
      isInvalid,
    );
    assert.equal(dir.record(A), undefined, 'checked before any change');
    // self, A, B = 3: fits
    track(dir, 0, [
      [ME, '127.0.0.1:0'],
      [A, '127.0.0.1:1'],
      [B, '127.0.0.1:2'],
    ]);
    // A in both roles counts once: A, B + self = 3
    track(
      dir,
      1,
      [[A, '127.0.0.1:1']],
      [
        [A, '127.0.0.1:1'],
        [B, '127.0.0.1:2'],
      ],
    );
  });

  it('keeps secondaries eligible until their set is evicted (test_secondary_sets_remain_until_eviction)', () => {
    const { dir } = harness({ trackedPeerSets: 2 });
    track(dir, 0, [[A, '127.0.0.1:1']], [[C, '127.0.0.1:3']]);
    assert.ok(dir.eligible(C, 0));
    track(dir, 1, [[B, '127.0.0.1:2']], [[D, '127.0.0.1:4']]);
    assert.ok(dir.eligible(C, 0) && dir.eligible(D, 0));
    track(dir, 2, [[A, '127.0.0.1:1']]);
    assert.equal(dir.record(C), undefined);
    assert.ok(dir.eligible(D, 0));
  });

  it('updates addresses on re-registration and never gives ourselves an address (test_track_overwrite)', () => {
    const { dir, metrics } = harness();
    track(dir, 0, [
      [A, '127.0.0.1:1235'],
      [B, '127.0.0.1:1236'],
    ]);
    track(dir, 1, [[A, '127.0.0.1:1238']]);
    assert.deepEqual(dir.record(A)?.ingress(), {
      kind: 'socket',
      addr: { ip: '127.0.0.1', port: 1238 },
    });
    assert.equal(dir.record(B)?.egressIp(), '127.0.0.1');
    assert.equal(metrics.updates.get(peerLabel(A)), 1);
    track(dir, 2, [[ME, '127.0.0.1:1237']]);
    assert.equal(dir.record(ME)?.ingress(), undefined);
    assert.equal(dir.record(ME)?.address.kind, 'myself');
  });

  it('keeps only the primary role and address for an overlapping key', () => {
    const { dir } = harness();
    track(dir, 0, [[A, '8.8.8.8:1235']], [[A, '9.9.9.9:2235']]);
    const set = dir.peerSet(0)!;
    assert.deepEqual(hexes(set.primary), [A.toHex()]);
    assert.deepEqual(set.secondary, []);
    assert.equal(dir.record(A)?.primarySets, 1);
    assert.equal(dir.record(A)?.secondarySets, 0);
    assert.equal(dir.record(A)?.egressIp(), '8.8.8.8');
    assert.deepEqual(hexes(dir.dialable(0).peers), [A.toHex()]);
    const allow = dir.listenerAllowList(0).ips;
    assert.ok(allow.has('8.8.8.8') && !allow.has('9.9.9.9'));
  });

  it('lists a peer primary in one retained set and secondary in another as primary in all()', () => {
    const { dir } = harness();
    track(dir, 10, [
      [A, '10.0.0.1:4001'],
      [C, '10.0.0.3:4003'],
    ]);
    track(
      dir,
      11,
      [[B, '10.0.0.2:4002']],
      [
        [C, '10.0.0.3:4003'],
        [D, '10.0.0.4:4004'],
      ],
    );
    const all = dir.all();
    assert.deepEqual(hexes(all.primary), sortedHex(A, B, C));
    assert.deepEqual(hexes(all.secondary), [D.toHex()]);
    const update = dir.latestUpdate()!;
    assert.equal(update.index, 11);
    assert.deepEqual(hexes(update.latest.primary), [B.toHex()]);
    assert.deepEqual(hexes(update.latest.secondary), sortedHex(C, D));
    assert.deepEqual(update.all, all);
  });

  it('reports nothing before the first set', () => {
    const { dir } = harness();
    assert.equal(dir.latestUpdate(), undefined);
    assert.equal(dir.latestIndex(), undefined);
    assert.equal(dir.peerSet(0), undefined);
    assert.deepEqual(dir.dialable(0), { peers: [], nextQueryAt: undefined });
  });

  it('kills a peer whose address changes under a live connection', () => {
    const { dir, metrics } = harness();
    track(dir, 0, [[A, '8.8.8.8:1']]);
    const r = dir.dial(A, 0)!;
    assert.equal(dir.connect(A, 0), 'connected');
    const kill = track(dir, 1, [[A, '9.9.9.9:1']]);
    assert.deepEqual(hexes(kill), [A.toHex()]);
    assert.equal(metrics.updates.get(peerLabel(A)), 1);
    // unchanged address under a live connection: no kill
    assert.deepEqual(track(dir, 2, [[A, '9.9.9.9:1']]), []);
    r.reservation.release();
  });

  it('kills peers removed from every set, whether reserved or active (register disconnects removed peer)', () => {
    const { dir } = harness({ trackedPeerSets: 1 });
    track(dir, 0, [
      [A, '127.0.0.1:1'],
      [B, '127.0.0.1:2'],
      [C, '127.0.0.1:3'],
    ]);
    dir.dial(A, 0); // reserved
    dir.listen(B, '127.0.0.1', 0); // reserved
    assert.equal(dir.connect(B, 0), 'connected'); // active
    const kill = track(dir, 1, [[C, '127.0.0.1:3']]);
    assert.deepEqual(hexes(kill), sortedHex(A, B), 'deduplicated and sorted; C stays');
  });
});

// ---------- Overwrite ----------

describe('Directory.overwrite', () => {
  it('updates a tracked peer and ignores unknown, evicted and unchanged ones', () => {
    const { dir, metrics } = harness({ trackedPeerSets: 1 });
    track(dir, 0, [[A, '8.8.8.8:1235']]);
    const res = dir.overwrite([
      [A, parseAddress('9.9.9.9:1236')],
      [B, parseAddress('9.9.9.9:1')],
      [ME, parseAddress('9.9.9.9:2')],
    ]);
    assert.deepEqual(hexes(res.updated), [A.toHex()]);
    assert.deepEqual(res.kill, []);
    assert.equal(dir.record(A)?.egressIp(), '9.9.9.9');
    assert.equal(metrics.updates.get(peerLabel(A)), 1);
    assert.deepEqual(dir.overwrite([[A, parseAddress('9.9.9.9:1236')]]).updated, [], 'unchanged');
    track(dir, 1, [[B, '8.8.8.8:2']]);
    assert.deepEqual(dir.overwrite([[A, parseAddress('1.1.1.1:1')]]).updated, [], 'evicted');
  });

  it('severs an existing connection (test_overwrite_severs_existing_connection)', () => {
    const { dir } = harness();
    track(dir, 0, [[A, '8.8.8.8:1']]);
    const r = dir.listen(A, '8.8.8.8', 0)!.reservation;
    assert.equal(dir.connect(A, 0), 'connected');
    const res = dir.overwrite([[A, parseAddress('9.9.9.9:1')]]);
    assert.deepEqual(hexes(res.kill), [A.toHex()]);
    assert.ok(dir.record(A)?.needsTeardown());
    r.release();
    dir.release(r.metadata);
    assert.equal(dir.record(A)?.stale, false, 'released record is clean');
  });

  it('refuses to activate a reservation taken before an overwrite', () => {
    const { dir } = harness();
    track(dir, 0, [[A, '8.8.8.8:1']]);
    const r = dir.dial(A, 0)!;
    const res = dir.overwrite([[A, parseAddress('9.9.9.9:1')]]);
    assert.deepEqual(hexes(res.kill), [A.toHex()]);
    assert.equal(dir.connect(A, 0), 'refused', 'stale reservation must not become active');
    r.reservation.release();
    dir.release(r.reservation.metadata);
    // After the cooldown, a fresh dial goes to the new address.
    const again = dir.dial(A, 1000)!;
    assert.deepEqual(again.ingress, { kind: 'socket', addr: { ip: '9.9.9.9', port: 1 } });
    assert.equal(dir.connect(A, 1000), 'connected');
  });

  it('rejects an inbound source at the old IP after overwrite (test_stale_inbound_source_rejected_after_overwrite)', () => {
    const { dir } = harness();
    track(dir, 0, [[A, '8.8.8.8:1']]);
    assert.ok(dir.acceptable(A, '8.8.8.8', 0));
    dir.overwrite([[A, parseAddress('9.9.9.9:1')]]);
    assert.equal(dir.acceptable(A, '8.8.8.8', 0), false);
    assert.equal(dir.listen(A, '8.8.8.8', 0), undefined);
    assert.ok(dir.acceptable(A, '9.9.9.9', 0));
    const allow = dir.listenerAllowList(0).ips;
    assert.ok(allow.has('9.9.9.9') && !allow.has('8.8.8.8'));
  });
});

// ---------- Blocking ----------

describe('Directory blocking', () => {
  it('blocks a peer from dialing until the block expires (test_blocked_peer_not_dialable)', () => {
    const { dir } = harness();
    track(dir, 0, [[A, '8.8.8.8:1235']]);
    assert.deepEqual(hexes(dir.dialable(0).peers), [A.toHex()]);
    assert.ok(dir.block(A, 0));
    assert.deepEqual(dir.dialable(0).peers, []);
    assert.equal(dir.dial(A, 0), undefined);
    dir.unblockExpired(100_001);
    assert.deepEqual(hexes(dir.dialable(100_001).peers), [A.toHex()]);
  });

  it('blocks a peer from being accepted (test_blocked_peer_not_acceptable)', () => {
    const { dir } = harness({ bypassIpCheck: true });
    track(dir, 0, [[A, '8.8.8.8:1235']]);
    assert.ok(dir.acceptable(A, '8.8.8.8', 0));
    dir.block(A, 0);
    assert.equal(dir.acceptable(A, '8.8.8.8', 0), false);
    assert.equal(dir.listen(A, '8.8.8.8', 0), undefined);
    dir.unblockExpired(100_001);
    assert.ok(dir.acceptable(A, '8.8.8.8', 100_001));
  });

  it('makes a blocked peer ineligible (test_blocked_peer_not_eligible)', () => {
    const { dir } = harness();
    track(dir, 0, [[A, '8.8.8.8:1235']]);
    assert.ok(dir.eligible(A, 0));
    dir.block(A, 0);
    assert.equal(dir.eligible(A, 0), false);
    dir.unblockExpired(100_001);
    assert.ok(dir.eligible(A, 100_001));
  });

  it('removes a blocked peer from the listener allow-list (test_blocked_peer_not_listenable)', () => {
    const { dir } = harness();
    track(dir, 0, [[A, '8.8.8.8:1235']]);
    assert.ok(dir.listenerAllowList(0).ips.has('8.8.8.8'));
    dir.block(A, 0);
    assert.equal(dir.listenerAllowList(0).ips.has('8.8.8.8'), false);
    dir.unblockExpired(100_001);
    assert.ok(dir.listenerAllowList(100_001).ips.has('8.8.8.8'));
  });

  it('refuses a connect for a peer blocked after its reservation', () => {
    const { dir } = harness();
    track(dir, 0, [[A, '8.8.8.8:1']]);
    const r = dir.dial(A, 0)!;
    dir.block(A, 0);
    assert.equal(dir.connect(A, 0), 'refused');
    r.reservation.release();
  });

  it('unblocks expired entries in order and allows a later re-block (test_unblock_expired)', () => {
    const { dir, metrics } = harness();
    track(dir, 0, [[A, '127.0.0.1:1235']]);
    dir.block(A, 0);
    assert.equal(dir.blockedCount, 1);
    assert.equal(dir.nextUnblockAt(), 100_000);
    assert.equal(metrics.blocked.get(peerLabel(A)), 100_000);
    assert.deepEqual(dir.unblockExpired(99_999), [], 'nothing before expiry');
    assert.deepEqual(hexes(dir.unblockExpired(100_000)), [A.toHex()], 'expiry is inclusive');
    assert.equal(dir.blockedCount, 0);
    assert.equal(dir.nextUnblockAt(), undefined);
    assert.equal(metrics.blocked.has(peerLabel(A)), false);
    assert.ok(dir.block(A, 150_000));
    assert.equal(dir.nextUnblockAt(), 250_000, 're-block has a later expiry');
  });

  it('orders several blocks by expiry', () => {
    const { dir } = harness();
    dir.block(B, 10);
    dir.block(A, 5);
    dir.block(C, 10);
    assert.equal(dir.nextUnblockAt(), 100_005);
    assert.deepEqual(hexes(dir.unblockExpired(100_010)), [
      A.toHex(),
      ...[B, C].map((k) => k.toHex()).sort(),
    ]);
  });

  it('ignores a block of an already-blocked peer and of ourselves', () => {
    const { dir, metrics } = harness();
    track(dir, 0, [[A, '127.0.0.1:1']]);
    assert.ok(dir.block(A, 0));
    assert.equal(dir.block(A, 50), false);
    assert.equal(metrics.blocked.get(peerLabel(A)), 100_000, 'expiry not extended');
    assert.equal(dir.block(ME, 0), false);
    assert.equal(metrics.blocked.has(peerLabel(ME)), false);
    assert.equal(dir.blockedCount, 1);
    assert.deepEqual(hexes(dir.unblockExpired(1_000_000)), [A.toHex()]);
  });

  it('blocks an unknown key, and the block applies once it is tracked (test_block_nonexistent_peer_then_add_to_set)', () => {
    const { dir, metrics } = harness();
    assert.ok(dir.block(D, 0));
    assert.ok(metrics.blocked.has(peerLabel(D)));
    assert.equal(dir.record(D), undefined);
    track(dir, 0, [[D, '127.0.0.1:9999']]);
    assert.equal(dir.eligible(D, 0), false);
    dir.unblockExpired(100_001);
    assert.equal(metrics.blocked.has(peerLabel(D)), false);
    assert.ok(dir.eligible(D, 100_001));
  });

  it('keeps a block across record deletion and re-registration (test_unblock_expired_peer_removed_and_readded)', () => {
    const { dir, metrics } = harness({ trackedPeerSets: 1 });
    track(dir, 0, [[A, '127.0.0.1:1']]);
    dir.block(A, 0);
    track(dir, 1, [[B, '127.0.0.1:2']]);
    assert.equal(dir.record(A), undefined);
    assert.ok(metrics.blocked.has(peerLabel(A)), 'metric persists after removal');
    track(dir, 2, [[A, '127.0.0.1:1']]);
    assert.ok(dir.isBlocked(A, 0));
    assert.equal(dir.eligible(A, 0), false);
    dir.unblockExpired(100_001);
    assert.equal(dir.isBlocked(A, 100_001), false);
  });

  it('keeps a blocked peer blocked while its address changes (test_blocked_peer_remains_blocked_on_update)', () => {
    const { dir } = harness();
    track(dir, 0, [[A, '127.0.0.1:1235']]);
    dir.block(A, 0);
    track(dir, 1, [[A, '127.0.0.1:2235']]);
    assert.ok(dir.isBlocked(A, 0));
    dir.unblockExpired(100_001);
    assert.deepEqual(dir.record(A)?.ingress(), {
      kind: 'socket',
      addr: { ip: '127.0.0.1', port: 2235 },
    });
  });

  it("reports a blocked peer's unblock time as next query time (test_dialable_next_query_at_includes_blocked)", () => {
    const { dir } = harness({ blockDurationMs: 3_600_000 });
    track(dir, 0, [[A, '8.8.8.8:1234']]);
    dir.block(A, 1000);
    assert.deepEqual(dir.dialable(1000), { peers: [], nextQueryAt: 3_601_000 });
  });

  it('ignores an expired block that was not swept (test_dialable_expired_block_without_unblock)', () => {
    const { dir } = harness({ blockDurationMs: 1000 });
    track(dir, 0, [[A, '8.8.8.8:1234']]);
    dir.block(A, 0);
    const later = dir.dialable(2000);
    assert.deepEqual(hexes(later.peers), [A.toHex()]);
    assert.equal(later.nextQueryAt, undefined, 'no stale hint');
    assert.ok(dir.dial(A, 2000) !== undefined);
  });

  it('re-blocks after an expired block that was not swept (test_reblock_after_expired_block_without_unblock)', () => {
    const { dir } = harness({ blockDurationMs: 1000 });
    track(dir, 0, [[A, '8.8.8.8:1234']]);
    dir.block(A, 0);
    assert.ok(dir.block(A, 2000));
    assert.equal(dir.blockedCount, 1, 'stale entry replaced, not duplicated');
    assert.deepEqual(dir.dialable(2000).peers, []);
    assert.equal(dir.dial(A, 2000), undefined);
    assert.equal(dir.nextUnblockAt(), 3000);
    assert.deepEqual(dir.unblockExpired(2999), []);
    assert.equal(dir.unblockExpired(3000).length, 1);
  });

  it('keeps a shared egress IP allowed while any of its peers is eligible (test_listenable_ip_collision_eligible_wins)', () => {
    const { dir } = harness();
    track(dir, 0, [
      [A, '203.0.113.1:8080'],
      [B, '203.0.113.1:8081'],
    ]);
    assert.ok(dir.listenerAllowList(0).ips.has('203.0.113.1'));
    dir.block(A, 0);
    assert.ok(dir.listenerAllowList(0).ips.has('203.0.113.1'), 'one eligible peer keeps it');
    dir.block(B, 0);
    assert.equal(dir.listenerAllowList(0).ips.has('203.0.113.1'), false);
  });
});

// ---------- Reservations ----------

describe('Directory reservations', () => {
  it('rate-limits a redial within the cooldown (test_reservation_rate_limits_redial)', () => {
    const { dir, metrics } = harness({ peerConnectionCooldownMs: 1000 }, maxRng);
    track(dir, 0, [[A, '8.8.8.8:1235']]);
    const first = dir.dial(A, 0)!;
    assert.deepEqual(first.ingress, { kind: 'socket', addr: { ip: '8.8.8.8', port: 1235 } });
    assert.equal(dir.connect(A, 0, true, first.reservation.metadata.generation), 'connected');
    first.reservation.release();
    dir.release(first.reservation.metadata);
    assert.equal(dir.dial(A, 0), undefined, 'rate-limited right after release');
    assert.equal(metrics.limits.get(peerLabel(A)), 1);
    assert.equal(dir.dialable(0).peers.length, 0);
    // next dial at reservation + cooldown + jitter (max jitter = cooldown here)
    assert.equal(dir.dialable(0).nextQueryAt, 2000);
    assert.equal(dir.dialable(1999).peers.length, 0);
    assert.deepEqual(hexes(dir.dialable(2000).peers), [A.toHex()]);
    assert.ok(dir.dial(A, 2000) !== undefined);
  });

  it('puts the jittered next dial between one and two cooldowns (test_dialable_next_query_at_reflects_rate_limit)', () => {
    for (const rng of [zeroRng, maxRng, { int: (min: number, max: number) => (min + max) >> 1 }]) {
      const { dir } = harness({ peerConnectionCooldownMs: 1000 }, rng);
      track(dir, 0, [[A, '8.8.8.8:1235']]);
      const r = dir.dial(A, 500)!;
      r.reservation.release();
      dir.release(r.reservation.metadata);
      const nqa = dir.dialable(500).nextQueryAt!;
      assert.ok(nqa >= 1500 && nqa <= 2500, `next query at ${nqa}`);
    }
  });

  it('applies the cooldown to inbound reservations too', () => {
    const { dir, metrics } = harness({ peerConnectionCooldownMs: 1000 });
    track(dir, 0, [[A, '8.8.8.8:1']]);
    const r = dir.listen(A, '8.8.8.8', 0)!.reservation;
    assert.equal(dir.connect(A, 0, false, r.metadata.generation), 'connected');
    r.release();
    dir.release(r.metadata);
    assert.ok(dir.acceptable(A, '8.8.8.8', 10), 'handshake may proceed');
    assert.equal(dir.listen(A, '8.8.8.8', 10), undefined, 'but the reservation is refused');
    assert.equal(metrics.limits.get(peerLabel(A)), 1);
    assert.ok(dir.listen(A, '8.8.8.8', 1000) !== undefined);
  });

  it('holds one reservation per peer: a second dial or inbound session waits for the slot', () => {
    const { dir } = harness({ peerConnectionCooldownMs: 0 });
    track(dir, 0, [[A, '8.8.8.8:1']]);
    const inbound = dir.listen(A, '8.8.8.8', 0)!.reservation;
    assert.equal(dir.dial(A, 0), undefined, 'outbound refused while accepting');
    assert.equal(dir.acceptable(A, '8.8.8.8', 0), false, 'a second inbound session is refused');
    assert.equal(dir.listen(A, '8.8.8.8', 0), undefined);
    assert.equal(dir.release(inbound.metadata), 'released');
    assert.ok(dir.dial(A, 0) !== undefined);
    assert.equal(dir.dial(A, 0), undefined, 'second dial refused');
  });

  it('abandons a pending dial for an authenticated inbound session, with no cooldown or failure', () => {
    const { dir } = harness({ peerConnectionCooldownMs: 60_000 });
    track(dir, 0, [[A, '8.8.8.8:1']]);
    const out = dir.dial(A, 0)!;
    assert.ok(dir.acceptable(A, '8.8.8.8', 10), 'a pending dial does not refuse the handshake');
    const inbound = dir.listen(A, '8.8.8.8', 10)!;
    assert.equal(inbound.supersedes, false, 'no live connection to kill');
    // The abandoned dial completes or fails later: either way it no longer holds the slot.
    assert.equal(dir.connect(A, 20, true, out.reservation.metadata.generation), 'refused');
    assert.equal(dir.release(out.reservation.metadata), 'superseded');
    assert.equal(dir.record(A)?.status, 'reserved', 'the inbound session still holds the slot');
    assert.equal(dir.connect(A, 20, false, inbound.reservation.metadata.generation), 'connected');
  });

  it('lets an inbound session follow a dial that never connected, without its cooldown', () => {
    const { dir } = harness({ peerConnectionCooldownMs: 60_000 });
    track(dir, 0, [[A, '8.8.8.8:1']]);
    const out = dir.dial(A, 0)!;
    assert.equal(dir.release(out.reservation.metadata), 'released');
    assert.ok(dir.listen(A, '8.8.8.8', 1) !== undefined, 'no cooldown after a failed dial');
    assert.equal(dir.dial(A, 2), undefined, 'and the slot is held again');
  });

  it('keeps the session dialed by the smaller key when both directions authenticate', () => {
    // ME is compared with A by bytes: whichever is smaller, its dial wins on both sides.
    const { dir } = harness({ peerConnectionCooldownMs: 0 });
    track(dir, 0, [[A, '8.8.8.8:1']]);
    const ours = ME.compare(A) < 0;
    const out = dir.dial(A, 0)!;
    assert.equal(dir.connect(A, 0, true, out.reservation.metadata.generation), 'connected');
    const inbound = dir.listen(A, '8.8.8.8', 1);
    if (ours) {
      assert.equal(inbound, undefined, 'our dial wins: their session is refused');
      assert.equal(dir.acceptable(A, '8.8.8.8', 1), false);
    } else {
      assert.equal(inbound?.supersedes, true, 'their dial wins: ours must be killed');
      assert.equal(dir.release(out.reservation.metadata), 'superseded', 'no cooldown, no failure');
      assert.equal(dir.connect(A, 2, false, inbound?.reservation.metadata.generation), 'connected');
    }
  });

  it('never replaces a session active for longer than handshakeTimeoutMs', () => {
    const { dir } = harness({ peerConnectionCooldownMs: 0, handshakeTimeoutMs: 5_000 });
    track(dir, 0, [[A, '8.8.8.8:1']]);
    const out = dir.dial(A, 0)!;
    assert.equal(dir.connect(A, 0, true, out.reservation.metadata.generation), 'connected');
    assert.equal(dir.acceptable(A, '8.8.8.8', 5_001), false);
    assert.equal(dir.listen(A, '8.8.8.8', 5_001), undefined);
    assert.equal(dir.record(A)?.status, 'active');
  });

  it('dials primaries but only accepts secondaries (test_secondary_peers_are_connectable_but_not_primary)', () => {
    const { dir } = harness();
    track(dir, 0, [[A, '8.8.8.8:1']], [[B, '9.9.9.9:1']]);
    assert.deepEqual(hexes(dir.dialable(0).peers), [A.toHex()]);
    assert.equal(dir.dial(B, 0), undefined, 'secondaries are never dialed');
    assert.ok(dir.acceptable(B, '9.9.9.9', 0));
    const r = dir.listen(B, '9.9.9.9', 0)!.reservation;
    assert.equal(dir.connect(B, 0), 'connected');
    assert.ok(dir.listenerAllowList(0).ips.has('9.9.9.9'));
    r.release();
  });

  it('tracks reserved and connected metrics across connect and release', () => {
    const { dir, metrics, released } = harness();
    track(dir, 0, [[A, '8.8.8.8:1']]);
    const r = dir.listen(A, '8.8.8.8', 0)!.reservation;
    assert.equal(metrics.reserved.get(), 1);
    assert.equal(dir.connect(A, 1234), 'connected');
    assert.equal(metrics.connected.get(peerLabel(A)), 1234);
    r.release();
    r.release();
    assert.equal(released.length, 1, 'the releaser sees one release');
    dir.release(released[0]!);
    assert.equal(metrics.reserved.get(), 0);
    assert.equal(metrics.connected.has(peerLabel(A)), false);
    assert.equal(dir.record(A)?.status, 'inert');
  });

  it('refuses connect for unknown, unreserved or evicted peers', () => {
    const { dir } = harness({ trackedPeerSets: 1 });
    assert.equal(dir.connect(A, 0), 'refused', 'unknown');
    track(dir, 0, [[A, '8.8.8.8:1']]);
    assert.equal(dir.connect(A, 0), 'refused', 'inert');
    const r = dir.dial(A, 0)!;
    track(dir, 1, [[B, '8.8.8.8:2']]);
    assert.equal(dir.connect(A, 0), 'refused', 'evicted while reserved');
    r.reservation.release();
  });

  it('refuses to reserve ourselves or an untracked peer', () => {
    const { dir } = harness({ bypassIpCheck: true });
    track(dir, 0, [[ME, '127.0.0.1:1']]);
    assert.equal(dir.dial(ME, 0), undefined);
    assert.equal(dir.listen(ME, '127.0.0.1', 0), undefined);
    assert.equal(dir.dial(A, 0), undefined);
    assert.equal(dir.acceptable(A, '127.0.0.1', 0), false);
    assert.equal(dir.listen(A, '127.0.0.1', 0), undefined);
  });

  it('accepts any source IP with bypassIpCheck (test_acceptable_bypass_ip_check)', () => {
    const strict = harness().dir;
    const bypass = harness({ bypassIpCheck: true }).dir;
    for (const dir of [strict, bypass]) track(dir, 0, [[A, '8.8.8.8:1']]);
    assert.equal(strict.acceptable(A, '1.2.3.4', 0), false);
    assert.equal(bypass.acceptable(A, '1.2.3.4', 0), true);
    assert.ok(bypass.listen(A, '1.2.3.4', 0) !== undefined);
  });
});

// ---------- Address policy ----------

describe('Directory address policy', () => {
  it('registers DNS peers but does not dial them when DNS is disabled', () => {
    const { dir } = harness({ allowDns: false });
    track(dir, 0, [
      [A, '10.0.0.1:8080'],
      [B, Address.asymmetric('node.example.com:8080', '192.168.1.1:9090')],
    ]);
    assert.ok(dir.record(B) !== undefined);
    assert.deepEqual(hexes(dir.dialable(0).peers), [A.toHex()]);
  });

  it('registers private peers but neither dials nor allow-lists them without allowPrivateIps', () => {
    const { dir } = harness({ allowPrivateIps: false });
    track(dir, 0, [
      [A, '8.8.8.8:8080'],
      [B, '10.0.0.1:8080'],
    ]);
    assert.ok(dir.record(B) !== undefined);
    assert.deepEqual(hexes(dir.dialable(0).peers), [A.toHex()]);
    const allow = dir.listenerAllowList(0).ips;
    assert.ok(allow.has('8.8.8.8') && !allow.has('10.0.0.1'));
  });

  it('dials the ingress and allow-lists the egress of asymmetric addresses', () => {
    const { dir } = harness();
    track(dir, 0, [
      [A, Address.asymmetric('10.0.0.1:8080', '192.168.1.1:9090')],
      [B, Address.asymmetric('node.example.com:8080', '192.168.1.2:9090')],
    ]);
    assert.deepEqual(dir.dial(A, 0)?.ingress, {
      kind: 'socket',
      addr: { ip: '10.0.0.1', port: 8080 },
    });
    assert.deepEqual(dir.dial(B, 0)?.ingress, {
      kind: 'dns',
      host: 'node.example.com',
      port: 8080,
    });
    const allow = dir.listenerAllowList(0).ips;
    assert.deepEqual([...allow].sort(), ['192.168.1.1', '192.168.1.2']);
    assert.equal(dir.listenerAllowList(0).any, false, 'every peer has an egress IP');
  });

  it('dials a named peer by its DNS ingress and accepts it from any source IP', () => {
    const { dir } = harness({ allowPrivateIps: false });
    track(dir, 0, [[A, 'a.example:8080']]);
    assert.equal(dir.record(A)?.egressIp(), undefined);
    assert.deepEqual(hexes(dir.dialable(0).peers), [A.toHex()]);
    assert.deepEqual(dir.dial(A, 0)?.ingress, { kind: 'dns', host: 'a.example', port: 8080 });
    const { dir: dir2 } = harness();
    track(dir2, 0, [[A, 'a.example:8080']]);
    assert.ok(dir2.acceptable(A, '8.8.8.8', 0));
    assert.ok(dir2.acceptable(A, '10.0.0.9', 0));
    assert.equal(dir2.acceptable(B, '8.8.8.8', 0), false, 'an unregistered key still is not');
  });

  it('sets the allow-list any flag while an eligible, unblocked named peer exists', () => {
    const { dir } = harness({ trackedPeerSets: 1 });
    const allow = (now = 0) => {
      const l = dir.listenerAllowList(now);
      return { ips: [...l.ips].sort(), any: l.any };
    };
    track(dir, 0, [[A, '8.8.8.8:1']]);
    assert.deepEqual(allow(), { ips: ['8.8.8.8'], any: false }, 'no named peer');
    // A named peer joins (as a secondary: still eligible, so it may connect in).
    track(dir, 1, [[A, '8.8.8.8:1']], [[B, 'b.example:1']]);
    assert.deepEqual(allow(), { ips: ['8.8.8.8'], any: true }, 'named peer joined');
    // Blocked: no longer admitted; the flag drops until the block expires.
    dir.block(B, 0);
    assert.deepEqual(allow(), { ips: ['8.8.8.8'], any: false }, 'named peer blocked');
    assert.deepEqual(allow(100_001), { ips: ['8.8.8.8'], any: true }, 'block expired');
    dir.unblockExpired(100_001);
    assert.deepEqual(allow(100_001), { ips: ['8.8.8.8'], any: true });
    // Re-registered with an egress IP: the flag drops, its IP is listed.
    dir.overwrite([[B, Address.asymmetric('b.example:1', '9.9.9.9:0')]]);
    assert.deepEqual(allow(100_001), { ips: ['8.8.8.8', '9.9.9.9'], any: false }, 'egress known');
    dir.overwrite([[B, parseAddress('b.example:1')]]);
    assert.deepEqual(allow(100_001), { ips: ['8.8.8.8'], any: true }, 'named again');
    // The named peer leaves (its set is evicted): the flag drops.
    track(dir, 2, [[A, '8.8.8.8:1']]);
    assert.equal(dir.record(B), undefined);
    assert.deepEqual(allow(100_001), { ips: ['8.8.8.8'], any: false }, 'named peer left');
    // Ourselves never counts, whatever address a set gives us.
    track(dir, 3, [
      [A, '8.8.8.8:1'],
      [ME, 'me.example:1'],
    ]);
    assert.deepEqual(allow(100_001), { ips: ['8.8.8.8'], any: false }, 'myself is not a peer');
  });
});

describe('Directory.beginTrack steps', () => {
  it('pauses before and after the record that may grow its shard (at 1,024 entries), not for known keys', () => {
    const { dir } = harness({ maxPeersPerSet: 2_000 });
    const pauses = (index: number, entries: Entries): number[] => {
      const job = dir.beginTrack(index, peers(entries));
      assert.ok(job !== undefined);
      const at: number[] = [];
      for (let r = job.next(); r.done !== true; r = job.next()) {
        if (r.value === PAUSE) at.push(dir.trackedCount + 1);
      }
      return at;
    };
    // 1,025 keys of shard a (ourselves is in shard e).
    const keys = keysInShard('a', 1_025);
    const entries = keys.map((k, i): [PublicKey, string] => [k, `10.0.${i >> 8}.${i & 255}:1`]);
    // Ourselves and 1,024 peers of shard a: 1,025 records.
    assert.deepEqual(pauses(0, entries.slice(0, 1_024)), []);
    assert.deepEqual(pauses(1, entries.slice(0, 1_024)), [], 'known keys: no pause');
    // Before it (1,025 records) and after it (1,026): the growth has a turn of its own.
    assert.deepEqual(pauses(2, entries), [1_025, 1_026]);
    assert.equal(dir.trackedCount, 1_025);
    for (const key of keys) assert.equal(dir.record(key)?.key, key, 'a record carries its key');
    assert.equal(dir.record(ME)?.persistent, true);
    assert.equal(dir.record(keys[0]!)?.persistent, false);
  });
});

describe('lookup Directory: members without a record of their own', () => {
  it('dials, filters, re-registers and evicts members that were never asked about', () => {
    const { dir, metrics } = harness({ trackedPeerSets: 2, allowPrivateIps: false });
    track(dir, 0, [
      [A, '8.8.8.1:1'],
      [B, '10.0.0.2:1'],
    ]);
    track(dir, 1, [[C, '8.8.8.3:1']], [[A, '8.8.8.1:1']]);
    // B's private address is not dialable; A and C are.
    assert.deepEqual(
      hexes(dir.dialable(0).peers),
      hexes([A, C].sort((x, y) => (x.toHex() < y.toHex() ? -1 : 1))),
    );
    assert.deepEqual([...dir.listenerAllowList(0).ips].sort(), ['8.8.8.1', '8.8.8.3']);
    assert.equal(metrics.updates.get(peerLabel(A)), 0, 'the same address is no update');
    assert.equal(metrics.tracked.get(), 3);
    // Set 0 goes: B is deleted, A stays as a secondary (accepted from its IP, never dialed).
    track(dir, 2, [[D, '8.8.8.4:1']]);
    assert.equal(metrics.tracked.get(), 3);
    assert.equal(dir.record(B), undefined);
    assert.ok(dir.acceptable(A, '8.8.8.1', 0));
    assert.equal(dir.acceptable(A, '8.8.8.9', 0), false);
    assert.equal(dir.dial(A, 0), undefined);
    assert.deepEqual(
      hexes(dir.dialable(0).peers),
      hexes([C, D].sort((x, y) => (x.toHex() < y.toHex() ? -1 : 1))),
    );
    // Set 1 goes: A and C too.
    track(dir, 3, [[D, '8.8.8.5:1']]);
    assert.equal(metrics.tracked.get(), 1);
    assert.equal(metrics.updates.get(peerLabel(D)), 1);
    assert.deepEqual(dir.record(D)?.ingress(), {
      kind: 'socket',
      addr: { ip: '8.8.8.5', port: 1 },
    });
    assert.equal(dir.record(D)?.primarySets, 2);
  });
});

describe('lookup Directory: addresses as registered (text or parsed)', () => {
  /** A registration as the oracle hands it over: addresses as `registeredAddress` keeps them. */
  const registered = (primary: [PublicKey, string | Address][]) => ({
    primary: primary.map(([k]) => k),
    primaryAddresses: primary.map(([, a]) => registeredAddress(a)),
    secondary: [],
    secondaryAddresses: [],
  });

  it('keeps the caller’s canonical text and reads it as the address it names', () => {
    const { dir } = harness({ allowPrivateIps: false });
    const text = ['8.8.8.1', '1'].join(':');
    assert.ok(
      dir.track(
        0,
        registered([
          [A, text],
          [B, '[2606:4700::1]:2'],
          [C, 'n.example:3'],
        ]),
      ),
    );
    assert.deepEqual(
      [...dir.listenerAllowList(0).ips].sort(),
      ['2606:4700::1', '8.8.8.1'],
      'bare entries read from their text',
    );
    assert.equal(dir.listenerAllowList(0).any, true, 'the named peer');
    assert.equal(dir.dialable(0).peers.length, 3);
    assert.ok(dir.acceptable(A, '8.8.8.1', 0));
    assert.equal(dir.acceptable(A, '8.8.8.2', 0), false);
    assert.equal(dir.record(A)?.registered, text, 'the same string, not a copy');
    assert.deepEqual(dir.record(B)?.ingress(), {
      kind: 'socket',
      addr: { ip: '2606:4700::1', port: 2 },
    });
    assert.deepEqual(dir.record(C)?.address, {
      kind: 'known',
      address: Address.named('n.example:3'),
    });
  });

  it('another text or an object of the same address is no change, bare or connected', () => {
    const { dir, metrics } = harness();
    assert.ok(
      dir.track(
        0,
        registered([
          [A, '[2001:db8::1]:1'],
          [B, '10.0.0.2:1'],
        ]),
      ),
    );
    dir.dial(B, 0);
    assert.equal(dir.connect(B, 0), 'connected');
    const same: [PublicKey, string | Address][] = [
      [A, '[2001:DB8:0::1]:1'],
      [B, Address.symmetric({ ip: '10.0.0.2', port: 1 })],
    ];
    assert.deepEqual(dir.track(1, registered(same)), [], 'nobody killed');
    assert.deepEqual(dir.track(2, peers(same)), [], 'nor from parsed addresses');
    assert.deepEqual(dir.overwrite([[B, '10.0.0.2:1']]), { updated: [], kill: [] });
    assert.equal(metrics.updates.get(peerLabel(A)), 0);
    assert.equal(metrics.updates.get(peerLabel(B)), 0);
    // A different address is a change: the bare one updated, the connected one killed.
    const moved = dir.track(
      3,
      registered([
        [A, '[2001:db8::2]:1'],
        [B, '10.0.0.2:2'],
      ]),
    );
    assert.deepEqual(hexes(moved), [B.toHex()]);
    assert.equal(metrics.updates.get(peerLabel(A)), 1);
    assert.equal(metrics.updates.get(peerLabel(B)), 1);
    assert.equal(dir.record(A)?.egressIp(), '2001:db8::2');
  });

  it('forgets an evicted member’s address, so a new registration starts afresh', () => {
    const { dir, metrics } = harness({ trackedPeerSets: 1 });
    assert.ok(
      dir.track(
        0,
        registered([
          [A, '10.0.0.1:1'],
          [B, '10.0.0.2:1'],
        ]),
      ),
    );
    assert.ok(dir.track(1, registered([[B, '10.0.0.2:1']])));
    assert.equal(dir.record(A), undefined);
    assert.ok(
      dir.track(
        2,
        registered([
          [A, '10.0.0.9:9'],
          [B, '10.0.0.2:1'],
        ]),
      ),
    );
    assert.equal(metrics.updates.get(peerLabel(A)), 0, 'a new member, not an update');
    assert.equal(dir.record(A)?.registered, '10.0.0.9:9');
    assert.deepEqual([...dir.listenerAllowList(0).ips].sort(), ['10.0.0.2', '10.0.0.9']);
  });
});
