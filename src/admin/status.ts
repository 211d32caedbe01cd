/**
 * The JSON the admin endpoint serves at `/status` (API.md "Operating a node"), built from a
 * network's {@link NetworkStatus} page.
 *
 * @module
 */

import type { BitMap } from '../codec/bitmap.js';
import { formatSocketAddr } from '../p2p/address.js';
import {
  MAX_STATUS_PAGE,
  type NetworkStatus,
  STATUS_PAGE,
  type StatusOptions,
} from '../p2p/authenticated/status.js';
import type { PeerState } from '../p2p/authenticated/tracker/status.js';
import type { SocketAddr } from '../runtime/context.js';

/** One peer in `/status`. Times are ms since the epoch or null; `address` is null when unknown. */
export interface PeerJson {
  readonly key: string;
  readonly address: string | null;
  readonly state: PeerState;
  readonly since: number | null;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly rateLimited: number;
  readonly dropped: number;
  readonly blockedUntil: number | null;
}

/** One retained set in `/status`. */
export interface SetJson {
  readonly index: number;
  readonly primary: readonly string[];
  readonly secondary: readonly string[];
  /** Discovery: a `0`/`1` per primary, `1` where we hold its signed record. */
  readonly known?: string;
}

/** Traffic of one channel in `/status`. */
export interface ChannelJson {
  readonly channel: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly dropped: number;
}

/** The `/status` document. */
export interface StatusJson {
  readonly key: string;
  readonly network: 'lookup' | 'discovery';
  readonly listen: string;
  readonly sets: readonly SetJson[];
  readonly peers: readonly PeerJson[];
  readonly total: number;
  readonly offset: number;
  /** When the snapshot was taken (ms since the epoch). */
  readonly at: number;
  readonly channels: readonly ChannelJson[];
  readonly handshakes: NetworkStatus['handshakes'];
}

/** A `0`/`1` string of `bits`. */
export function bitString(bits: BitMap): string {
  let s = '';
  for (let i = 0; i < bits.length; i++) s += bits.get(i) ? '1' : '0';
  return s;
}

/** `/status` from a network's snapshot; `listen` is the bound address (or the configured one). */
export function statusJson(
  status: NetworkStatus,
  flavour: 'lookup' | 'discovery',
  listen: SocketAddr,
  at: number,
): StatusJson {
  return {
    key: status.key.toHex(),
    network: flavour,
    listen: formatSocketAddr(listen),
    sets: status.sets.map((s) => ({
      index: s.index,
      primary: s.primary.map((k) => k.toHex()),
      secondary: s.secondary.map((k) => k.toHex()),
      ...(s.known === undefined ? {} : { known: bitString(s.known) }),
    })),
    peers: status.peers.map((p) => ({
      key: p.key.toHex(),
      address: p.address ?? null,
      state: p.state,
      since: p.since ?? null,
      messagesIn: p.messagesIn,
      messagesOut: p.messagesOut,
      bytesIn: p.bytesIn,
      bytesOut: p.bytesOut,
      rateLimited: p.rateLimited,
      dropped: p.dropped,
      blockedUntil: p.blockedUntil ?? null,
    })),
    total: status.total,
    offset: status.offset,
    at,
    channels: status.channels.map(([channel, t]) => ({
      channel,
      messagesIn: t.messagesIn,
      messagesOut: t.messagesOut,
      dropped: t.dropped,
    })),
    handshakes: status.handshakes,
  };
}

/**
 * The paging of a `/status` query (`?offset=&limit=`, defaults 0 and 1,000), or a message saying
 * what is wrong with it.
 */
export function pageOf(query: URLSearchParams): StatusOptions | string {
  const num = (name: string, fallback: number, max: number): number | string => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    if (!/^[0-9]{1,15}$/.test(raw)) return `${name} must be a non-negative integer`;
    const n = Number(raw);
    return n > max ? `${name} must be at most ${max}` : n;
  };
  const offset = num('offset', 0, Number.MAX_SAFE_INTEGER);
  if (typeof offset === 'string') return offset;
  const limit = num('limit', STATUS_PAGE, MAX_STATUS_PAGE);
  if (typeof limit === 'string') return limit;
  return { offset, limit };
}
