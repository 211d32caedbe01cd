/**
 * The fast paths of the address parsers (`./address.ts`): `'a.b.c.d:port'` and `'[v6]:port'`
 * already in canonical form, read in one pass over the characters with no regular expression and
 * no intermediate strings or objects beyond the result. Anything else returns `undefined`, and
 * the general parser then parses it or rejects it with its specific message. A 65,536-peer
 * lookup registration checks every address in the caller's turn, so this is its main cost; the
 * scanners ({@link canonicalSocketText}) check a text without allocating anything, for callers
 * that keep the text itself.
 *
 * @module
 */

import type { SocketAddr } from '../runtime/context.js';

/**
 * The decimal port in `input[from, end)` (no sign, no leading zero, <= 65535), or -1. For the
 * fast paths: no regular expression, no substring.
 */
export function fastPort(input: string, from: number): number {
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
 * The end of a canonical dotted quad at the start of `input` followed by `:` (the colon's
 * index), or -1: one pass over the characters, no regular expression, nothing allocated. A
 * dotted quad without leading zeros is already canonical, so the IP text is `input`'s prefix.
 */
function ipv4End(input: string): number {
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
    if (len === 0 || len > 3 || value > 255) return -1;
    if (len > 1 && input.charCodeAt(start) === 0x30) return -1;
    // Three dots, then the colon before the port.
    if (i >= n || input.charCodeAt(i) !== (octet < 3 ? 0x2e : 0x3a)) return -1;
    i++;
  }
  return i - 1;
}

/**
 * The fast path of the parsers for the common plain `'a.b.c.d:port'` ({@link ipv4End}, then
 * the port). Returns `undefined` for anything else (IPv6, hostnames, and every malformed input),
 * which the general path then parses or rejects with its specific message.
 */
function fastIpv4(input: string): SocketAddr | undefined {
  const colon = ipv4End(input);
  const port = colon < 0 ? -1 : fastPort(input, colon + 1);
  return port < 0 ? undefined : Object.freeze({ ip: input.slice(0, colon), port });
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
 * The index of the `]` of a `'[v6]:port'` whose IPv6 text is already canonical (lower case, no
 * leading zeros, `::` exactly on the longest run of two or more zero groups, no dotted-quad
 * tail) and whose port is canonical too, or -1: one pass, nothing allocated. Anything else
 * (including every malformed input and canonical forms with a dotted-quad tail) gives -1.
 */
function ipv6Close(input: string): number {
  if (input.charCodeAt(0) !== 0x5b) return -1;
  const close = input.indexOf(']');
  if (close < 0 || input.charCodeAt(close + 1) !== 0x3a) return -1;
  if (fastPort(input, close + 2) < 0) return -1;
  let i = 1;
  let count = 0;
  let gap = -1;
  if (input.charCodeAt(1) === 0x3a) {
    if (input.charCodeAt(2) !== 0x3a) return -1;
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
      if (c >= 0x41 && c <= 0x46) return -1;
      value = value * 16 + d;
    }
    const len = i - start;
    if (len === 0 || len > 4 || count === 8) return -1;
    if (len > 1 && input.charCodeAt(start) === 0x30) return -1;
    WORDS[count++] = value;
    if (i === close) break;
    // A group ends at a colon (a dot, a zone id or anything else: the general path).
    if (input.charCodeAt(i) !== 0x3a) return -1;
    i++;
    if (input.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return -1;
      gap = count;
      i++;
    } else if (i === close) {
      return -1;
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return -1;
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
  if (bestLen < 2 ? gap >= 0 : gap !== bestBase || zeros !== bestLen) return -1;
  // IPv4-mapped and -compatible addresses are written with a dotted quad: the general path.
  const fifth = bestLen === 5 && WORDS[count - 3] === 0xffff;
  if (bestBase === 0 && (bestLen === 6 || fifth)) return -1;
  return close;
}

/** The fast path for a canonical `'[v6]:port'` ({@link ipv6Close}); else `undefined`. */
function fastIpv6(input: string): SocketAddr | undefined {
  const close = ipv6Close(input);
  if (close < 0) return undefined;
  return Object.freeze({ ip: input.slice(1, close), port: fastPort(input, close + 2) });
}

/** {@link fastIpv4}, then {@link fastIpv6}. */
export function fastSocketAddr(input: string): SocketAddr | undefined {
  return input.charCodeAt(0) === 0x5b ? fastIpv6(input) : fastIpv4(input);
}

/**
 * Where the IP of a canonical socket-address text ends, without allocating: for
 * `'a.b.c.d:port'` the index of the colon (the IP is `[0, end)`), for `'[v6]:port'` the index of
 * the `]` (the IP is `[1, end)`); -1 if `input` is not a socket address in canonical form (the
 * forms the fast paths take: anything else, valid or not, gives -1).
 */
export function canonicalSocketText(input: string): number {
  if (input.charCodeAt(0) === 0x5b) return ipv6Close(input);
  const colon = ipv4End(input);
  return colon < 0 || fastPort(input, colon + 1) < 0 ? -1 : colon;
}
