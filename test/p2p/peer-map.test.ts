import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey } from '../../src/crypto/ed25519.js';
import { PeerMap } from '../../src/p2p/peer-map.js';

const pk = (n: bigint) => PrivateKey.fromSeed(n).publicKey;

describe('PeerMap', () => {
  it('treats distinct key objects with equal bytes as one key', () => {
    const m = new PeerMap<number>();
    const a = pk(1n);
    const b = pk(1n);
    assert.notEqual(a, b);
    m.set(a, 1);
    m.set(b, 2);
    assert.equal(m.size, 1);
    assert.equal(m.get(a), 2);
    assert.equal(m.has(b), true);
    assert.equal([...m.keys()][0], a, 'keeps the first key object');
  });

  it('iterates in insertion order and deletes by value equality', () => {
    const m = new PeerMap([
      [pk(3n), 'c'],
      [pk(1n), 'a'],
      [pk(2n), 'b'],
    ]);
    assert.deepEqual([...m.values()], ['c', 'a', 'b']);
    assert.equal(m.delete(pk(1n)), true);
    assert.equal(m.delete(pk(1n)), false);
    assert.deepEqual(
      [...m].map(([k, v]) => [k.toHex(), v]),
      [
        [pk(3n).toHex(), 'c'],
        [pk(2n).toHex(), 'b'],
      ],
    );
    assert.equal(m.getByHex(pk(2n).toHex()), 'b');
    m.clear();
    assert.equal(m.size, 0);
  });
});
