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

describe('Metadata.withGeneration', () => {
  it('stamps the generation, keeps every field, and takes the given key object', () => {
    const pk = PrivateKey.fromSeed(3n).publicKey;
    const other = PrivateKey.fromSeed(3n).publicKey;
    assert.notEqual(pk, other);
    const ingress = { kind: 'socket', addr: { ip: '1.2.3.4', port: 5 } } as const;
    assert.deepEqual(Metadata.withGeneration(Metadata.listener(pk), 2), {
      kind: 'listener',
      publicKey: pk,
      generation: 2,
    });
    assert.deepEqual(Metadata.withGeneration(Metadata.dialer(pk), 3), {
      kind: 'dialer',
      publicKey: pk,
      generation: 3,
    });
    const m = Metadata.withGeneration(Metadata.dialer(pk, ingress), 4, other);
    assert.deepEqual(m, { kind: 'dialer', publicKey: other, ingress, generation: 4 });
    assert.equal(m.publicKey, other);
  });
});
