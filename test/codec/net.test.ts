import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  canonicalIp,
  decode,
  encode,
  formatIpv6,
  hostname,
  ipAddr,
  ipv4,
  ipv6,
  isValidHostname,
  parseIpv4,
  parseIpv6,
  socketAddr,
  tuple,
  u8,
  u16,
} from '../../src/codec/index.js';
import { hex, throwsCodec, toHex } from './helpers.js';

// Node's own canonical text for 16 bytes, from the uncompressed form.
function nodeFormat(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

// 16 bytes biased towards zero groups and the ffff/v4 patterns, where formatting is subtle.
const ipv6Bytes = fc
  .array(
    fc.oneof(
      fc.constant(0),
      fc.constant(0),
      fc.constant(0xffff),
      fc.integer({ min: 0, max: 0xffff }),
    ),
    {
      minLength: 8,
      maxLength: 8,
    },
  )
  .map((words) => {
    const b = new Uint8Array(16);
    words.forEach((w, i) => {
      b[2 * i] = w >> 8;
      b[2 * i + 1] = w & 0xff;
    });
    return b;
  });

describe('IP addresses', () => {
  it('socket address 127.0.0.1:8080 is 04 7f 00 00 01 1f 90', () => {
    const enc = encode(socketAddr, { ip: '127.0.0.1', port: 8080 });
    assert.equal(toHex(enc), '04 7f 00 00 01 1f 90');
    assert.deepEqual(decode(socketAddr, enc), { ip: '127.0.0.1', port: 8080 });
  });

  it('IPv6 socket addresses carry tag 6 and 16 bytes', () => {
    const enc = encode(socketAddr, { ip: '::1', port: 443 });
    assert.equal(toHex(enc), `06 ${'00 '.repeat(15)}01 01 bb`);
    assert.deepEqual(decode(socketAddr, enc), { ip: '::1', port: 443 });
    assert.equal(
      toHex(encode(ipv6, '2001:DB8::1')),
      '20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01',
    );
    assert.equal(toHex(encode(ipv4, '10.0.0.255')), '0a 00 00 ff');
  });

  it('rejects IpAddr tags other than 4 and 6', () => {
    for (const tag of [0, 1, 5, 7, 0x46, 0xff]) {
      const e = throwsCodec(() => decode(ipAddr, new Uint8Array([tag, 1, 2, 3, 4])), 'Invalid');
      assert.equal(e.context, 'IpAddr');
    }
    throwsCodec(() => decode(ipAddr, hex('06 00 00')), 'EndOfBuffer');
  });

  it('refuses to encode strings that are not IP literals', () => {
    for (const s of [
      '',
      'localhost',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '256.1.1.1',
      '::1%eth0',
      '1::2::3',
      ':1',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
    ]) {
      assert.throws(() => encode(ipAddr, s), TypeError, s);
    }
    assert.throws(() => encode(socketAddr, { ip: '1.2.3.4', port: 65536 }), RangeError);
  });

  it('formats IPv6 exactly as Node does (RFC 5952 plus dotted IPv4 tails)', () => {
    const vectors: [string, string][] = [
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
      ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
      ['::FFFF:0102:0304', '::ffff:1.2.3.4'],
      ['::102:304', '::1.2.3.4'],
      ['64:ff9b::1.2.3.4', '64:ff9b::102:304'],
      ['1::', '1::'],
    ];
    for (const [input, want] of vectors) {
      assert.equal(canonicalIp(input), want, input);
      assert.equal(
        canonicalIp(input),
        new net.SocketAddress({ address: input, family: 'ipv6' }).address,
      );
    }
    fc.assert(
      fc.property(ipv6Bytes, (b) => {
        const s = formatIpv6(b);
        assert.equal(s, nodeFormat(b));
        assert.deepEqual(parseIpv6(s), b);
      }),
      { seed: 42, numRuns: 5000 },
    );
  });

  it('accepts exactly the IP literals Node accepts (zone ids aside)', () => {
    const v6chars = fc.constantFrom(...'0123456789abcdefABCDEF:::.'.split(''));
    fc.assert(
      fc.property(
        fc.array(v6chars, { maxLength: 45 }).map((a) => a.join('')),
        (s) => {
          assert.equal(parseIpv6(s) !== undefined, net.isIPv6(s), s);
        },
      ),
      { seed: 42, numRuns: 20000 },
    );
    const v4chars = fc.constantFrom(...'0123456789...'.split(''));
    fc.assert(
      fc.property(
        fc.array(v4chars, { maxLength: 16 }).map((a) => a.join('')),
        (s) => {
          assert.equal(parseIpv4(s) !== undefined, net.isIPv4(s), s);
        },
      ),
      { seed: 42, numRuns: 20000 },
    );
  });
});

describe('building blocks of the p2p Ingress encoding', () => {
  it('tag + SocketAddr and tag + Hostname + port give the documented Ingress bytes', () => {
    const socket = tuple(u8, socketAddr);
    const dns = tuple(u8, hostname, u16);
    assert.equal(
      toHex(encode(socket, [0, { ip: '127.0.0.1', port: 8080 }])),
      '00 04 7f 00 00 01 1f 90',
    );
    assert.equal(
      toHex(encode(dns, [1, 'example.com', 443])),
      '01 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 01 bb',
    );
  });
});

describe('hostnames', () => {
  it('example.com is a length byte then the ASCII', () => {
    const enc = encode(hostname, 'example.com');
    assert.equal(toHex(enc), `0b ${toHex(new TextEncoder().encode('example.com'))}`);
    assert.equal(decode(hostname, enc), 'example.com');
  });

  it('validates labels, hyphens, dots and lengths', () => {
    const l63 = 'a'.repeat(63);
    const ok = [
      'localhost',
      'a',
      '123',
      'my-host.example.com',
      'Example.COM',
      l63,
      `${l63}.${l63}.${l63}.${'a'.repeat(61)}`,
    ];
    const bad = [
      '',
      '.',
      'a..b',
      '.a',
      'a.',
      '-a',
      'a-',
      'a.-b',
      'a.b-',
      'my_host',
      'h st',
      'hôst.com',
      'a'.repeat(64),
      `${l63}.${l63}.${l63}.${'a'.repeat(62)}`,
    ];
    for (const s of ok) {
      assert.ok(isValidHostname(s), s);
      assert.equal(decode(hostname, encode(hostname, s)), s);
    }
    for (const s of bad) {
      assert.ok(!isValidHostname(s), s);
      assert.throws(() => encode(hostname, s), TypeError);
    }
  });

  it('decoding checks the length cap first, then the syntax', () => {
    throwsCodec(() => decode(hostname, hex('fe 01')), 'InvalidLength');
    const e = throwsCodec(() => decode(hostname, hex('03 61 5f 62')), 'Invalid');
    assert.equal(e.context, 'Hostname');
    throwsCodec(() => decode(hostname, hex('00')), 'Invalid');
    throwsCodec(() => decode(hostname, hex('02 61 c3')), 'Invalid');
    throwsCodec(() => decode(hostname, hex('05 61')), 'EndOfBuffer');
  });
});
