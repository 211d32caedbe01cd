import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey, type PublicKey } from '../../../../src/crypto/ed25519.js';
import { RecordBase } from '../../../../src/p2p/authenticated/tracker/record.js';
import { RecordTable } from '../../../../src/p2p/authenticated/tracker/record-table.js';

const pk = (n: number): PublicKey => PrivateKey.fromSeed(BigInt(n)).publicKey;
const [A, B, C] = [pk(1), pk(2), pk(3)] as const;

/** A minimal record; `made` counts materialisations. */
class Rec extends RecordBase {
  static made = 0;
  constructor(key: PublicKey) {
    super(key);
    Rec.made++;
  }
  isMyself(): boolean {
    return false;
  }
  get persistent(): boolean {
    return false;
  }
}

const table = () =>
  new RecordTable<Rec, PublicKey>({ keyOf: (k) => k, materialize: (k) => new Rec(k) });
const counts = (r: Rec | undefined) => [r?.primarySets, r?.secondarySets];

describe('RecordTable', () => {
  it('scan(skip) passes over the bare entries it is told to, without making their records', () => {
    const t = table();
    t.addBare(A, 'primary');
    t.set(new Rec(B));
    t.addBare(C, 'primary');
    const before = Rec.made;
    const asked: string[] = [];
    const seen = [
      ...t.scan((bare) => {
        asked.push(bare.toHex());
        return bare === A;
      }),
    ].map((r) => r?.key.toHex());
    // A skipped (undefined, no record made), B a record, C a view (one made, not stored).
    assert.deepEqual(seen, [undefined, B.toHex(), C.toHex()]);
    assert.deepEqual(asked, [A.toHex(), C.toHex()]);
    assert.equal(Rec.made, before + 1);
    assert.ok(!t.isRecord(t.peek(A)!));
    assert.ok(!t.isRecord(t.peek(C)!));
  });

  it('a bare entry holds no record until get, which makes one with its counts, in place', () => {
    const t = table();
    t.addBare(A, 'primary');
    t.set(new Rec(B));
    t.addBare(C, 'secondary');
    assert.equal(t.size, 3);
    assert.ok(!t.isRecord(t.peek(A)!));
    assert.ok(t.isRecord(t.peek(B)!));
    const before = Rec.made;
    const a = t.get(A)!;
    assert.equal(Rec.made, before + 1);
    assert.deepEqual(counts(a), [1, 0]);
    // Stored: the same record next time, and still first in order.
    assert.equal(t.get(A), a);
    assert.ok(t.isRecord(t.peek(A)!));
    assert.deepEqual(counts(t.get(C)), [0, 1]);
    assert.deepEqual(
      [...t.values()].map((r) => r.key.toHex()),
      [A, B, C].map((k) => k.toHex()),
    );
    assert.equal(t.get(pk(4)), undefined);
  });

  it('counts a bare entry up and down in both roles, deleting it at no membership', () => {
    const t = table();
    t.addBare(A, 'primary');
    assert.equal(t.countBare(A, 'primary', 1), false);
    assert.equal(t.countBare(A, 'secondary', 1), false);
    assert.deepEqual(counts([...t.values()][0]), [2, 1]);
    assert.equal(t.countBare(A, 'primary', -1), false);
    assert.equal(t.countBare(A, 'primary', -1), false);
    assert.deepEqual(counts([...t.values()][0]), [0, 1]);
    assert.throws(() => t.countBare(A, 'primary', -1), /below zero/);
    assert.equal(t.countBare(A, 'secondary', -1), true);
    assert.equal(t.size, 0);
    assert.equal(t.has(A), false);
    // A new entry for the key starts afresh (no counts left behind).
    t.addBare(A, 'primary');
    assert.deepEqual(counts(t.get(A)), [1, 0]);
  });

  it('values() shows bare entries as records it does not store', () => {
    const t = table();
    t.addBare(A, 'primary');
    t.countBare(A, 'primary', 1);
    const [view] = [...t.values()];
    assert.deepEqual(counts(view), [2, 0]);
    assert.ok(!t.isRecord(t.peek(A)!));
    const stored = t.get(A)!;
    assert.notEqual(stored, view);
    assert.deepEqual(counts(stored), [2, 0]);
  });

  it("replaceBare keeps counts and position; set and delete drop a bare entry's counts", () => {
    const pairs = new RecordTable<Rec, readonly [PublicKey, string]>({
      keyOf: (p) => p[0],
      materialize: (p) => new Rec(p[0]),
    });
    pairs.addBare([A, 'x'], 'secondary');
    pairs.addBare([B, 'y'], 'primary');
    pairs.replaceBare([A, 'z']);
    assert.deepEqual(pairs.peek(A), [A, 'z']);
    assert.deepEqual(
      [...pairs.values()].map((r) => [r.key.toHex(), r.primarySets, r.secondarySets]),
      [
        [A.toHex(), 0, 1],
        [B.toHex(), 1, 0],
      ],
    );
    pairs.delete(A);
    pairs.addBare([A, 'w'], 'primary');
    assert.deepEqual(counts(pairs.get(A)), [1, 0]);
    const t = table();
    t.addBare(C, 'secondary');
    t.set(new Rec(C));
    assert.deepEqual(counts(t.get(C)), [0, 0]);
  });

  it('mayGrowNext flags the sizes where the hash table doubles', () => {
    const t = table();
    assert.equal(t.mayGrowNext(), false);
    for (let i = 0; i < 1024; i++) t.set(new Rec(pk(100 + i)));
    assert.equal(t.mayGrowNext(), true);
    t.set(new Rec(pk(99)));
    assert.equal(t.mayGrowNext(), false);
  });
});
