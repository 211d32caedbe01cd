import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey } from '../../src/crypto/ed25519.js';
import { KeyedMap, PeerMap } from '../../src/p2p/peer-map.js';

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

describe('KeyedMap', () => {
  /** A value carrying its key, as a tracker record does. */
  const item = (n: bigint, label = String(n)) => ({ key: pk(n), label });
  const labels = (m: KeyedMap<{ key: ReturnType<typeof pk>; label: string }>) =>
    [...m].map((v) => v.label);

  it('stores each value under its own key, found by any key object with the same bytes', () => {
    const m = new KeyedMap([item(1n), item(2n)]);
    assert.equal(m.size, 2);
    assert.equal(m.get(pk(1n))?.label, '1');
    assert.equal(m.has(pk(2n)), true);
    assert.equal(m.has(pk(3n)), false);
    assert.equal(m.get(pk(3n)), undefined);
  });

  it('iterates values and keys in insertion order; a replaced value keeps its place', () => {
    const m = new KeyedMap([item(3n), item(1n), item(2n)]);
    assert.deepEqual(labels(m), ['3', '1', '2']);
    m.set(item(1n, 'one'));
    assert.deepEqual(labels(m), ['3', 'one', '2']);
    assert.deepEqual(
      [...m.keys()].map((k) => k.toHex()),
      [3n, 1n, 2n].map((n) => pk(n).toHex()),
    );
    assert.deepEqual(
      [...m.values()].map((v) => v.label),
      ['3', 'one', '2'],
    );
  });

  it('deletes by key bytes; a value added again goes last', () => {
    const m = new KeyedMap([item(1n), item(2n), item(3n)]);
    assert.equal(m.delete(pk(1n)), true);
    assert.equal(m.delete(pk(1n)), false);
    assert.equal(m.size, 2);
    m.set(item(1n));
    assert.deepEqual(labels(m), ['2', '3', '1']);
    // Deleting during iteration (the live Map iterator) skips nothing that remains.
    const seen: string[] = [];
    for (const v of m) {
      seen.push(v.label);
      if (v.label === '2') m.delete(pk(3n));
    }
    assert.deepEqual(seen, ['2', '1']);
    m.clear();
    assert.equal(m.size, 0);
    assert.deepEqual(labels(m), []);
  });

  it('mayGrowNext: at a power-of-two size from 1,024 on, nowhere else', () => {
    // Cheap stand-in keys: any `toHex()` works.
    const key = (i: number) => ({ toHex: () => i.toString(16).padStart(8, '0') });
    const m = new KeyedMap<{ key: { toHex(): string } }, { toHex(): string }>();
    const grows: number[] = [];
    for (let i = 0; i < 4100; i++) {
      if (m.mayGrowNext()) grows.push(m.size);
      m.set({ key: key(i) });
    }
    assert.deepEqual(grows, [1024, 2048, 4096]);
  });
});
