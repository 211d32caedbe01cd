/**
 * Status snapshots of a network (what `network.status()` answers and the admin endpoint serves):
 * the tracker's sets and page of peers, joined with the traffic totals and listener counters.
 *
 * @module
 */

import type { PublicKey } from '../../crypto/ed25519.js';
import type { SocketAddr } from '../../runtime/context.js';
import type { PeerStatus, SetStatus, TrackerStatus } from './tracker/status.js';
import type { Traffic } from './traffic.js';

/** Peers per status page unless asked otherwise. */
export const STATUS_PAGE = 1000;

/** The most peers a status page may hold. */
export const MAX_STATUS_PAGE = 10_000;

/** What a network answers status requests from: its tracker's mailbox. */
export interface StatusSource {
  status(offset: number, limit: number): Promise<TrackerStatus | undefined>;
}

/** One peer in a {@link NetworkStatus}: the tracker's view plus its traffic totals. */
export interface PeerTrafficStatus extends PeerStatus, Readonly<Traffic> {}

/** A snapshot of a running network, one page of peers at a time (see `BaseNetwork.status`). */
export interface NetworkStatus {
  /** Our public key. */
  readonly key: PublicKey;
  /** The configured listen address. */
  readonly listen: SocketAddr;
  /** The retained peer sets, ascending by index (discovery: with our knowledge bits). */
  readonly sets: readonly SetStatus[];
  /** The page of peers, with their traffic totals. */
  readonly peers: readonly PeerTrafficStatus[];
  /** Peers the tracker knows in all (records other than ours, plus blocked keys without one). */
  readonly total: number;
  /** Where the page starts. */
  readonly offset: number;
  /** Traffic totals per registered channel that carried any, ascending by channel. */
  readonly channels: readonly (readonly [number, Readonly<Traffic>])[];
  /** The listener's refusals so far, by reason class (its counters). */
  readonly handshakes: HandshakeCounts;
}

/** The listener's counters, by reason class (see `ListenerMetrics`). */
export interface HandshakeCounts {
  /** Source IP not allowed (`handshakes_blocked`). */
  readonly blocked: number;
  /** Refused by the concurrency, per-IP or per-subnet limits (`handshake_*_rate_limited`). */
  readonly rateLimited: number;
  /** Admitted but closed without a session: failed, refused or timed out (`handshakes_failed`). */
  readonly failed: number;
}

/** Paging of `BaseNetwork.status`. */
export interface StatusOptions {
  /** Peers to skip (default 0). */
  readonly offset?: number;
  /** Most peers in the page (default `STATUS_PAGE`, at most `MAX_STATUS_PAGE`). */
  readonly limit?: number;
}
