import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { P2PError } from '../../src/p2p/errors.js';
import { isGlobal, sameIp, subnetKey, unmappedIp } from '../../src/p2p/net.js';

describe('isGlobal', () => {
  const table: [string, boolean][] = [
    // IPv4 global
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['123.45.67.89', true],
    ['54.12.1.9', true],
    ['172.15.255.255', true],
    ['172.32.0.0', true],
    ['100.63.255.255', true],
    ['100.128.0.0', true],
    ['198.17.255.255', true],
    ['198.20.0.0', true],
    ['239.255.255.255', true],
    // 192.0.0.0/24 exceptions
    ['192.0.0.9', true],
    ['192.0.0.10', true],
    // IPv4 not global
    ['0.0.0.0', false],
    ['0.1.2.3', false],
    ['10.0.0.1', false],
    ['172.16.0.1', false],
    ['172.31.255.254', false],
    ['192.168.1.1', false],
    ['100.64.0.1', false],
    ['100.127.255.254', false],
    ['127.0.0.1', false],
    ['127.255.255.254', false],
    ['169.254.0.1', false],
    ['169.254.255.254', false],
    ['192.0.0.1', false],
    ['192.0.0.8', false],
    ['192.0.0.11', false],
    ['192.0.0.254', false],
    ['192.0.2.1', false],
    ['198.51.100.1', false],
    ['203.0.113.1', false],
    ['198.18.0.1', false],
    ['198.19.255.254', false],
    ['240.0.0.1', false],
    ['254.255.255.254', false],
    ['255.255.255.255', false],
    // IPv6 global
    ['2001:4860:4860::8888', true],
    ['2606:4700:4700::1111', true],
    ['2005:1db8:85a3::8a2e:370:7334', true],
    ['2001:1::1', true],
    ['2001:1::2', true],
    ['2001:3::1', true],
    ['2001:4:112::1', true],
    ['2001:20::1', true],
    ['2001:30::1', true],
    ['2001:3f::1', true],
    ['2001:200::1', true],
    ['ff00::1', true],
    ['2003::1', true],
    // IPv6 not global
    ['::', false],
    ['::1', false],
    ['::ffff:192.0.2.128', false],
    ['::ffff:8.8.8.8', false],
    ['64:ff9b:1::1', false],
    ['100::1', false],
    ['2001::1', false],
    ['2001:1::3', false],
    ['2001:4:113::1', false],
    ['2001:40::1', false],
    ['2002::1', false],
    ['2001:db8::1', false],
    ['fc00::1', false],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false],
    ['fe80::1', false],
    ['febf::1', false],
  ];
  for (const [ip, expected] of table) {
    it(`classifies ${ip} as ${expected ? 'global' : 'not global'}`, () => {
      assert.equal(isGlobal(ip), expected);
    });
  }

  it('rejects a non-literal with InvalidAddress', () => {
    for (const bad of ['example.com', '1.2.3', '01.2.3.4', '', '::g']) {
      assert.throws(
        () => isGlobal(bad),
        (e) => e instanceof P2PError && e.code === 'InvalidAddress',
      );
    }
  });
});

describe('subnetKey', () => {
  const table: [string, string][] = [
    ['192.168.1.123', '192.168.1.0/24'],
    ['192.168.1.0', '192.168.1.0/24'],
    ['8.8.8.8', '8.8.8.0/24'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1::/48'],
    ['2001:db8:1:ffff::1', '2001:db8:1::/48'],
    ['::1', '::/48'],
    ['::ffff:10.1.2.3', '10.1.2.0/24'],
  ];
  for (const [ip, key] of table) {
    it(`keys ${ip} as ${key}`, () => assert.equal(subnetKey(ip), key));
  }

  it('puts addresses of one /24 together and neighbouring /24s apart', () => {
    assert.equal(subnetKey('10.0.0.1'), subnetKey('10.0.0.254'));
    assert.notEqual(subnetKey('10.0.0.1'), subnetKey('10.0.1.1'));
  });

  it('puts addresses of one /48 together and neighbouring /48s apart', () => {
    assert.equal(subnetKey('2001:db8:aa::1'), subnetKey('2001:db8:aa:ffff:ffff::9'));
    assert.notEqual(subnetKey('2001:db8:aa::1'), subnetKey('2001:db8:ab::1'));
  });

  it('keys an IPv4-mapped IPv6 address with its IPv4 form', () => {
    assert.equal(subnetKey('::ffff:203.0.113.9'), subnetKey('203.0.113.200'));
  });
});

describe('sameIp', () => {
  it('compares canonical forms and unmaps IPv4-mapped IPv6', () => {
    assert.equal(sameIp('2001:DB8::1', '2001:db8:0:0::1'), true);
    assert.equal(sameIp('::ffff:1.2.3.4', '1.2.3.4'), true);
    assert.equal(sameIp('1.2.3.4', '1.2.3.5'), false);
    assert.equal(sameIp('not-an-ip', 'not-an-ip'), false);
    assert.equal(unmappedIp('::ffff:7f00:1'), '127.0.0.1');
  });
});
