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

  it('mayGrowFor flags the sizes where the shard of the key doubles its hash table', () => {
    // Keys by their first hex digit, which picks the shard.
    const byDigit = new Map<string, PublicKey[]>();
    for (let i = 100; (byDigit.get('7')?.length ?? 0) < 1025 || !byDigit.has('c'); i++) {
      const key = pk(i);
      const d = key.toHex()[0]!;
      byDigit.set(d, [...(byDigit.get(d) ?? []), key]);
    }
    const sevens = byDigit.get('7')!;
    const other = byDigit.get('c')![0]!;
    const t = table();
    assert.equal(t.mayGrowFor(sevens[0]!), false);
    for (const key of sevens.slice(0, 1024)) t.set(new Rec(key));
    assert.equal(t.size, 1024);
    // Shard 7 holds 1024 entries: its next one may grow it; shard c is empty.
    assert.equal(t.mayGrowFor(sevens[1024]!), true);
    assert.equal(t.mayGrowFor(other), false);
    t.set(new Rec(sevens[1024]!));
    assert.equal(t.mayGrowFor(sevens[0]!), false);
  });

  it('orders entries shard by shard (first hex digit), first inserted first within a shard', () => {
    const keys = Array.from({ length: 64 }, (_, i) => pk(500 + i));
    const t = table();
    keys.forEach((key, i) => {
      if (i % 3 === 0) t.set(new Rec(key));
      else t.addBare(key, i % 3 === 1 ? 'primary' : 'secondary');
    });
    assert.equal(t.size, 64);
    const digit = (k: PublicKey) => parseInt(k.toHex()[0]!, 16);
    // A stable sort by digit keeps the insertion order within a digit.
    const expected = [...keys].sort((a, b) => digit(a) - digit(b)).map((k) => k.toHex());
    assert.deepEqual(
      [...t.values()].map((r) => r.key.toHex()),
      expected,
    );
    assert.deepEqual(
      [...t.scan(() => false)].map((r) => r?.key.toHex()),
      expected,
    );
    // Materializing and deleting keep everyone else in place; the size follows.
    t.get(keys[1]!);
    t.delete(keys[4]!);
    assert.equal(t.delete(keys[4]!), false);
    assert.equal(t.size, 63);
    assert.deepEqual(
      [...t.values()].map((r) => r.key.toHex()),
      expected.filter((h) => h !== keys[4]!.toHex()),
    );
    // A secondary bare entry's counts live in its shard: seen in its view and its record.
    assert.deepEqual(counts([...t.values()].find((r) => r.key.equals(keys[2]!))), [0, 1]);
    assert.deepEqual(counts(t.get(keys[2]!)), [0, 1]);
    assert.equal(t.countBare(keys[5]!, 'secondary', -1), true);
    assert.equal(t.has(keys[5]!), false);
    assert.equal(t.size, 62);
  });
});
