/**
 * Status snapshots of a tracker (for operators: the admin endpoint's `/status`, `network.status()`):
 * the retained peer sets and one page of peers with their connection state, answered by the
 * tracker in turn with its other messages.
 *
 * @module
 */

import type { BitMap } from '../../../codec/bitmap.js';
import type { PublicKey } from '../../../crypto/ed25519.js';

/**
 * A peer's connection state: `connected` (active), `dialing` (our dial holds its reservation),
 * `reserved` (an inbound session holds it, handshaking), `disconnected` (no connection, no
 * attempt) or `blocked` (refused until `blockedUntil`).
 */
export type PeerState = 'connected' | 'dialing' | 'reserved' | 'disconnected' | 'blocked';

/** One peer as the tracker sees it. */
export interface PeerStatus {
  readonly key: PublicKey;
  /** Where we dial it (lookup: its registered address; discovery: its learned or configured ingress), if known. */
  readonly address: string | undefined;
  readonly state: PeerState;
  /** Since when it is in `state` (ms since the epoch), if known. */
  readonly since: number | undefined;
  /** When its block expires (ms since the epoch), while blocked. */
  readonly blockedUntil: number | undefined;
}

/** One retained peer set. */
export interface SetStatus {
  readonly index: number;
  readonly primary: readonly PublicKey[];
  readonly secondary: readonly PublicKey[];
  /** Discovery: our knowledge bit for each primary (set: we hold a usable signed record). */
  readonly known?: BitMap;
}

/** A tracker's answer to a status request. */
export interface TrackerStatus {
  /** The retained sets, ascending by index. */
  readonly sets: readonly SetStatus[];
  /** The page of peers asked for. */
  readonly peers: readonly PeerStatus[];
  /** Every peer the directory knows (records other than ours, plus blocked keys without one). */
  readonly total: number;
  /** Where the page starts. */
  readonly offset: number;
}
