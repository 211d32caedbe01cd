/**
 * The configuration and result types both trackers' directories share. The dialer, listener and
 * spawner of either flavour type against {@link Dialable} and {@link DialReservation}.
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Ingress } from '../../address.js';
import type { DirectoryMetrics } from './metrics.js';
import type { JitterRng } from './record.js';
import type { Releaser, Reservation } from './reservation.js';

// ---------- Configuration ----------

/** The directory configuration both flavours share, taken from the network `Config`. */
export interface DirectoryConfig {
  /** Whether non-global IPs may be dialed and accepted. */
  readonly allowPrivateIps: boolean;
  /** Whether DNS ingress addresses may be dialed. */
  readonly allowDns: boolean;
  /** How many peer sets are retained (the lowest index is evicted beyond this). At least 1. */
  readonly trackedPeerSets: number;
  /** Maximum distinct peers per set, counting ourselves (+1 if we are not in the set). */
  readonly maxPeersPerSet: number;
  /** Minimum time between two reservations of one peer (ms). */
  readonly peerConnectionCooldownMs: number;
  /** How long a block lasts (ms). */
  readonly blockDurationMs: number;
  /**
   * How long (ms) a new session may still be replaced by the other direction's simultaneous
   * session (the whole-handshake deadline); older sessions are never replaced. Default 5000.
   */
  readonly handshakeTimeoutMs?: number;
}

/** What a directory takes besides its configuration. */
export interface DirectoryDependencies {
  /** Randomness for dial jitter. */
  readonly rng: JitterRng;
  /** Called when a {@link Reservation} is released (the actor turns it into a message). */
  readonly releaser: Releaser;
  /** Metrics; {@link DirectoryMetrics.noop} if omitted. */
  readonly metrics?: DirectoryMetrics;
}

// ---------- Results ----------

/** Result of a directory's `dialable`. */
export interface Dialable {
  /** Peers that may be dialed now, sorted by key. */
  readonly peers: PublicKey[];
  /** The earliest time (ms) another peer may become dialable, if any will. */
  readonly nextQueryAt: number | undefined;
}

/** A dial reservation and where to dial. */
export interface DialReservation {
  readonly reservation: Reservation;
  readonly ingress: Ingress;
}

/**
 * Outcome of {@link DirectoryBase.release}: `released`, or a bookkeeping slip (a release for a
 * key with no record, or for a record that holds no reservation). A slip changes nothing; the
 * actor logs and counts it.
 */
export type ReleaseResult = 'released' | 'superseded' | 'unknown' | 'inert';

/**
 * What {@link DirectoryBase.admit} decided about an authenticated session: take the free slot,
 * take it over from a pending dial, supersede the other direction's session (whose connection
 * the caller must kill), or refuse.
 */
export type Admission = 'reserve' | 'takeOver' | 'supersede' | 'refuse';

/** A granted inbound reservation, and whether it superseded a live connection (to be killed). */
export interface Inbound {
  readonly reservation: Reservation;
  readonly supersedes: boolean;
}

/** What {@link DirectoryBase.activate} did: connected (maybe superseding a live one), or refused. */
export type Activation = 'connected' | 'superseded' | 'refused';
