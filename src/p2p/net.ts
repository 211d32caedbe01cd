/**
 * IP address classification for the p2p layer: which addresses are globally routable (dialing and
 * accepting non-global addresses is refused unless `allowPrivateIps` is set) and which subnet an
 * address belongs to (the listener rate-limits handshakes per subnet).
 *
 * Mirrors commonware `utils/src/net.rs` (`IpAddrExt::is_global`, itself a copy of the unstable
 * `std::net::IpAddr::is_global`). Addresses are IP literals as they appear in a `SocketAddr`
 * (`'203.0.113.7'`, `'2001:db8::1'`); parsing is done by the codec module.
 *
 * @module
 */

import { formatIpv4, formatIpv6, parseIp } from '../codec/index.js';
import { P2PError } from './errors.js';

/** The 4 or 16 bytes of an IP literal. */
function ipToBytes(ip: string): Uint8Array {
  const parsed = parseIp(ip);
  if (parsed === undefined) throw new P2PError('InvalidAddress', `not an IP literal: ${ip}`);
  return parsed.bytes;
}

function ipFromBytes(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
}

// ---------- IPv4 ----------

/** `a.b.c.d` as 4 bytes. */
function isGlobalV4(o: Uint8Array): boolean {
  const a = o[0]!;
  const b = o[1]!;
  const c = o[2]!;
  const d = o[3]!;
  const broadcast = a === 255 && b === 255 && c === 255 && d === 255;
  return !(
    // 0.0.0.0/8 "this network"
    a === 0 ||
    // RFC 1918 private ranges
    a === 10 ||
    (a === 172 && (b & 0xf0) === 16) ||
    (a === 192 && b === 168) ||
    // 100.64.0.0/10 shared address space (carrier-grade NAT)
    (a === 100 && (b & 0xc0) === 64) ||
    // 127.0.0.0/8 loopback
    a === 127 ||
    // 169.254.0.0/16 link-local
    (a === 169 && b === 254) ||
    // 192.0.0.0/24 IETF protocol assignments, except the globally reachable
    // 192.0.0.9 (PCP anycast) and 192.0.0.10 (TURN anycast)
    (a === 192 && b === 0 && c === 0 && d !== 9 && d !== 10) ||
    // documentation: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24
    (a === 192 && b === 0 && c === 2) ||
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113) ||
    // 198.18.0.0/15 benchmarking
    (a === 198 && (b & 0xfe) === 18) ||
    // 240.0.0.0/4 reserved (the broadcast address is excluded here, caught below)
    ((a & 240) === 240 && !broadcast) ||
    broadcast
  );
}

// ---------- IPv6 ----------

/** The eight 16-bit segments of a 16-byte IPv6 address. */
function segments(o: Uint8Array): number[] {
  const s: number[] = [];
  for (let i = 0; i < 16; i += 2) s.push((o[i]! << 8) | o[i + 1]!);
  return s;
}

function isGlobalV6(o: Uint8Array): boolean {
  const s = segments(o);
  const [s0, s1, s2, s3, s4, s5, s6, s7] = s as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const zeroPrefix = s0 === 0 && s1 === 0 && s2 === 0 && s3 === 0 && s4 === 0;
  const unspecified = zeroPrefix && s5 === 0 && s6 === 0 && s7 === 0;
  const loopback = zeroPrefix && s5 === 0 && s6 === 0 && s7 === 1;
  // ::ffff:0:0/96 IPv4-mapped
  const mapped = zeroPrefix && s5 === 0xffff;
  // 64:ff9b:1::/48 IPv4-IPv6 translation
  const translation = s0 === 0x64 && s1 === 0xff9b && s2 === 1;
  // 100::/64 discard-only
  const discard = s0 === 0x100 && s1 === 0 && s2 === 0 && s3 === 0;
  // 2001::/23 IETF protocol assignments, minus the globally reachable exceptions
  const ietf =
    s0 === 0x2001 &&
    s1 < 0x200 &&
    !(
      // 2001:1::1 (PCP anycast) and 2001:1::2 (TURN anycast)
      (s1 === 1 &&
        s2 === 0 &&
        s3 === 0 &&
        s4 === 0 &&
        s5 === 0 &&
        s6 === 0 &&
        (s7 === 1 || s7 === 2)) ||
      // 2001:3::/32 AMT
      s1 === 3 ||
      // 2001:4:112::/48 AS112-v6
      (s1 === 4 && s2 === 0x112) ||
      // 2001:20::/28 ORCHIDv2 and 2001:30::/28 drone remote ID
      (s1 >= 0x20 && s1 <= 0x3f)
    );
  // 2002::/16 6to4
  const sixToFour = s0 === 0x2002;
  // 2001:db8::/32 documentation
  const documentation = s0 === 0x2001 && s1 === 0xdb8;
  // fc00::/7 unique local
  const uniqueLocal = (s0 & 0xfe00) === 0xfc00;
  // fe80::/10 link-local unicast
  const linkLocal = (s0 & 0xffc0) === 0xfe80;
  return !(
    unspecified ||
    loopback ||
    mapped ||
    translation ||
    discard ||
    ietf ||
    sixToFour ||
    documentation ||
    uniqueLocal ||
    linkLocal
  );
}

/** Whether 16 IPv6 bytes are an IPv4-mapped address (`::ffff:a.b.c.d`). */
function isV4Mapped(o: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (o[i] !== 0) return false;
  return o[10] === 0xff && o[11] === 0xff;
}

// ---------- Public API ----------

/**
 * Whether `ip` is globally routable, exactly as commonware's `IpAddrExt::is_global`.
 *
 * Not global (IPv4): `0.0.0.0/8`, RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), `100.64/10`,
 * loopback `127/8`, link-local `169.254/16`, `192.0.0.0/24` except `192.0.0.9` and `192.0.0.10`,
 * documentation (`192.0.2/24`, `198.51.100/24`, `203.0.113/24`), benchmarking `198.18/15`,
 * reserved `240/4` and broadcast `255.255.255.255`.
 *
 * Not global (IPv6): `::`, `::1`, IPv4-mapped `::ffff:0:0/96`, `64:ff9b:1::/48`, `100::/64`,
 * `2001::/23` (except `2001:1::1`, `2001:1::2`, `2001:3::/32`, `2001:4:112::/48`,
 * `2001:20::/28`-`2001:3f::`), 6to4 `2002::/16`, documentation `2001:db8::/32`, unique local
 * `fc00::/7` and link-local `fe80::/10`. Multicast is treated as global, as upstream does.
 *
 * @throws P2PError `InvalidAddress` if `ip` is not an IP literal.
 */
export function isGlobal(ip: string): boolean {
  const bytes = ipToBytes(ip);
  return bytes.length === 4 ? isGlobalV4(bytes) : isGlobalV6(bytes);
}

/**
 * The canonical key of the subnet `ip` belongs to, for per-subnet rate limiting: the `/24` for
 * IPv4 (`'203.0.113.0/24'`) and the `/48` for IPv6 (`'2001:db8:1::/48'`). An IPv4-mapped IPv6
 * address is keyed as the IPv4 address it maps, so one host cannot pick two buckets by switching
 * socket families.
 *
 * @remarks Upstream's `IpAddrExt::subnet` groups IPv6 by `/64`; this port groups by `/48` (the
 * common end-site allocation), which is stricter against a single site rotating addresses.
 * @throws P2PError `InvalidAddress` if `ip` is not an IP literal.
 */
export function subnetKey(ip: string): string {
  let bytes = ipToBytes(ip);
  if (bytes.length === 16 && isV4Mapped(bytes)) bytes = bytes.subarray(12);
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.0/24`;
  const masked = new Uint8Array(16);
  masked.set(bytes.subarray(0, 6));
  return `${ipFromBytes(masked)}/48`;
}

/**
 * The canonical form of `ip` for host comparisons: the codec's formatting of its bytes, with an
 * IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, which Node reports for IPv4 peers on a dual-stack
 * socket) reduced to its IPv4 form.
 *
 * @throws P2PError `InvalidAddress` if `ip` is not an IP literal.
 */
export function unmappedIp(ip: string): string {
  const bytes = ipToBytes(ip);
  if (bytes.length === 16 && isV4Mapped(bytes)) return ipFromBytes(bytes.subarray(12));
  return ipFromBytes(bytes);
}

/** Whether `a` and `b` name the same host (see {@link unmappedIp}). Non-literals are never equal. */
export function sameIp(a: string, b: string): boolean {
  try {
    return unmappedIp(a) === unmappedIp(b);
  } catch {
    return false;
  }
}
