import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey } from '../../../../../src/crypto/ed25519.js';
import { Address, parseAddress } from '../../../../../src/p2p/address.js';
import {
  type JitterRng,
  Record,
} from '../../../../../src/p2p/authenticated/lookup/tracker/record.js';

const pk = PrivateKey.fromSeed(1n).publicKey;
const addr = (s = '54.12.1.9:8080') => parseAddress(s);
/** An rng that always returns `min + offset` (clamped below max). */
const fixedRng = (offset = 0): JitterRng => ({
  int: (min, max) => Math.min(min + offset, max - 1),
});
const maxRng: JitterRng = { int: (_min, max) => max - 1 };

describe('Record', () => {
  it('starts myself as persistent, inert, ineligible and unblockable', () => {
    const r = Record.myself(pk);
    assert.equal(r.address.kind, 'myself');
    assert.equal(r.status, 'inert');
    assert.equal(r.persistent, true);
    assert.equal(r.ingress(), undefined);
    assert.equal(r.egressIp(), undefined);
    assert.equal(r.isBlockable(), false);
    assert.equal(r.deletable(), false);
    assert.equal(r.eligible(), false);
    assert.equal(r.acceptable('54.12.1.9', true), false);
    assert.equal(r.update(addr()), false, 'myself never takes an address');
  });

  it('starts a known record as inert, blockable, deletable and ineligible', () => {
    const r = Record.known(pk, addr());
    assert.equal(r.status, 'inert');
    assert.equal(r.persistent, false);
    assert.deepEqual(r.ingress(), { kind: 'socket', addr: { ip: '54.12.1.9', port: 8080 } });
    assert.equal(r.egressIp(), '54.12.1.9');
    assert.equal(r.isBlockable(), true);
    assert.equal(r.deletable(), true);
    assert.equal(r.eligible(), false);
  });

  it('counts primary and secondary memberships and refuses to go below zero', () => {
    const r = Record.known(pk, addr());
    r.incrementPrimary();
    assert.ok(r.eligible() && r.isOutboundTarget() && !r.deletable());
    r.decrementPrimary();
    assert.ok(!r.eligible() && r.deletable());
    r.incrementSecondary();
    assert.ok(r.eligible(), 'secondaries are eligible');
    assert.ok(!r.isOutboundTarget(), 'secondaries are never dialed');
    assert.ok(!r.deletable());
    r.decrementSecondary();
    assert.ok(r.deletable());
    assert.throws(() => r.decrementPrimary());
    assert.throws(() => r.decrementSecondary());
  });

  it('moves inert -> reserved -> active -> inert and refuses double reservations', () => {
    const r = Record.known(pk, addr());
    assert.equal(r.reserve(0, 0, fixedRng()), 'reserved');
    assert.equal(r.status, 'reserved');
    assert.equal(r.reserve(0, 0, fixedRng()), 'unavailable', 'cannot re-reserve when reserved');
    assert.equal(r.connect(), true);
    assert.equal(r.status, 'active');
    assert.equal(r.reserve(0, 0, fixedRng()), 'unavailable', 'cannot reserve when active');
    r.release();
    assert.equal(r.status, 'inert');
    assert.equal(r.reserve(0, 0, fixedRng()), 'reserved');
    r.release();
    assert.equal(r.status, 'inert', 'reserved may go straight back to inert');
  });

  it('throws on connect when not reserved and on release when inert', () => {
    const r = Record.known(pk, addr());
    assert.throws(() => r.connect());
    assert.throws(() => r.release());
    r.reserve(0, 0, fixedRng());
    r.connect();
    assert.throws(() => r.connect(), 'connect when active');
  });

  it('never reserves myself', () => {
    assert.equal(Record.myself(pk).reserve(0, 0, fixedRng()), 'unavailable');
  });

  it('rate-limits a reservation within the cooldown and jitters the next dial', () => {
    const r = Record.known(pk, addr());
    r.incrementPrimary();
    assert.equal(r.reserve(1000, 100, maxRng), 'reserved');
    assert.equal(r.nextReservableAt, 1100);
    assert.equal(r.nextDialAt, 1200, 'jitter reaches 2 * floor(cooldown / 2)');
    r.connect(1000);
    r.release();
    assert.equal(r.reserve(1099, 100, maxRng), 'rateLimited');
    assert.deepEqual(r.dialable(1150, true, true), { kind: 'after', at: 1200 });
    assert.equal(r.reserve(1100, 100, fixedRng()), 'reserved');
    assert.equal(r.nextDialAt, 1200, 'zero jitter: next dial at next reservable time');
  });

  it('asks the rng for a jitter in [0, 2 * floor(cooldown / 2)]', () => {
    const calls: [number, number][] = [];
    const rng: JitterRng = {
      int: (min, max) => {
        calls.push([min, max]);
        return min;
      },
    };
    const r = Record.known(pk, addr());
    r.reserve(0, 101, rng);
    r.release();
    r.reserve(1000, 0, rng);
    assert.deepEqual(calls, [
      [0, 101],
      [0, 1],
    ]);
  });

  it('is dialable only when inert, primary and with an ingress allowed by policy', () => {
    const r = Record.known(pk, addr('10.0.0.1:1'));
    assert.deepEqual(r.dialable(0, true, true), { kind: 'unavailable' }, 'not in a set');
    r.incrementSecondary();
    assert.deepEqual(r.dialable(0, true, true), { kind: 'unavailable' }, 'secondary only');
    r.incrementPrimary();
    assert.deepEqual(r.dialable(0, true, true), { kind: 'now' });
    assert.deepEqual(r.dialable(0, false, true), { kind: 'unavailable' }, 'private IP refused');
    r.reserve(0, 0, fixedRng());
    assert.deepEqual(r.dialable(0, true, true), { kind: 'unavailable' }, 'reserved');

    const dns = Record.known(pk, Address.asymmetric('example.com:1', '8.8.8.8:0'));
    dns.incrementPrimary();
    assert.deepEqual(dns.dialable(0, false, true), { kind: 'now' });
    assert.deepEqual(dns.dialable(0, false, false), { kind: 'unavailable' }, 'DNS refused');
  });

  it('accepts only an eligible peer from its egress IP unless the check is bypassed', () => {
    const r = Record.known(pk, addr('8.8.8.8:8080'));
    assert.equal(r.acceptable('8.8.8.8', false), false, 'not eligible');
    r.incrementPrimary();
    assert.equal(r.acceptable('8.8.8.8', false), true);
    assert.equal(r.acceptable('::ffff:8.8.8.8', false), true, 'IPv4-mapped source matches');
    assert.equal(r.acceptable('1.2.3.4', false), false, 'wrong IP');
    assert.equal(r.acceptable('1.2.3.4', true), true, 'bypass');
    // Whether the slot is free is the directory's rule (see directory.test.ts), not the record's.
    r.reserve(0, 0, fixedRng());
    assert.equal(r.acceptable('8.8.8.8', true), true, 'reserved: the directory decides');

    const asym = Record.known(pk, Address.asymmetric('10.0.0.1:8080', '192.168.1.1:9090'));
    asym.incrementSecondary();
    assert.equal(asym.acceptable('192.168.1.1', false), true, 'egress, not ingress, is checked');
    assert.equal(asym.acceptable('10.0.0.1', false), false);
  });

  it('accepts a named peer (no known egress IP) from any source IP, but only when eligible', () => {
    const r = Record.known(pk, addr('peer.example:3000'));
    assert.equal(r.egressIp(), undefined);
    assert.deepEqual(r.ingress(), { kind: 'dns', host: 'peer.example', port: 3000 });
    assert.equal(r.acceptable('8.8.8.8', false), false, 'not eligible');
    r.incrementSecondary();
    for (const ip of ['8.8.8.8', '10.1.2.3', '2001:db8::1', '::ffff:1.2.3.4']) {
      assert.equal(r.acceptable(ip, false), true, ip);
    }
    r.reserve(0, 0, fixedRng());
    r.release();
    // Changing to an address with an egress IP restores the check.
    assert.equal(r.update(Address.asymmetric('peer.example:3000', '8.8.8.8:0')), true);
    assert.equal(r.acceptable('8.8.8.8', false), true);
    assert.equal(r.acceptable('1.2.3.4', false), false);
    assert.equal(r.update(addr('peer.example:3000')), true, 'named again is a change');
    assert.equal(r.update(addr('peer.example:3000')), false, 'same name is no change');
  });

  it('marks a live connection stale on an address change, which blocks connect', () => {
    const r = Record.known(pk, addr('8.8.8.8:1'));
    r.incrementPrimary();
    assert.equal(r.update(addr('8.8.8.8:1')), false, 'same address is no change');
    assert.equal(r.update(addr('9.9.9.9:1')), true);
    assert.equal(r.stale, false, 'an inert record is not stale');
    assert.equal(r.needsTeardown(), false);

    r.reserve(0, 0, fixedRng());
    assert.equal(r.update(addr('7.7.7.7:1')), true);
    assert.equal(r.stale, true);
    assert.equal(r.needsTeardown(), true);
    assert.equal(r.connect(), false, 'stale reservation cannot connect');
    assert.equal(r.status, 'reserved');
    r.release();
    assert.equal(r.stale, false, 'release clears the flag');
    assert.equal(r.reserve(0, 0, fixedRng()), 'reserved');
    assert.equal(r.connect(), true);
    r.update(addr('6.6.6.6:1'));
    assert.equal(r.needsTeardown(), true, 'active connection to an old address');
  });

  it('needs teardown when reserved or active but no longer eligible', () => {
    const r = Record.known(pk, addr());
    r.incrementPrimary();
    r.reserve(0, 0, fixedRng());
    assert.equal(r.needsTeardown(), false);
    r.decrementPrimary();
    assert.equal(r.needsTeardown(), true);
    assert.equal(r.deletable(), false, 'still reserved');
    r.release();
    assert.equal(r.needsTeardown(), false);
    assert.equal(r.deletable(), true);
  });
});
