import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey } from '../../src/crypto/ed25519.js';
import { formatAddress } from '../../src/p2p/address.js';
import { P2PError } from '../../src/p2p/errors.js';
import { toAddress } from '../../src/p2p/registered-address.js';
import {
  AddressableTrackedPeers,
  checkPeerSetIndex,
  Recipients,
  TrackedPeers,
} from '../../src/p2p/types.js';

const pk = (n: bigint) => PrivateKey.fromSeed(n).publicKey;
const hexes = (keys: readonly { toHex(): string }[]) => keys.map((k) => k.toHex());
const sortedHex = (keys: bigint[]) => keys.map((k) => pk(k).toHex()).sort();

describe('Recipients', () => {
  it('builds the three discriminated variants', () => {
    assert.deepEqual(Recipients.all(), { kind: 'all' });
    const one = Recipients.one(pk(1n));
    assert.equal(one.kind, 'one');
    assert.ok(one.kind === 'one' && one.publicKey.equals(pk(1n)));
    const list = [pk(1n), pk(2n)];
    const some = Recipients.some(list);
    list.push(pk(3n));
    assert.ok(some.kind === 'some' && some.publicKeys.length === 2, 'copies the list');
    assert.ok(Object.isFrozen(some));
  });
});

describe('TrackedPeers', () => {
  it('sorts by key bytes, deduplicates, and keeps an overlap as primary only', () => {
    const t = TrackedPeers.from([pk(3n), pk(1n), pk(3n)], [pk(2n), pk(1n), pk(2n)]);
    assert.deepEqual(hexes(t.primary), sortedHex([1n, 3n]));
    assert.deepEqual(hexes(t.secondary), [pk(2n).toHex()]);
    assert.deepEqual(hexes(TrackedPeers.union(t)), sortedHex([1n, 2n, 3n]));
    assert.deepEqual(TrackedPeers.empty(), { primary: [], secondary: [] });
  });
});

describe('AddressableTrackedPeers', () => {
  it('treats a bare list as primary-only and parses addresses', () => {
    const a = AddressableTrackedPeers.from([
      [pk(2n), '127.0.0.1:2'],
      [pk(1n), '127.0.0.1:1'],
    ]);
    assert.deepEqual(
      a.primary.map((k) => k.toHex()),
      sortedHex([1n, 2n]),
    );
    assert.equal(a.secondary.length, 0);
    const at = a.primary.findIndex((k) => k.equals(pk(1n)));
    assert.equal(toAddress(a.primaryAddresses[at]!).kind, 'symmetric');
    assert.equal(formatAddress(toAddress(a.primaryAddresses[at]!)), '127.0.0.1:1');
  });

  it('drops a secondary that is also primary, keeping the primary address', () => {
    const a = AddressableTrackedPeers.from({
      primary: [[pk(1n), '8.8.8.8:1']],
      secondary: [
        [pk(1n), '9.9.9.9:1'],
        [pk(2n), '9.9.9.9:2'],
      ],
    });
    assert.equal(a.primary.length, 1);
    assert.equal(formatAddress(toAddress(a.primaryAddresses[0]!)), '8.8.8.8:1');
    assert.deepEqual(
      a.secondary.map((k) => k.toHex()),
      [pk(2n).toHex()],
    );
    assert.equal(formatAddress(toAddress(a.secondaryAddresses[0]!)), '9.9.9.9:2');
  });

  it('rejects a key repeated within one role', () => {
    assert.throws(
      () =>
        AddressableTrackedPeers.from([
          [pk(1n), '127.0.0.1:1'],
          [pk(1n), '127.0.0.1:2'],
        ]),
      (e) => e instanceof P2PError && e.code === 'InvalidPeerSet',
    );
  });

  it('rejects an invalid address', () => {
    assert.throws(
      () => AddressableTrackedPeers.from([[pk(1n), 'nope']]),
      (e) => e instanceof P2PError && e.code === 'InvalidAddress',
    );
  });
});

describe('checkPeerSetIndex', () => {
  it('accepts non-negative safe integers only', () => {
    assert.equal(checkPeerSetIndex(0), 0);
    assert.equal(checkPeerSetIndex(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Infinity]) {
      assert.throws(
        () => checkPeerSetIndex(bad),
        (e) => e instanceof P2PError && e.code === 'InvalidPeerSet',
      );
    }
  });
});
