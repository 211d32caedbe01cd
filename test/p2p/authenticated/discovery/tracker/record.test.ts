import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey } from '../../../../../src/crypto/ed25519.js';
import { type Ingress, parseIngress } from '../../../../../src/p2p/address.js';
import type { InfoLike } from '../../../../../src/p2p/authenticated/discovery/tracker/info.js';
import { Record } from '../../../../../src/p2p/authenticated/discovery/tracker/record.js';

const pk = PrivateKey.fromSeed(1n).publicKey;
const ing = (s: string): Ingress => parseIngress(s);
const info = (ingress: string, timestampMs: number): InfoLike => ({
  ingress: ing(ingress),
  timestampMs,
  publicKey: pk,
  signature: new Uint8Array(64),
});
const rng = { int: (min: number) => min };
const LIMIT = 2;

describe('discovery Record', () => {
  it('starts unknown: wanted, not dialable, not sharable, deletable', () => {
    const r = Record.unknown(pk);
    assert.equal(r.address.kind, 'unknown');
    assert.equal(r.want(LIMIT), true);
    assert.equal(r.ingress(LIMIT), undefined);
    assert.equal(r.sharable(), undefined);
    assert.ok(r.deletable());
    r.incrementPrimary();
    assert.deepEqual(r.dialable(0, true, true, LIMIT), { kind: 'unavailable' }, 'no ingress yet');
  });

  it('keeps myself persistent, never eligible, never updated, always sharable', () => {
    const mine = info('8.8.8.8:1', 5);
    const r = Record.myself(mine);
    assert.ok(r.persistent && !r.eligible() && !r.isBlockable() && !r.isOutboundTarget());
    assert.equal(r.want(LIMIT), false);
    assert.equal(r.sharable(), mine);
    assert.equal(r.update(info('9.9.9.9:1', 99)), false);
    assert.equal(r.reserve(0, 0, rng), 'unavailable');
  });

  it('makes a bootstrapper persistent, eligible and dialable at once, and wanted', () => {
    const r = Record.bootstrapper(pk, ing('8.8.8.8:1'));
    assert.ok(r.persistent && r.eligible() && r.isOutboundTarget() && r.acceptable());
    assert.deepEqual(r.dialable(0, false, false, LIMIT), { kind: 'now' });
    assert.equal(r.want(LIMIT), true);
    assert.equal(r.sharable(), undefined, 'a configured address is not a signed Info');
    assert.equal(r.deletable(), false);
  });

  it('takes a first Info, then only strictly newer ones (a replayed older Info changes nothing)', () => {
    const r = Record.unknown(pk);
    assert.ok(r.update(info('8.8.8.8:1', 10)));
    assert.equal(r.info?.timestampMs, 10);
    assert.equal(r.update(info('9.9.9.9:1', 9)), false, 'older');
    assert.equal(r.update(info('9.9.9.9:1', 10)), false, 'same age');
    assert.deepEqual(r.ingress(LIMIT), ing('8.8.8.8:1'));
    assert.ok(r.update(info('9.9.9.9:1', 11)));
    assert.deepEqual(r.ingress(LIMIT), ing('9.9.9.9:1'));
  });

  it('counts dial failures of the held ingress only; a newer Info or a dial success resets them', () => {
    const r = Record.unknown(pk);
    r.incrementPrimary();
    r.update(info('8.8.8.8:1', 10));
    assert.equal(r.want(LIMIT), false, 'fresh info');
    r.dialFailure(ing('7.7.7.7:1'));
    assert.equal(r.address.kind === 'discovered' && r.address.failures, 0, 'another address');
    r.dialFailure(ing('8.8.8.8:1'));
    r.dialFailure(ing('8.8.8.8:1'));
    assert.equal(r.want(LIMIT), true, 'failed enough: ask for fresher info');
    r.dialSuccess();
    assert.equal(r.want(LIMIT), false);
    r.dialFailure(ing('8.8.8.8:1'));
    r.dialFailure(ing('8.8.8.8:1'));
    assert.ok(r.update(info('9.9.9.9:1', 11)));
    assert.equal(r.want(LIMIT), false, 'newer info resets the count');
  });

  it('shares a discovered Info only while connected, and never wants it while connected', () => {
    const r = Record.unknown(pk);
    r.incrementPrimary();
    r.update(info('8.8.8.8:1', 10));
    assert.equal(r.sharable(), undefined, 'inert');
    assert.equal(r.reserve(0, 100, rng), 'reserved');
    assert.equal(r.sharable(), undefined, 'reserved');
    r.connect();
    r.dialFailure(ing('8.8.8.8:1'));
    r.dialFailure(ing('8.8.8.8:1'));
    assert.equal(r.sharable()?.timestampMs, 10, 'active');
    assert.equal(r.want(LIMIT), false, 'connected: the address works');
    r.release();
    assert.equal(r.sharable(), undefined);
    assert.equal(r.want(LIMIT), true);
  });

  it('dials a bootstrapper at its configured ingress once a learned one failed dialFailLimit times', () => {
    const r = Record.bootstrapper(pk, ing('8.8.8.8:1'));
    // An attacker replays an old, validly signed Info of the bootstrapper.
    assert.ok(r.update(info('6.6.6.6:1', 1)));
    assert.deepEqual(r.ingress(LIMIT), ing('6.6.6.6:1'));
    r.dialFailure(ing('6.6.6.6:1'));
    assert.deepEqual(r.ingress(LIMIT), ing('6.6.6.6:1'), 'one failure is not enough');
    r.dialFailure(ing('6.6.6.6:1'));
    assert.deepEqual(r.ingress(LIMIT), ing('8.8.8.8:1'), 'fallback to the configured ingress');
    r.dialFailure(ing('8.8.8.8:1'));
    assert.deepEqual(r.ingress(LIMIT), ing('8.8.8.8:1'), 'a failed fallback is not counted');
    assert.ok(r.update(info('5.5.5.5:1', 2)), 'the real, newer Info replaces the replay');
    assert.deepEqual(r.ingress(LIMIT), ing('5.5.5.5:1'));
    assert.equal(r.persistent, true);
    // The configured ingress survives every later Info, failure and success.
    r.dialFailure(ing('5.5.5.5:1'));
    r.dialSuccess();
    r.dialFailure(ing('5.5.5.5:1'));
    r.dialFailure(ing('5.5.5.5:1'));
    assert.deepEqual(r.ingress(LIMIT), ing('8.8.8.8:1'));
    assert.deepEqual(r.bootstrap, ing('8.8.8.8:1'));
    assert.equal(r.persistent, true);
    const plain = Record.unknown(pk);
    assert.ok(plain.update(info('5.5.5.5:1', 2)));
    assert.equal(plain.bootstrap, undefined);
    assert.equal(plain.persistent, false);
  });
});
