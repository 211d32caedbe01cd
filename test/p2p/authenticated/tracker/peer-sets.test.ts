import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey, type PublicKey } from '../../../../src/crypto/ed25519.js';
import {
  difference,
  PeerSetWindow,
  type StoredSet,
  sortedUnique,
  sortedUniqueSteps,
  trackedPeers,
  union,
} from '../../../../src/p2p/authenticated/tracker/peer-sets.js';
import { CHUNK, runSteps } from '../../../../src/p2p/authenticated/tracker/steps.js';
import { TrackedPeers } from '../../../../src/p2p/types.js';

const keys = [1n, 2n, 3n, 4n, 5n, 6n].map((n) => PrivateKey.fromSeed(n).publicKey);
const sorted = [...keys].sort((a, b) => a.compare(b));
const hex = (ks: readonly PublicKey[]) => ks.map((k) => k.toHex());

describe('sorted key sets', () => {
  it('orders keys as their bytes do and drops duplicates', () => {
    const mixed = [keys[3]!, keys[0]!, keys[3]!, keys[5]!];
    assert.deepEqual(hex(sortedUnique(mixed)), hex(TrackedPeers.from(mixed).primary));
    const reversed = [sorted[1]!, sorted[0]!, sorted[1]!];
    assert.deepEqual(hex(trackedPeers(reversed).primary), hex(sorted.slice(0, 2)), 'sorted once');
  });

  it('sorts and deduplicates in steps exactly as in one go, a step per chunk', () => {
    // More than five chunks of keys, in a scrambled order, with every tenth key repeated.
    const many = Array.from(
      { length: 5 * CHUNK + 300 },
      (_, i) => PrivateKey.fromSeed(BigInt(((i * 7919) % 6000) + 1)).publicKey,
    );
    for (let i = 0; i < many.length; i += 10) many.push(many[i]!);
    const steps = sortedUniqueSteps(many);
    let yields = 0;
    let r = steps.next();
    for (; r.done !== true; r = steps.next()) yields++;
    assert.deepEqual(hex(r.value), hex(sortedUnique(many)));
    assert.ok(yields >= many.length / CHUNK, `yielded ${yields} times`);
    assert.deepEqual(hex(runSteps(sortedUniqueSteps(keys))), hex(sorted), 'a small set in one go');
  });

  it('merges and subtracts sorted sets linearly', () => {
    const a = [sorted[0]!, sorted[2]!, sorted[4]!];
    const b = [sorted[1]!, sorted[2]!, sorted[5]!];
    assert.deepEqual(hex(union(a, b)), hex([0, 1, 2, 4, 5].map((i) => sorted[i]!)));
    assert.deepEqual(hex(difference(a, b)), hex([sorted[0]!, sorted[4]!]));
  });

  it('builds TrackedPeers like TrackedPeers.from, reusing an already sorted list', () => {
    const primary = sorted.slice(0, 3);
    const t = trackedPeers(primary, [sorted[5]!, sorted[1]!]);
    assert.deepEqual(t, TrackedPeers.from(primary, [sorted[5]!, sorted[1]!]));
    assert.ok(Object.isFrozen(t.primary) && Object.isFrozen(t.secondary));
  });
});

describe('PeerSetWindow', () => {
  const set = (index: number, primary: number[], secondary: number[] = []): StoredSet => ({
    index,
    peers: TrackedPeers.from(
      primary.map((i) => keys[i]!),
      secondary.map((i) => keys[i]!),
    ),
  });

  it('accepts only increasing indices and evicts the lowest beyond its capacity', () => {
    const w = new PeerSetWindow<StoredSet>(2);
    assert.ok(w.accepts(0));
    assert.deepEqual(w.push(set(3, [0])), []);
    assert.equal(w.accepts(3), false);
    assert.equal(w.accepts(2), false);
    assert.deepEqual(w.push(set(5, [1])), []);
    const evicted = w.push(set(9, [2]));
    assert.deepEqual(
      evicted.map((s) => s.index),
      [3],
    );
    assert.deepEqual(
      [...w].map((s) => s.index),
      [5, 9],
    );
    assert.equal(w.get(3), undefined);
    assert.equal(w.latest()?.index, 9);
  });

  it('lists a key primary in any set as primary in all()', () => {
    const w = new PeerSetWindow<StoredSet>(3);
    w.push(set(0, [0, 1], [2]));
    w.push(set(1, [2], [3, 1]));
    const all = w.all();
    assert.deepEqual(
      all,
      TrackedPeers.from(
        [0, 1, 2].map((i) => keys[i]!),
        [keys[3]!],
      ),
    );
  });
});
