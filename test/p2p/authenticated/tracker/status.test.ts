/**
 * The tracker's status snapshot (`DirectoryBase.status`): peer states, addresses, `since`,
 * blocks, paging, and discovery's knowledge bits. Pure: no runtime.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey } from '../../../../src/crypto/ed25519.js';
import { parseIngress } from '../../../../src/p2p/address.js';
import { Info } from '../../../../src/p2p/authenticated/discovery/info.js';
import { Directory as DiscoveryDirectory } from '../../../../src/p2p/authenticated/discovery/tracker/directory.js';
import { Directory } from '../../../../src/p2p/authenticated/lookup/tracker/directory.js';
import { runSteps } from '../../../../src/p2p/authenticated/tracker/steps.js';
import { AddressableTrackedPeers, TrackedPeers } from '../../../../src/p2p/types.js';

const key = (n: bigint) => PrivateKey.fromSeed(n);
const pk = (n: bigint) => key(n).publicKey;
const config = {
  allowPrivateIps: true,
  allowDns: true,
  trackedPeerSets: 4,
  maxPeersPerSet: 8,
  peerConnectionCooldownMs: 1000,
  blockDurationMs: 5000,
};
const deps = { rng: { int: (min: number) => min }, releaser: () => {} };

describe('tracker status', () => {
  it('reports each peer state with its address, since and block expiry, one page at a time', () => {
    const dir = new Directory(pk(0n), { ...config, bypassIpCheck: false }, deps);
    const [a, b, c, d, e] = [pk(1n), pk(2n), pk(3n), pk(4n), pk(5n)];
    dir.track(
      0,
      AddressableTrackedPeers.from([
        [a, '10.0.0.1:1'],
        [b, '10.0.0.2:1'],
        [c, '10.0.0.3:1'],
        [d, '10.0.0.4:1'],
      ]),
    );
    dir.dial(a, 100);
    dir.connect(a, 150, true);
    dir.dial(b, 200);
    dir.listen(c, '10.0.0.3', 300);
    dir.block(d, 400);
    dir.block(e, 500); // no record: listed after the records
    const s = runSteps(dir.status(0, 10, 600));
    assert.equal(s.total, 5);
    // Records in the directory's order (first seen first), then blocked keys without one.
    const rows = s.peers.map((p) => [p.key.toHex(), p.address, p.state, p.since, p.blockedUntil]);
    assert.deepEqual(rows.at(-1), [e.toHex(), undefined, 'blocked', undefined, 5500]);
    assert.deepEqual(
      rows.slice(0, 4).sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
      [
        [a.toHex(), '10.0.0.1:1', 'connected', 150, undefined],
        [b.toHex(), '10.0.0.2:1', 'dialing', 200, undefined],
        [c.toHex(), '10.0.0.3:1', 'reserved', 300, undefined],
        [d.toHex(), '10.0.0.4:1', 'blocked', 400, 5400],
      ].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
    );
    assert.deepEqual(
      s.sets.map((set) => [set.index, set.primary.length, set.secondary.length, set.known]),
      [[0, 4, 0, undefined]],
    );
    const page = runSteps(dir.status(3, 1, 600));
    assert.equal(page.offset, 3);
    assert.deepEqual(page.peers, [s.peers[3]]);
    assert.deepEqual(
      runSteps(dir.status(4, 5, 600)).peers.map((p) => p.key.toHex()),
      [e.toHex()],
    );
    // After the blocks expire and the dial is released, the peers read disconnected.
    dir.unblockExpired(6000);
    const later = runSteps(dir.status(0, 10, 6000));
    assert.equal(later.total, 4);
    const dState = later.peers.find((p) => p.key.equals(d))!;
    assert.equal(dState.state, 'disconnected');
  });

  it('shows discovery sets with their knowledge bits', () => {
    const me = key(0n);
    const myself = Info.sign(me, new Uint8Array([1]), parseIngress('127.0.0.1:1'), 1000);
    const dir = new DiscoveryDirectory(
      myself,
      [],
      { ...config, dialFailLimit: 2, peerGossipMaxCount: 4 },
      deps,
    );
    dir.track(0, TrackedPeers.from([pk(0n), pk(1n), pk(2n)]));
    const s = runSteps(dir.status(0, 10, 2000));
    assert.equal(s.total, 2);
    const set = s.sets[0]!;
    assert.equal(set.primary.length, 3);
    // Only our own record is known.
    const ours = set.primary.findIndex((k) => k.equals(me.publicKey));
    assert.deepEqual(
      set.known?.toBools(),
      set.primary.map((_, i) => i === ours),
    );
    assert.ok(s.peers.every((p) => p.state === 'disconnected' && p.address === undefined));
  });
});
