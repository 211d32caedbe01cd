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
 * `named` variant, so `addressCodec` (`./address-codec.js`) refuses to encode one (TypeError).
 *
 * @module
 */

import { canonicalIp, isValidHostname } from '../codec/index.js';
import type { SocketAddr } from '../runtime/context.js';
import { fastSocketAddr } from './address-literal.js';
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

export { addressCodec, ingressCodec } from './address-codec.js';
