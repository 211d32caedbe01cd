/**
 * IP and socket addresses (commonware `Ipv4Addr`, `Ipv6Addr`, `IpAddr`, `SocketAddr`).
 *
 * - IPv4: 4 bytes (the address as a u32 big-endian).
 * - IPv6: 16 bytes (u128 big-endian).
 * - IpAddr: a version tag `0x04` then 4 bytes, or `0x06` then 16 bytes; any other tag is
 *   `Invalid` (context `'IpAddr'`).
 * - SocketAddr: IpAddr then the port as u16 big-endian. (Rust's IPv6 flowinfo and scope id are
 *   not encoded.)
 *
 * Addresses are literal strings; decoding yields the canonical text from `./ip.ts`. Encoding a
 * string that is not an IP literal of the right family is a programmer error (`TypeError`).
 */
import type { SocketAddr } from '../runtime/context.js';
import type { Codec } from './codec.js';
import { CodecError } from './errors.js';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './ip.js';

/** Version tag of an IPv4 `IpAddr`. */
export const IP_TAG_V4 = 4;
/** Version tag of an IPv6 `IpAddr`. */
export const IP_TAG_V6 = 6;

function v4Bytes(ip: string): Uint8Array {
  const b = parseIpv4(ip);
  if (b === undefined) throw new TypeError(`not an IPv4 literal: ${JSON.stringify(ip)}`);
  return b;
}

function v6Bytes(ip: string): Uint8Array {
  const b = parseIpv6(ip);
  if (b === undefined) throw new TypeError(`not an IPv6 literal: ${JSON.stringify(ip)}`);
  return b;
}

/** `Ipv4Addr`: 4 bytes. */
export const ipv4: Codec<string> = {
  encodeSize: () => 4,
  write: (v, w) => w.bytes(v4Bytes(v)),
  read: (r) => formatIpv4(r.readBytes(4)),
};

/** `Ipv6Addr`: 16 bytes. */
export const ipv6: Codec<string> = {
  encodeSize: () => 16,
  write: (v, w) => w.bytes(v6Bytes(v)),
  read: (r) => formatIpv6(r.readBytes(16)),
};

/** `IpAddr`: tag 4 + 4 bytes, or tag 6 + 16 bytes. A literal with a `:` is IPv6. */
export const ipAddr: Codec<string> = {
  encodeSize: (v) => (v.includes(':') ? 17 : 5),
  write: (v, w) => {
    if (v.includes(':')) {
      const b = v6Bytes(v);
      w.u8(IP_TAG_V6);
      w.bytes(b);
    } else {
      const b = v4Bytes(v);
      w.u8(IP_TAG_V4);
      w.bytes(b);
    }
  },
  read: (r) => {
    const tag = r.u8();
    if (tag === IP_TAG_V4) return formatIpv4(r.readBytes(4));
    if (tag === IP_TAG_V6) return formatIpv6(r.readBytes(16));
    throw new CodecError('Invalid', `IpAddr: invalid version ${tag}`, { context: 'IpAddr' });
  },
};

/** `SocketAddr`: IpAddr then port u16 big-endian. `127.0.0.1:8080` is `04 7f 00 00 01 1f 90`. */
export const socketAddr: Codec<SocketAddr> = {
  encodeSize: (v) => ipAddr.encodeSize(v.ip) + 2,
  write: (v, w) => {
    ipAddr.write(v.ip, w);
    w.u16(v.port);
  },
  read: (r) => {
    const ip = ipAddr.read(r);
    return { ip, port: r.u16() };
  },
};
