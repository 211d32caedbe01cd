import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey } from '../../../../src/crypto/ed25519.js';
import { Metadata } from '../../../../src/p2p/authenticated/tracker/metadata.js';
import { Reservation } from '../../../../src/p2p/authenticated/tracker/reservation.js';

describe('Reservation', () => {
  it('calls the releaser exactly once with its metadata', () => {
    const pk = PrivateKey.fromSeed(1n).publicKey;
    const released: Metadata[] = [];
    const r = new Reservation(Metadata.dialer(pk), (m) => released.push(m));
    assert.equal(r.released, false);
    assert.ok(r.publicKey.equals(pk));
    r.release();
    r.release();
    assert.equal(released.length, 1);
    assert.deepEqual(released[0], { kind: 'dialer', publicKey: pk });
    assert.equal(r.released, true);
  });

  it('counts as released even if the releaser throws', () => {
    const pk = PrivateKey.fromSeed(2n).publicKey;
    let calls = 0;
    const r = new Reservation(Metadata.listener(pk), () => {
      calls += 1;
      throw new Error('mailbox closed');
    });
    assert.throws(() => r.release());
    r.release();
    assert.equal(calls, 1);
    assert.equal(r.metadata.kind, 'listener');
  });
});
