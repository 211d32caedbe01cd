/**
 * A lookup peer's address as the lookup oracle hands it to the tracker and the tracker keeps it:
 * a {@link RegisteredAddress}, either the caller's own text (when it is already the canonical
 * text of a symmetric or named address, the usual `'ip:port'`) or a parsed {@link Address}
 * (objects, and texts that are valid but not canonical).
 *
 * Why: a 65,536-peer registration used to parse every address into an `Address` at the call
 * (two objects and an IP string per peer, ~110 B), all of it new and kept, so the next
 * collection of the young generation copied ~11 MB (a 7-14 ms pause inside the tracker's
 * registration) and the parse held the caller's turn for ~30 ms. Checking a canonical text
 * allocates nothing ({@link canonicalSocketText}) and keeping it keeps the caller's string
 * (immutable), so the registration retains no new object per address. The validation is the
 * same strict grammar as {@link parseAddress} (a bad address still throws `InvalidAddress` at
 * the call); the text is parsed when it is used: to dial, to check an inbound source IP, for
 * the listener's allow-list.
 *
 * One address has one text form: IP text is canonical (lower case, RFC 5952), ports have no
 * leading zeros, hostnames compare exactly (as upstream). So two texts of the same address are
 * equal strings, or one of them is not canonical and is kept parsed; {@link sameAddress}
 * compares any two forms, texts as strings, objects with {@link addressEquals}, a text against
 * an object by parsing the text.
 *
 * @module
 */

import { isValidHostname } from '../codec/index.js';
import {
  type Address,
  type AddressInput,
  addressEquals,
  egressIp,
  formatIngress,
  type Ingress,
  ingressOf,
  isDialable,
  parseAddress,
} from './address.js';
import { canonicalSocketText, fastPort } from './address-literal.js';
import { isGlobal } from './net.js';

/**
 * A registered address: the canonical text of a symmetric (`'ip:port'`, `'[v6]:port'`) or named
 * (`'hostname:port'`) address, or a parsed {@link Address}. Made by {@link registeredAddress}.
 */
export type RegisteredAddress = string | Address;

/** Whether `text` is `'hostname:port'` with a canonical port and a valid, non-numeric hostname. */
function isNamedText(text: string): boolean {
  const colon = text.lastIndexOf(':');
  // The port: decimal, no leading zero, at most 65535 (as the socket-address scanners).
  if (colon <= 0 || fastPort(text, colon + 1) < 0) return false;
  // Digits and dots only would be a (malformed) IPv4 literal, not a name (as `parseIngress`).
  let numeric = true;
  for (let i = 0; i < colon && numeric; i++) {
    const c = text.charCodeAt(i);
    numeric = c === 0x2e || (c >= 0x30 && c <= 0x39);
  }
  return !numeric && isValidHostname(text.slice(0, colon));
}

/**
 * Validates `input` as {@link parseAddress} does and returns its registered form: `input`
 * itself when it is the canonical text of a symmetric or named address (nothing allocated for
 * `'ip:port'` and `'[v6]:port'`), else `parseAddress(input)`.
 *
 * @throws P2PError `InvalidAddress`, exactly where {@link parseAddress} would.
 */
export function registeredAddress(input: AddressInput): RegisteredAddress {
  if (typeof input === 'string' && (canonicalSocketText(input) >= 0 || isNamedText(input))) {
    return input;
  }
  return parseAddress(input);
}

/** `address` as an {@link Address} (a text is parsed: a new object on every call). */
export function toAddress(address: RegisteredAddress): Address {
  return typeof address === 'string' ? parseAddress(address) : address;
}

/** Whether two registered forms are the same address (see the module documentation). */
export function sameAddress(a: RegisteredAddress, b: RegisteredAddress): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string') return false;
  return addressEquals(toAddress(a), toAddress(b));
}

/**
 * Where the IP of a registered text ends: the `]` of `'[v6]:port'`, the `:` of
 * `'a.b.c.d:port'`; -1 for `'hostname:port'`. Only for texts {@link registeredAddress} kept
 * (already validated, so a host of digits and dots is a dotted quad): no full scan.
 */
function textIpEnd(text: string): number {
  if (text.charCodeAt(0) === 0x5b) return text.indexOf(']');
  const colon = text.lastIndexOf(':');
  for (let i = 0; i < colon; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x2e && (c < 0x30 || c > 0x39)) return -1;
  }
  return colon;
}

/**
 * The IP a peer registered at `address` connects from, or `undefined` for a named address (see
 * `egressIp` of `./address.js`). A text's IP is a new substring.
 */
export function registeredEgressIp(address: RegisteredAddress): string | undefined {
  if (typeof address !== 'string') return egressIp(address);
  const end = textIpEnd(address);
  if (end < 0) return undefined;
  return address.charCodeAt(0) === 0x5b ? address.slice(1, end) : address.slice(0, end);
}

/** Where to dial a peer registered at `address` (a text is parsed). */
export function registeredIngress(address: RegisteredAddress): Ingress {
  return ingressOf(toAddress(address));
}

/**
 * {@link isDialable} of a registered form: with private IPs allowed a socket-address text is
 * dialable without parsing it; otherwise its IP is checked with `isGlobal`.
 */
export function isRegisteredDialable(
  address: RegisteredAddress,
  allowPrivateIps: boolean,
  allowDns: boolean,
): boolean {
  if (typeof address !== 'string') return isDialable(address, allowPrivateIps, allowDns);
  if (textIpEnd(address) < 0) return allowDns;
  return allowPrivateIps || isGlobal(registeredEgressIp(address)!);
}

/**
 * The text a status page shows for where the peer is dialed (`formatIngress` of its ingress):
 * a text is already that text.
 */
export function formatRegisteredIngress(address: RegisteredAddress): string {
  return typeof address === 'string' ? address : formatIngress(ingressOf(address));
}
