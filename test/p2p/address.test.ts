import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CodecError, canonicalIp, decode, encode } from '../../src/codec/index.js';
import {
  Address,
  addressCodec,
  addressEquals,
  egressIp,
  egressOf,
  formatAddress,
  formatIngress,
  formatSocketAddr,
  Ingress,
  ingressCodec,
  ingressOf,
  isValidIngress,
  parseAddress,
  parseIngress,
  parseSocketAddr,
} from '../../src/p2p/address.js';
import { P2PError } from '../../src/p2p/errors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const isInvalidAddress = (e: unknown) => e instanceof P2PError && e.code === 'InvalidAddress';

describe('Ingress and Address wire format', () => {
  it('encodes 127.0.0.1:8080 as 00 04 7f 00 00 01 1f 90', () => {
    const ingress = parseIngress('127.0.0.1:8080');
    assert.equal(hex(encode(ingressCodec, ingress)), '00047f0000011f90');
    assert.equal(hex(encode(addressCodec, parseAddress('127.0.0.1:8080'))), '00047f0000011f90');
  });

  it('encodes example.com:443 as 01 0b "example.com" 01 bb', () => {
    const ingress = parseIngress('example.com:443');
    const expected = `010b${Buffer.from('example.com').toString('hex')}01bb`;
    assert.equal(hex(encode(ingressCodec, ingress)), expected);
  });

  it('encodes an IPv6 socket with tag 6 and 16 bytes', () => {
    assert.equal(
      hex(encode(ingressCodec, parseIngress('[::1]:443'))),
      `0006${'00'.repeat(15)}0101bb`,
    );
  });

  it('encodes an asymmetric address as 01 || ingress || egress', () => {
    const a = Address.asymmetric('node.example.com:8080', '192.168.1.1:9090');
    const bytes = encode(addressCodec, a);
    // 01 (asymmetric) | 01 (dns) 10 "node.example.com" 1f90 (8080) | 04 c0a80101 2382 (9090)
    const host = Buffer.from('node.example.com').toString('hex');
    const expected = `010110${host}1f9004c0a801012382`;
    assert.equal(hex(bytes), expected);
    assert.deepEqual(decode(addressCodec, bytes), a);
  });

  it('rejects unknown prefixes, truncation, trailing bytes and bad hostnames with CodecError', () => {
    const cases: [string, Uint8Array][] = [
      ['ingress tag 2', Uint8Array.from([2, 4, 127, 0, 0, 1, 0, 80])],
      ['truncated', Uint8Array.from([0, 4, 127, 0, 0])],
      ['trailing', Uint8Array.from([0, 4, 127, 0, 0, 1, 0, 80, 0])],
      ['bad ip tag', Uint8Array.from([0, 5, 127, 0, 0, 1, 0, 80])],
      ['bad hostname', Uint8Array.from([1, 3, 0x2d, 0x61, 0x62, 0, 80])],
      ['hostname too long', Uint8Array.from([1, 0xfe, 0x01, ...new Array(254).fill(0x61), 0, 80])],
    ];
    for (const [name, bytes] of cases) {
      assert.throws(() => decode(ingressCodec, bytes), CodecError, name);
    }
    assert.throws(() => decode(addressCodec, Uint8Array.from([2])), CodecError);
  });

  it('refuses to encode a named address with a TypeError (no such variant upstream)', () => {
    const named = parseAddress('example.com:443');
    const message = /named address \(example\.com:443\) has no wire form/;
    assert.throws(
      () => encode(addressCodec, named),
      (e: unknown) => {
        return e instanceof TypeError && message.test(e.message);
      },
    );
    assert.throws(() => addressCodec.encodeSize(named), TypeError);
    // Its ingress alone still encodes (and decodes back).
    const bytes = encode(ingressCodec, ingressOf(named));
    assert.deepEqual(decode(ingressCodec, bytes), ingressOf(named));
  });
});

// ---------- Properties ----------

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const ipv6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((w) => w.map((x) => x.toString(16)).join(':'));
const port = fc.nat(65535);
const socket = fc.record({ ip: fc.oneof(ipv4, ipv6), port });
const label = fc
  .stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/)
  .filter((l) => !/^[0-9]+$/.test(l));
const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
const ingressArb = fc.oneof(
  socket.map((s) => Ingress.socket(s)),
  fc.tuple(host, port).map(([h, p]) => Ingress.dns(h, p)),
);
const addressArb = fc.oneof(
  socket.map((s) => Address.symmetric(s)),
  fc.tuple(ingressArb, socket).map(([i, e]) => Address.asymmetric(i, e)),
);

describe('Ingress and Address properties', () => {
  it('decode(encode(ingress)) equals the ingress, and the size is exact', () => {
    fc.assert(
      fc.property(ingressArb, (i) => {
        const bytes = encode(ingressCodec, i);
        assert.equal(bytes.length, ingressCodec.encodeSize(i));
        assert.deepEqual(decode(ingressCodec, bytes), i);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('decode(encode(address)) equals the address', () => {
    fc.assert(
      fc.property(addressArb, (a) => {
        const back = decode(addressCodec, encode(addressCodec, a));
        assert.deepEqual(back, a);
        assert.ok(addressEquals(back, a));
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('parse(format(ingress)) equals the ingress', () => {
    fc.assert(
      fc.property(ingressArb, (i) => {
        assert.deepEqual(parseIngress(formatIngress(i)), i);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('random bytes fed to the decoders only ever throw CodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(3), (bytes, tag) => {
        // Bias the first byte towards valid tags so deeper paths are reached.
        const input = bytes.length > 0 ? Uint8Array.from([tag % 2, ...bytes.subarray(1)]) : bytes;
        for (const codec of [ingressCodec, addressCodec] as const) {
          try {
            decode(codec as typeof ingressCodec, input);
          } catch (e) {
            assert.ok(e instanceof CodecError, `unexpected ${String(e)}`);
          }
        }
      }),
      { seed: 42, numRuns: 2000 },
    );
  });
});

// ---------- Parsing ----------

describe('address parsing', () => {
  it('parses IPv4, bracketed IPv6 and DNS ingress strings', () => {
    assert.deepEqual(parseIngress('1.2.3.4:5'), {
      kind: 'socket',
      addr: { ip: '1.2.3.4', port: 5 },
    });
    assert.deepEqual(parseIngress('[2001:DB8:0::1]:443'), {
      kind: 'socket',
      addr: { ip: '2001:db8::1', port: 443 },
    });
    assert.deepEqual(parseIngress('Node-1.example.com:65535'), {
      kind: 'dns',
      host: 'Node-1.example.com',
      port: 65535,
    });
    assert.deepEqual(parseSocketAddr('0.0.0.0:0'), { ip: '0.0.0.0', port: 0 });
  });

  it('rejects malformed strings with InvalidAddress', () => {
    const bad = [
      '',
      '1.2.3.4',
      '1.2.3.4:',
      '1.2.3.4:65536',
      '1.2.3.4:080',
      '1.2.3.4:+80',
      '1.2.3.4: 80',
      ' 1.2.3.4:80',
      '1.2.3.4:80 ',
      '::1:80',
      '[::1]80',
      '[::1:80',
      '[1.2.3.4]:80',
      '[example.com]:80',
      '[fe80::1%eth0]:80',
      '01.2.3.4:80',
      '256.1.1.1:80',
      '1.2.3:80',
      '-bad.example.com:80',
      'bad-.example.com:80',
      'a..b:80',
      'under_score.com:80',
      `${'a'.repeat(64)}.com:80`,
      `${'a.'.repeat(127)}ab:80`,
    ];
    for (const s of bad) assert.throws(() => parseIngress(s), isInvalidAddress, s);
    for (const s of ['example.com:80', ...bad]) {
      assert.throws(() => parseSocketAddr(s), isInvalidAddress, s);
    }
  });

  it("parses every 'a.b.c.d:port' as the strict grammar says (the IPv4 fast path)", () => {
    // The reference: dotted-quad octets without leading zeros, a port without one, <= 65535.
    const octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
    const grammar = new RegExp(`^${octet}(\\.${octet}){3}:(0|[1-9][0-9]{0,4})$`);
    const piece = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.stringMatching(/^[0-9]{0,4}$/),
      fc.constantFrom('', '00', '01', '-1', ' 1', 'a', '1e1', '٣'),
    );
    const port = fc.oneof(
      fc.integer({ min: 0, max: 70_000 }).map(String),
      fc.stringMatching(/^[0-9]{0,6}$/),
      fc.constantFrom('', '080', '+80', '8 ', '0x50'),
    );
    const text = fc
      .tuple(fc.array(piece, { minLength: 1, maxLength: 5 }), port, fc.boolean())
      .map(([parts, p, colon]) => `${parts.join('.')}${colon ? ':' : '.'}${p}`);
    fc.assert(
      fc.property(text, (s) => {
        const colon = s.lastIndexOf(':');
        const ok = grammar.test(s) && Number(s.slice(colon + 1)) <= 65535;
        if (!ok) {
          assert.throws(() => parseSocketAddr(s), isInvalidAddress, s);
          // Not a socket address; a piece with a letter may still make a hostname.
          const asName = (parse: () => { kind: string }, kind: string): void => {
            try {
              assert.equal(parse().kind, kind, s);
            } catch (e) {
              if (!isInvalidAddress(e)) throw e;
            }
          };
          asName(() => parseIngress(s), 'dns');
          asName(() => parseAddress(s), 'named');
          return;
        }
        const addr = { ip: s.slice(0, colon), port: Number(s.slice(colon + 1)) };
        const socket = parseSocketAddr(s);
        assert.deepEqual(socket, addr);
        assert.ok(Object.isFrozen(socket));
        assert.deepEqual(parseIngress(s), { kind: 'socket', addr });
        const address = parseAddress(s);
        assert.deepEqual(address, { kind: 'symmetric', addr });
        assert.ok(
          Object.isFrozen(address) && Object.isFrozen(address.kind === 'symmetric' && address.addr),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it("parses every '[v6]:port' as the general IPv6 parser does (the IPv6 fast path)", () => {
    const group = fc.oneof(
      fc.constantFrom('0', '00', '0000', '1', 'ffff', 'FFFF', 'aB', '12345', '', 'g', '1.2.3.4'),
      fc.integer({ min: 0, max: 0xffff }).map((w) => w.toString(16)),
    );
    const mangled = fc
      .array(fc.tuple(group, fc.constantFrom(':', ':', ':', '::')), { minLength: 1, maxLength: 9 })
      .map((gs) => gs.map(([g, sep], i) => (i === 0 ? g : sep + g)).join(''));
    const host = fc.oneof(
      fc.ipV6(),
      mangled,
      fc.constantFrom(
        '::',
        '::1',
        '1::',
        '::ffff:1.2.3.4',
        '::ffff:102:304',
        '::102:304',
        '1::2:0:0:3',
        '0:0:1::',
        'fe80::1%eth0',
      ),
    );
    fc.assert(
      fc.property(host, fc.integer({ min: 0, max: 65535 }), (h, port) => {
        const s = `[${h}]:${port}`;
        const ip = h.includes(':') ? canonicalIp(h) : undefined;
        if (ip === undefined) {
          assert.throws(() => parseSocketAddr(s), isInvalidAddress, s);
          assert.throws(() => parseAddress(s), isInvalidAddress, s);
          return;
        }
        assert.deepEqual(parseSocketAddr(s), { ip, port }, s);
        assert.deepEqual(parseIngress(s), { kind: 'socket', addr: { ip, port } }, s);
        assert.deepEqual(parseAddress(s), { kind: 'symmetric', addr: { ip, port } }, s);
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts a bare DNS name as a named address with no egress', () => {
    const named = parseAddress('example.com:443');
    assert.deepEqual(named, {
      kind: 'named',
      ingress: { kind: 'dns', host: 'example.com', port: 443 },
    });
    assert.ok(Object.isFrozen(named));
    assert.equal(egressOf(named), undefined);
    assert.equal(egressIp(named), undefined);
    assert.deepEqual(ingressOf(named), { kind: 'dns', host: 'example.com', port: 443 });
    assert.deepEqual(parseAddress('localhost:3001'), Address.named('localhost:3001'));
    assert.deepEqual(parseAddress(named), named, 'an already-built named address');
    assert.deepEqual(Address.named({ kind: 'dns', host: 'example.com', port: 443 }), named);
    assert.throws(() => Address.named('1.2.3.4:1'), isInvalidAddress);
    assert.throws(() => parseAddress('example.com:99999'), isInvalidAddress);
    assert.throws(() => parseAddress('-bad-.com:1'), isInvalidAddress);
  });

  it('also accepts a DNS ingress with an explicit egress', () => {
    const a = parseAddress({ ingress: 'example.com:443', egress: '203.0.113.7:0' });
    assert.equal(a.kind, 'asymmetric');
    assert.equal(egressIp(a), '203.0.113.7');
    assert.deepEqual(ingressOf(a), { kind: 'dns', host: 'example.com', port: 443 });
    assert.throws(
      () => parseAddress({ ingress: '1.2.3.4:1', egress: 'example.com:1' }),
      isInvalidAddress,
    );
  });

  it('canonicalises objects and rejects invalid fields', () => {
    assert.deepEqual(parseAddress({ ip: '2001:DB8::0:1', port: 1 }), {
      kind: 'symmetric',
      addr: { ip: '2001:db8::1', port: 1 },
    });
    assert.throws(() => parseAddress({ ip: 'x', port: 1 }), isInvalidAddress);
    assert.throws(() => parseAddress({ ip: '1.2.3.4', port: 70000 }), isInvalidAddress);
    assert.throws(() => parseAddress({ ip: '1.2.3.4', port: 1.5 }), isInvalidAddress);
    assert.throws(() => Ingress.dns('1.2.3.4', 80), isInvalidAddress);
  });

  it('formats addresses back to their text forms', () => {
    assert.equal(formatSocketAddr({ ip: '::1', port: 1 }), '[::1]:1');
    assert.equal(formatAddress(parseAddress('10.0.0.1:3000')), '10.0.0.1:3000');
    assert.equal(
      formatAddress(Address.asymmetric('example.com:1', '[::1]:0')),
      'ingress=example.com:1 egress=[::1]:0',
    );
    assert.equal(formatAddress(parseAddress('node.example.com:3000')), 'node.example.com:3000');
    const named = parseAddress('node.example.com:3000');
    assert.deepEqual(parseAddress(formatAddress(named)), named, 'round-trips');
  });

  it('gives the egress IP of symmetric and asymmetric addresses', () => {
    assert.equal(egressIp(parseAddress('10.0.0.1:8080')), '10.0.0.1');
    assert.equal(egressIp(Address.asymmetric('10.0.0.1:8080', '192.168.1.1:9090')), '192.168.1.1');
  });

  it('compares addresses structurally', () => {
    assert.ok(addressEquals(parseAddress('1.2.3.4:1'), parseAddress('1.2.3.4:1')));
    assert.ok(!addressEquals(parseAddress('1.2.3.4:1'), parseAddress('1.2.3.4:2')));
    assert.ok(
      !addressEquals(parseAddress('1.2.3.4:1'), Address.asymmetric('1.2.3.4:1', '1.2.3.4:1')),
    );
    const named = parseAddress('a.example:1');
    assert.ok(addressEquals(named, parseAddress('a.example:1')));
    assert.ok(!addressEquals(named, parseAddress('a.example:2')));
    assert.ok(!addressEquals(named, parseAddress('b.example:1')));
    assert.ok(!addressEquals(named, Address.asymmetric('a.example:1', '1.2.3.4:0')));
    assert.ok(!addressEquals(Address.asymmetric('a.example:1', '1.2.3.4:0'), named));
    assert.ok(!addressEquals(parseAddress('1.2.3.4:1'), named));
  });
});

describe('isValidIngress', () => {
  it('needs a global IP unless private IPs are allowed, and allowDns for names', () => {
    const pub = parseIngress('8.8.8.8:8080');
    const priv = parseIngress('10.0.0.1:8080');
    const dns = parseIngress('example.com:8080');
    for (const [p, d] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      assert.equal(isValidIngress(pub, p, d), true);
      assert.equal(isValidIngress(priv, p, d), p);
      assert.equal(isValidIngress(dns, p, d), d);
    }
  });
});
