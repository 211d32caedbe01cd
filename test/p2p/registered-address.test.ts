import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Address,
  addressEquals,
  egressIp,
  formatIngress,
  ingressOf,
  isDialable,
  parseAddress,
} from '../../src/p2p/address.js';
import { canonicalSocketText, fastSocketAddr } from '../../src/p2p/address-literal.js';
import { P2PError } from '../../src/p2p/errors.js';
import {
  formatRegisteredIngress,
  isRegisteredDialable,
  registeredAddress,
  registeredEgressIp,
  registeredIngress,
  sameAddress,
  toAddress,
} from '../../src/p2p/registered-address.js';

const isInvalidAddress = (e: unknown) => e instanceof P2PError && e.code === 'InvalidAddress';

/** `parseAddress(input)`, or the error's code. */
function parsed(input: string): Address | string {
  try {
    return parseAddress(input);
  } catch (e) {
    return e instanceof P2PError ? e.code : String(e);
  }
}

// Texts near the grammar's edges: valid and canonical, valid but not canonical, invalid.
const hexGroup = fc.oneof(
  fc.constant('0'),
  fc.nat(0xffff).map((x) => x.toString(16)),
);
const v6 = fc.oneof(
  fc.array(hexGroup, { minLength: 8, maxLength: 8 }).map((g) => g.join(':')),
  fc
    .tuple(fc.array(hexGroup, { maxLength: 3 }), fc.array(hexGroup, { maxLength: 3 }))
    .map(([a, b]) => `${a.join(':')}::${b.join(':')}`),
  fc.constantFrom('::', '::1', '::ffff:1.2.3.4', '2001:DB8::1', '2001:db8:0:0:1::1', 'fe80::1%1'),
);
const octet = fc.oneof(fc.nat(255).map(String), fc.constantFrom('01', '00', '256', ''));
const v4 = fc.array(octet, { minLength: 3, maxLength: 5 }).map((o) => o.join('.'));
const portText = fc.oneof(
  fc.nat(65535).map(String),
  fc.constantFrom('0', '00', '01', '65536', '99999', '', '-1', '1 '),
);
const hostText = fc.constantFrom(
  'node.example.com',
  'Node.Example.COM',
  'a',
  'a-b.c',
  '-a.com',
  'a..b',
  '1.2.3',
  'x_y',
);
const addressText = fc.oneof(
  fc.tuple(v4, portText).map(([h, p]) => `${h}:${p}`),
  fc.tuple(v6, portText).map(([h, p]) => `[${h}]:${p}`),
  fc.tuple(v6, portText).map(([h, p]) => `${h}:${p}`),
  fc.tuple(hostText, portText).map(([h, p]) => `${h}:${p}`),
  fc.string({ maxLength: 24 }),
);

describe('registeredAddress', () => {
  it('accepts exactly what parseAddress accepts, and means the same address', () => {
    fc.assert(
      fc.property(addressText, (text) => {
        const expected = parsed(text);
        let got: Address | string;
        try {
          got = toAddress(registeredAddress(text));
        } catch (e) {
          got = e instanceof P2PError ? e.code : String(e);
        }
        if (typeof expected === 'string') assert.equal(got, expected, text);
        else assert.ok(typeof got !== 'string' && addressEquals(got, expected), text);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps a canonical text as the same string and parses any other form', () => {
    for (const text of ['10.0.0.1:3000', '[2001:db8::1]:3000', 'node.example.com:3000']) {
      assert.equal(registeredAddress(text), text);
    }
    // Valid but not canonical: kept parsed (canonicalised).
    const upper = registeredAddress('[2001:DB8::1]:3000');
    assert.equal(typeof upper, 'object');
    assert.equal(egressIp(toAddress(upper)), '2001:db8::1');
    const mapped = registeredAddress('[::ffff:1.2.3.4]:1');
    assert.equal(typeof mapped, 'object');
    // Objects are parsed, as before.
    const object = registeredAddress({ ip: '10.0.0.1', port: 3000 });
    assert.deepEqual(object, Address.symmetric('10.0.0.1:3000'));
  });

  it('throws InvalidAddress at once for a bad address', () => {
    for (const bad of ['nope', '10.0.0.01:1', '10.0.0.1:01', '10.0.0.1:65536', '[::1]', '::1:1']) {
      assert.throws(() => registeredAddress(bad), isInvalidAddress, bad);
    }
    assert.throws(() => registeredAddress(42 as unknown as string), isInvalidAddress);
  });
});

describe('canonicalSocketText', () => {
  it('finds the IP of exactly the texts the fast paths parse, allocating nothing', () => {
    fc.assert(
      fc.property(addressText, (text) => {
        const fast = fastSocketAddr(text);
        const end = canonicalSocketText(text);
        assert.equal(end >= 0, fast !== undefined, text);
        if (fast === undefined) return;
        const ip = text.startsWith('[') ? text.slice(1, end) : text.slice(0, end);
        assert.equal(ip, fast.ip, text);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('sameAddress', () => {
  it('texts and objects of one address are the same address', () => {
    const forms = [
      registeredAddress('[2001:db8::1]:443'),
      registeredAddress('[2001:DB8::1]:443'),
      registeredAddress('[2001:db8:0:0:0:0:0:1]:443'),
      registeredAddress({ ip: '2001:DB8::1', port: 443 }),
      Address.symmetric('[2001:db8::1]:443'),
    ];
    for (const a of forms) for (const b of forms) assert.ok(sameAddress(a, b));
    assert.ok(sameAddress('10.0.0.1:1', Address.symmetric({ ip: '10.0.0.1', port: 1 })));
    assert.ok(sameAddress('n.example:1', Address.named('n.example:1')));
  });

  it('different addresses differ, whatever their forms', () => {
    assert.equal(sameAddress('10.0.0.1:1', '10.0.0.1:2'), false);
    assert.equal(sameAddress('10.0.0.1:1', Address.symmetric('10.0.0.2:1')), false);
    assert.equal(sameAddress('[2001:db8::1]:1', registeredAddress('[2001:DB8::2]:1')), false);
    // Hostnames compare exactly, as upstream.
    assert.equal(sameAddress('n.example:1', 'N.example:1'), false);
    // A symmetric address is not an asymmetric one with the same ingress and egress.
    assert.equal(sameAddress('10.0.0.1:1', Address.asymmetric('10.0.0.1:1', '10.0.0.1:1')), false);
  });
});

describe('registered accessors', () => {
  it('agree with the Address accessors for every form', () => {
    const inputs = [
      '10.0.0.1:3000',
      '8.8.8.8:1',
      '[2001:db8::1]:3000',
      '[2606:4700::1]:3000',
      '[2001:DB8::1]:3000',
      'node.example.com:3000',
      Address.asymmetric('node.example.com:1', '8.8.4.4:0'),
      Address.asymmetric('10.0.0.1:1', '10.0.0.2:0'),
    ];
    for (const input of inputs) {
      const r = registeredAddress(input);
      const a = parseAddress(input);
      const label = String(formatIngress(ingressOf(a)));
      assert.equal(registeredEgressIp(r), egressIp(a), label);
      assert.deepEqual(registeredIngress(r), ingressOf(a), label);
      assert.equal(formatRegisteredIngress(r), formatIngress(ingressOf(a)), label);
      for (const priv of [false, true]) {
        for (const dns of [false, true]) {
          assert.equal(isRegisteredDialable(r, priv, dns), isDialable(a, priv, dns), label);
        }
      }
    }
  });
});
