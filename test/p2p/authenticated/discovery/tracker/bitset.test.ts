import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey } from '../../../../../src/crypto/ed25519.js';
import { BitSet } from '../../../../../src/p2p/authenticated/discovery/tracker/bitset.js';
import { TrackedPeers } from '../../../../../src/p2p/types.js';

const keys = TrackedPeers.from([1n, 2n, 3n].map((n) => PrivateKey.fromSeed(n).publicKey)).primary;

describe('BitSet', () => {
  it('finds primaries by key and keeps one bit each, copied out', () => {
    const b = new BitSet(keys);
    assert.equal(b.size, 3);
    assert.equal(b.position(keys[2]!), 2);
    assert.equal(b.position(PrivateKey.fromSeed(9n).publicKey), undefined);
    assert.ok(b.update(keys[1]!, true));
    assert.equal(b.update(PrivateKey.fromSeed(9n).publicKey, true), false);
    const copy = b.bits();
    assert.deepEqual(copy.toBools(), [false, true, false]);
    b.set(0, true);
    assert.deepEqual(copy.toBools(), [false, true, false], 'the copy does not follow');
    assert.ok(b.get(0));
  });
});
