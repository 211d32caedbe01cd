/**
 * Strict IP literal parsing and canonical formatting (no DNS, no zone ids).
 *
 * Parsing accepts dotted-quad IPv4 (`'127.0.0.1'`; no leading zeros, as Node's `net.isIPv4`)
 * and RFC 4291 IPv6 text (`'::1'`, `'2001:DB8::1'`, `'::ffff:1.2.3.4'`): hex groups of 1-4
 * digits, at most one `::`, an optional dotted-quad in the last 32 bits. Formatting produces
 * the form Node reports for socket addresses (libuv `inet_ntop`): lower-case, leading zeros
 * dropped, the longest run of two or more zero groups (the first, on a tie) compressed to `::`
 * as RFC 5952, and dotted-quad tails for IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible
 * (`::a.b.c.d`, when exactly the first six groups are zero) addresses. Decoded addresses are
 * therefore directly comparable with `socket.remoteAddress` strings.
 */

function parseDecOctet(s: string, start: number, end: number): number {
  const len = end - start;
  if (len < 1 || len > 3) return -1;
  // A leading zero is ambiguous (octal in some parsers), so it is rejected as Node does.
  if (len > 1 && s.charCodeAt(start) === 0x30) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n > 255 ? -1 : n;
}

// Parses a dotted quad in s[start, end) into out[at..at+3]; false if invalid.
function parseIpv4Into(
  s: string,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): boolean {
  let p = start;
  for (let i = 0; i < 4; i++) {
    let q = p;
    while (q < end && s.charCodeAt(q) !== 0x2e) q++;
    if (i < 3 === q >= end) return false;
    const n = parseDecOctet(s, p, q);
    if (n < 0) return false;
    out[at + i] = n;
    p = q + 1;
  }
  return true;
}

/** Parses a dotted-quad IPv4 literal into 4 bytes, or `undefined` if it is not one. */
export function parseIpv4(s: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  return parseIpv4Into(s, 0, s.length, out, 0) ? out : undefined;
}

function parseHexGroup(g: string): number {
  if (g.length < 1 || g.length > 4) return -1;
  let n = 0;
  for (let i = 0; i < g.length; i++) {
    const c = g.charCodeAt(i);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else return -1;
    n = n * 16 + d;
  }
  return n;
}

// Parses colon-separated groups (the last may be a dotted quad if allowV4) into 16-bit words.
function parseGroups(part: string, allowV4: boolean): number[] | undefined {
  if (part === '') return [];
  const groups = part.split(':');
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (allowV4 && i === groups.length - 1 && g.includes('.')) {
      const v4 = new Uint8Array(4);
      if (!parseIpv4Into(g, 0, g.length, v4, 0)) return undefined;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      const w = parseHexGroup(g);
      if (w < 0) return undefined;
      words.push(w);
    }
  }
  return words;
}

/** Parses an IPv6 literal (no brackets, no zone id) into 16 bytes, or `undefined`. */
export function parseIpv6(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  const gap = s.indexOf('::');
  let words: number[];
  if (gap < 0) {
    const all = parseGroups(s, true);
    if (all === undefined || all.length !== 8) return undefined;
    words = all;
  } else {
    if (s.indexOf('::', gap + 1) >= 0) return undefined;
    const head = parseGroups(s.slice(0, gap), false);
    const tail = parseGroups(s.slice(gap + 2), true);
    // `::` stands for at least one zero group.
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/** Formats 4 bytes as a dotted quad. */
export function formatIpv4(b: Uint8Array): string {
  if (b.length !== 4) throw new RangeError('IPv4 address needs 4 bytes');
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** Formats 16 bytes as canonical IPv6 text (see the module notes; matches Node). */
export function formatIpv6(b: Uint8Array): string {
  if (b.length !== 16) throw new RangeError('IPv6 address needs 16 bytes');
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  // Longest run of zero words; the first wins a tie; runs of one are not compressed.
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  const v4Tail = bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff));
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && v4Tail) return `${out}${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    out += words[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** The IP family and bytes of a literal: 4 bytes for IPv4, 16 for IPv6. */
export interface ParsedIp {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

/** Parses an IPv4 or IPv6 literal, or returns `undefined`. */
export function parseIp(s: string): ParsedIp | undefined {
  if (s.includes(':')) {
    const bytes = parseIpv6(s);
    return bytes === undefined ? undefined : { family: 6, bytes };
  }
  const bytes = parseIpv4(s);
  return bytes === undefined ? undefined : { family: 4, bytes };
}

/** The canonical text of an IP literal (what a decode of its encoding yields), or `undefined`. */
export function canonicalIp(s: string): string | undefined {
  const ip = parseIp(s);
  if (ip === undefined) return undefined;
  return ip.family === 4 ? formatIpv4(ip.bytes) : formatIpv6(ip.bytes);
}
