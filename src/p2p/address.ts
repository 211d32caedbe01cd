/**
 * Peer addresses (commonware `p2p/src/types.rs`).
 *
 * An {@link Ingress} is what we dial: a socket address, or a DNS name and port resolved at dial
 * time. An {@link Address} is what the lookup network registers for a peer: `symmetric` (one
 * socket address, dialed and expected as the source of the peer's inbound connections),
 * `asymmetric` (an ingress to dial plus the egress socket address whose IP inbound connections
 * must come from, for peers behind NAT or a load balancer, or reachable by DNS name), or `named`
 * (a bare DNS name and port, with no known egress IP).
 *
 * Trade-off of `named`: with no egress IP there is nothing to match an inbound connection's
 * source IP against, so such a peer is accepted from any source IP (its key is still
 * authenticated by the handshake), and while at least one eligible, unblocked peer is `named`
 * the listener lets connections from any (policy-allowed) IP reach the handshake. Register
 * `{ ingress: 'name:port', egress: 'ip:port' }` instead to keep the source-IP filter.
 *
 * Text forms accepted by the parsers (strict; anything else throws `P2PError('InvalidAddress')`):
 * - `'203.0.113.7:3000'` (dotted-quad IPv4, no leading zeros),
 * - `'[2001:db8::1]:3000'` (IPv6 in brackets, no zone id),
 * - `'node.example.com:3000'` (a hostname per RFC 1123; as an address, the `named` variant).
 * Ports are decimal without leading zeros, 0-65535. IP text is canonicalised (lower case,
 * RFC 5952 compression) so equal addresses compare equal.
 *
 * Wire forms (never sent by the lookup protocol itself, but stable):
 * `Ingress = 0x00 || SocketAddr | 0x01 || Hostname || port u16 BE`;
 * `Address = 0x00 || SocketAddr | 0x01 || Ingress || SocketAddr`. commonware's `Address` has no
 * `named` variant, so {@link addressCodec} refuses to encode one (TypeError).
 *
 * @module
 */

import {
  type Codec,
  CodecError,
  canonicalIp,
  hostname as hostnameCodec,
  isValidHostname,
  socketAddr as socketAddrCodec,
} from '../codec/index.js';
import type { SocketAddr } from '../runtime/context.js';
import { P2PError } from './errors.js';
import { isGlobal } from './net.js';

// ---------- Types ----------

/** What we dial to reach a peer. */
export type Ingress =
  | { readonly kind: 'socket'; readonly addr: SocketAddr }
  | { readonly kind: 'dns'; readonly host: string; readonly port: number };

/** An {@link Ingress} that is a DNS name. */
export type DnsIngress = Extract<Ingress, { readonly kind: 'dns' }>;

/**
 * A lookup peer's registered address: where to dial it and where its connections come from.
 *
 * `named` is a bare DNS name: dialed by resolving the name, but with no known egress IP, so the
 * peer's inbound connections are accepted from any source IP (the handshake still authenticates
 * its key) and, while such a peer is eligible and unblocked, the listener's source-IP pre-filter
 * admits every IP to the handshake. See the module documentation.
 */
export type Address =
  | { readonly kind: 'symmetric'; readonly addr: SocketAddr }
  | { readonly kind: 'asymmetric'; readonly ingress: Ingress; readonly egress: SocketAddr }
  | { readonly kind: 'named'; readonly ingress: DnsIngress };

/** What callers may pass where an {@link Ingress} is expected. */
export type IngressInput = string | SocketAddr | Ingress;

/** What callers may pass where an {@link Address} is expected. */
export type AddressInput =
  | string
  | SocketAddr
  | Address
  | { readonly ingress: IngressInput; readonly egress: string | SocketAddr };

// ---------- Parsing ----------

function invalid(what: string, input: unknown, why: string): P2PError {
  return new P2PError('InvalidAddress', `invalid ${what} ${JSON.stringify(input)}: ${why}`);
}

function checkPort(what: string, input: unknown, port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalid(what, input, 'port must be an integer in [0, 65535]');
  }
  return port;
}

function parsePort(what: string, input: string, text: string): number {
  // Decimal digits only, no sign, no leading zero (so each port has exactly one spelling).
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) throw invalid(what, input, 'bad port');
  return checkPort(what, input, Number(text));
}

/**
 * The decimal port in `input[from, end)` (no sign, no leading zero, <= 65535), or -1. For the
 * fast paths: no regular expression, no substring.
 */
function fastPort(input: string, from: number): number {
  const len = input.length - from;
  if (len < 1 || len > 5 || (len > 1 && input.charCodeAt(from) === 0x30)) return -1;
  let port = 0;
  for (let i = from; i < input.length; i++) {
    const d = input.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    port = port * 10 + d;
  }
  return port > 65535 ? -1 : port;
}

/**
 * The fast path of the parsers for the common plain `'a.b.c.d:port'`: one pass over the
 * characters, no regular expression, no intermediate strings or objects beyond the result.
 * Returns `undefined` for anything else (IPv6, hostnames, and every malformed input), which the
 * general path then parses or rejects with its specific message. A dotted quad without leading
 * zeros is already canonical, so the IP text is the input's own prefix.
 */
function fastIpv4(input: string): SocketAddr | undefined {
  const n = input.length;
  let i = 0;
  for (let octet = 0; octet < 4; octet++) {
    const start = i;
    let value = 0;
    while (i < n) {
      const d = input.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || value > 255) return undefined;
    if (len > 1 && input.charCodeAt(start) === 0x30) return undefined;
    // Three dots, then the colon before the port.
    if (i >= n || input.charCodeAt(i) !== (octet < 3 ? 0x2e : 0x3a)) return undefined;
    i++;
  }
  const port = fastPort(input, i);
  return port < 0 ? undefined : Object.freeze({ ip: input.slice(0, i - 1), port });
}

// The groups of the address {@link fastIpv6} parses (one event loop: never used re-entrantly).
const WORDS = new Uint16Array(8);

/** The value of hex digit `c` (either case), or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * The fast path for `'[v6]:port'` whose IPv6 text is already canonical (lower case, no leading
 * zeros, `::` exactly on the longest run of two or more zero groups, no dotted-quad tail): one
 * pass, and the IP text is a substring of the input. Anything else (including every malformed
 * input and canonical forms with a dotted-quad tail) returns `undefined` for the general path.
 */
function fastIpv6(input: string): SocketAddr | undefined {
  if (input.charCodeAt(0) !== 0x5b) return undefined;
  const close = input.indexOf(']');
  if (close < 0 || input.charCodeAt(close + 1) !== 0x3a) return undefined;
  const port = fastPort(input, close + 2);
  if (port < 0) return undefined;
  let i = 1;
  let count = 0;
  let gap = -1;
  if (input.charCodeAt(1) === 0x3a) {
    if (input.charCodeAt(2) !== 0x3a) return undefined;
    gap = 0;
    i = 3;
  }
  while (i < close) {
    const start = i;
    let value = 0;
    for (; i < close; i++) {
      const c = input.charCodeAt(i);
      const d = hexDigit(c);
      if (d < 0) break;
      // Upper case is valid but not canonical.
      if (c >= 0x41 && c <= 0x46) return undefined;
      value = value * 16 + d;
    }
    const len = i - start;
    if (len === 0 || len > 4 || count === 8) return undefined;
    if (len > 1 && input.charCodeAt(start) === 0x30) return undefined;
    WORDS[count++] = value;
    if (i === close) break;
    // A group ends at a colon (a dot, a zone id or anything else: the general path).
    if (input.charCodeAt(i) !== 0x3a) return undefined;
    i++;
    if (input.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return undefined;
      gap = count;
      i++;
    } else if (i === close) {
      return undefined;
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return undefined;
  // The longest run of zero groups (the first on a tie), with the gap's zeros in place.
  const zeros = gap < 0 ? 0 : 8 - count;
  let bestBase = -1;
  let bestLen = 0;
  let runBase = -1;
  for (let g = 0; g < 8; g++) {
    const inGap = gap >= 0 && g >= gap && g < gap + zeros;
    const word = inGap ? 0 : WORDS[g < gap || gap < 0 ? g : g - zeros]!;
    if (word !== 0) {
      runBase = -1;
      continue;
    }
    if (runBase < 0) runBase = g;
    if (g - runBase + 1 > bestLen) {
      bestBase = runBase;
      bestLen = g - runBase + 1;
    }
  }
  if (bestLen < 2 ? gap >= 0 : gap !== bestBase || zeros !== bestLen) return undefined;
  // IPv4-mapped and -compatible addresses are written with a dotted quad: the general path.
  const fifth = bestLen === 5 && WORDS[count - 3] === 0xffff;
  if (bestBase === 0 && (bestLen === 6 || fifth)) return undefined;
  return Object.freeze({ ip: input.slice(1, close), port });
}

/** {@link fastIpv4}, then {@link fastIpv6}. */
function fastSocketAddr(input: string): SocketAddr | undefined {
  return input.charCodeAt(0) === 0x5b ? fastIpv6(input) : fastIpv4(input);
}

/** Splits `'host:port'` / `'[v6]:port'`; `bracketed` tells whether the host was in brackets. */
function splitHostPort(
  what: string,
  input: string,
): { host: string; port: number; bracketed: boolean } {
  if (input.startsWith('[')) {
    const close = input.indexOf(']');
    if (close < 0 || input[close + 1] !== ':') throw invalid(what, input, 'expected [ipv6]:port');
    return {
      host: input.slice(1, close),
      port: parsePort(what, input, input.slice(close + 2)),
      bracketed: true,
    };
  }
  const colon = input.lastIndexOf(':');
  if (colon < 0) throw invalid(what, input, 'missing :port');
  const host = input.slice(0, colon);
  if (host.includes(':')) throw invalid(what, input, 'an IPv6 address must be in brackets');
  return { host, port: parsePort(what, input, input.slice(colon + 1)), bracketed: false };
}

function socketFromObject(what: string, input: SocketAddr): SocketAddr {
  if (typeof input.ip !== 'string') throw invalid(what, input, 'ip must be a string');
  const ip = canonicalIp(input.ip);
  if (ip === undefined) throw invalid(what, input, 'ip is not an IP literal');
  return Object.freeze({ ip, port: checkPort(what, input, input.port) });
}

/**
 * Parses `'ip:port'` / `'[ipv6]:port'` (or canonicalises a `{ ip, port }` object).
 *
 * @throws P2PError `InvalidAddress`.
 */
export function parseSocketAddr(input: string | SocketAddr): SocketAddr {
  if (typeof input === 'object' && input !== null) return socketFromObject('socket address', input);
  if (typeof input !== 'string') throw invalid('socket address', input, 'expected a string');
  const fast = fastSocketAddr(input);
  if (fast !== undefined) return fast;
  const { host, port, bracketed } = splitHostPort('socket address', input);
  const ip = canonicalIp(host);
  // A bracketed host must be IPv6 and an unbracketed one IPv4.
  if (ip === undefined || bracketed !== host.includes(':')) {
    throw invalid('socket address', input, 'host is not an IP literal');
  }
  return Object.freeze({ ip, port });
}

/** Whether `host` has only digits and dots, i.e. is meant as an IPv4 literal, not a name. */
function looksNumeric(host: string): boolean {
  return /^[0-9.]+$/.test(host);
}

/**
 * Parses an ingress: `'ip:port'`, `'[ipv6]:port'` or `'hostname:port'` (or normalises an object).
 *
 * @throws P2PError `InvalidAddress`.
 */
export function parseIngress(input: IngressInput): Ingress {
  if (typeof input === 'object' && input !== null) {
    if ('kind' in input) {
      if (input.kind === 'socket') return Ingress.socket(input.addr);
      if (input.kind === 'dns') return Ingress.dns(input.host, input.port);
      throw invalid('ingress', input, 'unknown kind');
    }
    return Ingress.socket(input);
  }
  if (typeof input !== 'string') throw invalid('ingress', input, 'expected a string');
  const fast = fastSocketAddr(input);
  if (fast !== undefined) return Object.freeze({ kind: 'socket', addr: fast });
  const { host, port, bracketed } = splitHostPort('ingress', input);
  const ip = canonicalIp(host);
  if (ip !== undefined && bracketed === host.includes(':')) {
    return { kind: 'socket', addr: Object.freeze({ ip, port }) };
  }
  if (bracketed || looksNumeric(host) || !isValidHostname(host)) {
    throw invalid('ingress', input, 'host is neither an IP literal nor a valid hostname');
  }
  return Object.freeze({ kind: 'dns', host, port });
}

/**
 * Parses an address: `'ip:port'` / `'[ipv6]:port'` (symmetric), `'hostname:port'` (named: no
 * egress IP, so inbound connections from the peer are accepted from any source IP and the
 * listener's IP pre-filter is opened while the peer is eligible; prefer `{ ingress, egress }` to
 * keep that filter), a `{ ingress, egress }` pair (asymmetric; the ingress may be a hostname, the
 * egress must be an IP socket address), a `{ ip, port }` object, or an already-built
 * {@link Address} (canonicalised).
 *
 * @throws P2PError `InvalidAddress`.
 */
export function parseAddress(input: AddressInput): Address {
  if (typeof input === 'object' && input !== null) {
    if ('kind' in input) {
      if (input.kind === 'symmetric') return Address.symmetric(input.addr);
      if (input.kind === 'asymmetric') return Address.asymmetric(input.ingress, input.egress);
      if (input.kind === 'named') return Address.named(input.ingress);
      throw invalid('address', input, 'unknown kind');
    }
    if ('ingress' in input) return Address.asymmetric(input.ingress, input.egress);
    return Address.symmetric(input);
  }
  if (typeof input === 'string') {
    const fast = fastSocketAddr(input);
    if (fast !== undefined) return Object.freeze({ kind: 'symmetric', addr: fast });
    const ingress = parseIngress(input);
    if (ingress.kind === 'dns') return Object.freeze({ kind: 'named', ingress });
    return Object.freeze({ kind: 'symmetric', addr: ingress.addr });
  }
  throw invalid('address', input, 'expected a string or an object');
}

// ---------- Constructors ----------

/** Constructors for {@link Ingress}. */
export const Ingress = {
  /** Dial `addr` directly. @throws P2PError `InvalidAddress` */
  socket(addr: string | SocketAddr): Ingress {
    return Object.freeze({ kind: 'socket', addr: parseSocketAddr(addr) });
  },
  /** Resolve `host` at dial time and dial `port`. @throws P2PError `InvalidAddress` */
  dns(host: string, port: number): Ingress {
    if (typeof host !== 'string' || looksNumeric(host) || !isValidHostname(host)) {
      throw invalid('hostname', host, 'not a valid hostname');
    }
    return Object.freeze({ kind: 'dns', host, port: checkPort('ingress', host, port) });
  },
} as const;

/** Constructors for {@link Address}. */
export const Address = {
  /** Dial `addr` and expect inbound connections from its IP. @throws P2PError `InvalidAddress` */
  symmetric(addr: string | SocketAddr): Address {
    return Object.freeze({ kind: 'symmetric', addr: parseSocketAddr(addr) });
  },
  /** Dial `ingress`; expect inbound connections from `egress`'s IP. @throws P2PError `InvalidAddress` */
  asymmetric(ingress: IngressInput, egress: string | SocketAddr): Address {
    return Object.freeze({
      kind: 'asymmetric',
      ingress: parseIngress(ingress),
      egress: parseSocketAddr(egress),
    });
  },
  /**
   * Dial the DNS name `ingress` (`'hostname:port'` or a `dns` ingress); no egress IP is known, so
   * inbound connections are accepted from any source IP (see {@link Address}).
   *
   * @throws P2PError `InvalidAddress`, also if `ingress` is not a DNS name.
   */
  named(ingress: string | DnsIngress): Address {
    const parsed = parseIngress(ingress);
    if (parsed.kind !== 'dns') {
      throw invalid('named address', ingress, 'not a DNS name: use a symmetric address');
    }
    return Object.freeze({ kind: 'named', ingress: parsed });
  },
} as const;

// ---------- Accessors ----------

/** Where to dial a peer with this address. */
export function ingressOf(address: Address): Ingress {
  return address.kind === 'symmetric'
    ? Object.freeze({ kind: 'socket', addr: address.addr })
    : address.ingress;
}

/** The socket address a peer's inbound connections are expected from; `undefined` if unknown (`named`). */
export function egressOf(address: Address): SocketAddr | undefined {
  switch (address.kind) {
    case 'symmetric':
      return address.addr;
    case 'asymmetric':
      return address.egress;
    case 'named':
      return undefined;
  }
}

/**
 * The IP a peer's inbound connections must come from (unless the IP check is bypassed);
 * `undefined` for a `named` address, whose connections are accepted from any IP.
 */
export function egressIp(address: Address): string | undefined {
  return egressOf(address)?.ip;
}

/**
 * Whether policy allows dialing `ingress`: a socket address needs a global IP unless
 * `allowPrivateIps`; a DNS name needs `allowDns` (its resolved IPs are filtered after resolution).
 */
export function isValidIngress(
  ingress: Ingress,
  allowPrivateIps: boolean,
  allowDns: boolean,
): boolean {
  if (ingress.kind === 'dns') return allowDns;
  return allowPrivateIps || isGlobal(ingress.addr.ip);
}

/**
 * Whether policy allows dialing a peer registered at `address`: {@link isValidIngress} of its
 * {@link ingressOf}, without building that ingress (the dialer asks this of every record).
 */
export function isDialable(address: Address, allowPrivateIps: boolean, allowDns: boolean): boolean {
  if (address.kind === 'symmetric') return allowPrivateIps || isGlobal(address.addr.ip);
  return isValidIngress(address.ingress, allowPrivateIps, allowDns);
}

// ---------- Equality and formatting ----------

function socketEquals(a: SocketAddr, b: SocketAddr): boolean {
  return a.port === b.port && (a.ip === b.ip || canonicalIp(a.ip) === canonicalIp(b.ip));
}

/** Whether two ingresses are the same (hostnames compare exactly, as upstream). */
export function ingressEquals(a: Ingress, b: Ingress): boolean {
  if (a.kind === 'socket') return b.kind === 'socket' && socketEquals(a.addr, b.addr);
  return b.kind === 'dns' && a.host === b.host && a.port === b.port;
}

/** Whether two addresses are the same (a changed address severs the peer's connection). */
export function addressEquals(a: Address, b: Address): boolean {
  if (a.kind === 'symmetric') return b.kind === 'symmetric' && socketEquals(a.addr, b.addr);
  if (a.kind === 'named') return b.kind === 'named' && ingressEquals(a.ingress, b.ingress);
  return (
    b.kind === 'asymmetric' &&
    ingressEquals(a.ingress, b.ingress) &&
    socketEquals(a.egress, b.egress)
  );
}

/** `'ip:port'` or `'[ipv6]:port'`. */
export function formatSocketAddr(addr: SocketAddr): string {
  return addr.ip.includes(':') ? `[${addr.ip}]:${addr.port}` : `${addr.ip}:${addr.port}`;
}

/** The text form {@link parseIngress} accepts. */
export function formatIngress(ingress: Ingress): string {
  return ingress.kind === 'socket'
    ? formatSocketAddr(ingress.addr)
    : `${ingress.host}:${ingress.port}`;
}

/**
 * `'ip:port'` for a symmetric address, `'hostname:port'` for a named one,
 * `'ingress=<ingress> egress=<socket>'` for an asymmetric one.
 */
export function formatAddress(address: Address): string {
  switch (address.kind) {
    case 'symmetric':
      return formatSocketAddr(address.addr);
    case 'named':
      return formatIngress(address.ingress);
    case 'asymmetric':
      return `ingress=${formatIngress(address.ingress)} egress=${formatSocketAddr(address.egress)}`;
  }
}

// ---------- Codecs ----------

const INGRESS_SOCKET = 0x00;
const INGRESS_DNS = 0x01;
const ADDRESS_SYMMETRIC = 0x00;
const ADDRESS_ASYMMETRIC = 0x01;

/** `Ingress`: `0x00 || SocketAddr` or `0x01 || Hostname || port u16 BE`. */
export const ingressCodec: Codec<Ingress> = {
  encodeSize: (v) =>
    1 +
    (v.kind === 'socket'
      ? socketAddrCodec.encodeSize(v.addr)
      : hostnameCodec.encodeSize(v.host) + 2),
  write: (v, w) => {
    if (v.kind === 'socket') {
      w.u8(INGRESS_SOCKET);
      socketAddrCodec.write(v.addr, w);
    } else {
      w.u8(INGRESS_DNS);
      hostnameCodec.write(v.host, w);
      w.u16(v.port);
    }
  },
  read: (r) => {
    const tag = r.u8();
    if (tag === INGRESS_SOCKET) return { kind: 'socket', addr: socketAddrCodec.read(r) };
    if (tag === INGRESS_DNS) {
      const host = hostnameCodec.read(r);
      return { kind: 'dns', host, port: r.u16() };
    }
    throw new CodecError('InvalidEnum', `Ingress: invalid prefix ${tag}`, { context: 'Ingress' });
  },
};

/** commonware's `Address` has no bare-name variant: a `named` address cannot be encoded. */
function unencodable(v: Address & { readonly kind: 'named' }): TypeError {
  return new TypeError(
    `Address: a named address (${formatIngress(v.ingress)}) has no wire form; ` +
      'encode { ingress, egress } or the ingress alone',
  );
}

/**
 * `Address`: `0x00 || SocketAddr` or `0x01 || Ingress || SocketAddr (egress)`.
 *
 * @throws TypeError when encoding a `named` address (commonware's wire form has no such variant;
 *   p2p never sends an `Address` on the wire). Decoding never yields one.
 */
export const addressCodec: Codec<Address> = {
  encodeSize: (v) => {
    if (v.kind === 'named') throw unencodable(v);
    return (
      1 +
      (v.kind === 'symmetric'
        ? socketAddrCodec.encodeSize(v.addr)
        : ingressCodec.encodeSize(v.ingress) + socketAddrCodec.encodeSize(v.egress))
    );
  },
  write: (v, w) => {
    if (v.kind === 'named') throw unencodable(v);
    if (v.kind === 'symmetric') {
      w.u8(ADDRESS_SYMMETRIC);
      socketAddrCodec.write(v.addr, w);
    } else {
      w.u8(ADDRESS_ASYMMETRIC);
      ingressCodec.write(v.ingress, w);
      socketAddrCodec.write(v.egress, w);
    }
  },
  read: (r) => {
    const tag = r.u8();
    if (tag === ADDRESS_SYMMETRIC) return { kind: 'symmetric', addr: socketAddrCodec.read(r) };
    if (tag === ADDRESS_ASYMMETRIC) {
      const ingress = ingressCodec.read(r);
      return { kind: 'asymmetric', ingress, egress: socketAddrCodec.read(r) };
    }
    throw new CodecError('InvalidEnum', `Address: invalid prefix ${tag}`, { context: 'Address' });
  },
};
