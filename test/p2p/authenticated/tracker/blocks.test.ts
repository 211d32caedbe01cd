import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey, type PublicKey } from '../../../../src/crypto/ed25519.js';
import { BlockList } from '../../../../src/p2p/authenticated/tracker/blocks.js';
import type { Gauge, Labels } from '../../../../src/runtime/context.js';

const pk = (n: bigint): PublicKey => PrivateKey.fromSeed(n).publicKey;

class FakeGauge implements Gauge {
  readonly values = new Map<string, number>();
  set(labels: Labels | undefined, value: number): void {
    this.values.set(JSON.stringify(labels ?? {}), value);
  }
  inc(): void {}
  dec(): void {}
  get(labels?: Labels): number {
    return this.values.get(JSON.stringify(labels ?? {})) ?? 0;
  }
  remove(labels: Labels): void {
    this.values.delete(JSON.stringify(labels));
  }
}

describe('BlockList', () => {
  it('blocks until the expiry, inclusive, and exposes the expiry in the gauge', () => {
    const gauge = new FakeGauge();
    const blocks = new BlockList(100, gauge);
    assert.ok(blocks.block(pk(1n), 10));
    assert.equal(blocks.blockedUntil(pk(1n), 10), 110);
    assert.equal(gauge.get({ peer: pk(1n).toHex() }), 110);
    assert.ok(blocks.isBlocked(pk(1n), 109));
    assert.equal(blocks.isBlocked(pk(1n), 110), false, 'expired at its deadline');
    assert.deepEqual(blocks.unblockExpired(109), []);
    assert.equal(blocks.unblockExpired(110).length, 1);
    assert.equal(gauge.values.size, 0, 'gauge removed on sweep');
  });

  it('does not extend an unexpired block and replaces an expired, unswept one', () => {
    const blocks = new BlockList(100, new FakeGauge());
    assert.ok(blocks.block(pk(1n), 0));
    assert.equal(blocks.block(pk(1n), 50), false);
    assert.equal(blocks.nextUnblockAt(), 100);
    assert.ok(blocks.block(pk(1n), 200), 'the old entry has expired');
    assert.equal(blocks.size, 1);
    assert.equal(blocks.nextUnblockAt(), 300);
  });

  it('sweeps in expiry order, ties broken by key', () => {
    const blocks = new BlockList(10, new FakeGauge());
    blocks.block(pk(3n), 5);
    blocks.block(pk(2n), 0);
    blocks.block(pk(1n), 5);
    const swept = blocks.unblockExpired(100).map((k) => k.toHex());
    const tied = [pk(1n), pk(3n)].map((k) => k.toHex()).sort();
    assert.deepEqual(swept, [pk(2n).toHex(), ...tied]);
    assert.equal(blocks.nextUnblockAt(), undefined);
  });
});
