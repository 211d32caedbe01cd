/**
 * The application's handle on the discovery network's peer sets (commonware discovery `Oracle`:
 * `Provider + Manager + Blocker`).
 *
 * A discovery registration carries keys only: addresses are learned from the peers' signed
 * records through gossip. Input is validated at the call, so a mistake surfaces where it was
 * made: a key listed twice in one role, a set larger than `maxPeersPerSet` (counting ourselves)
 * or an index that is not a non-negative safe integer throws `P2PError('InvalidPeerSet')` and
 * changes nothing. An index that does not exceed the latest registered one is, as upstream,
 * logged as a warning by the tracker and ignored.
 *
 * @module
 */

import type { Feedback } from '../../../actor/index.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import type { TrackedPeers } from '../../types.js';
import { BaseOracle, type OracleMailbox, roles } from '../oracle.js';

export { PeerSetSubscription } from '../oracle.js';

/** What the discovery oracle needs from the tracker's mailbox (the tracker `Mailbox` fits it). */
export type TrackerMailbox = OracleMailbox<TrackedPeers>;

/** What callers may pass to {@link Oracle.register}: a key list (all primary) or both roles. */
export type PeerSetInput =
  | Iterable<PublicKey>
  | { readonly primary: Iterable<PublicKey>; readonly secondary?: Iterable<PublicKey> };

/**
 * Normalises a registration: a bare list is primary-only; lists stay in the order given (the
 * tracker sorts them, in steps, and counts a key in both roles as primary).
 *
 * @throws P2PError `InvalidPeerSet` if a key repeats within one role.
 */
export function trackedPeers(input: PeerSetInput): TrackedPeers {
  return roles(
    input,
    (k: PublicKey) => k,
    (k) => k,
  );
}

/**
 * Registers peer sets and blocks peers. Every method returns at once; the change takes effect
 * when the tracker handles it (in call order). Methods never throw after the network has
 * stopped, nor once its context has (whether or not it was started): they report `'closed'` (or
 * resolve `undefined`, or return an ended subscription).
 */
export class Oracle extends BaseOracle<TrackedPeers, TrackerMailbox> {
  /**
   * Tracks `peers` at `index`: a key list (all primary), or `{ primary, secondary }`. Primaries
   * are dialed, accepted and gossiped about (they are the bits of the set's BitVec);
   * secondaries are only accepted inbound, receive `Recipients.all()` traffic once connected,
   * and are never dialed. Indices must strictly increase: a stale index is logged as a warning
   * and ignored. When more than `trackedPeerSets` sets are retained, the lowest is evicted and
   * peers in no retained set are disconnected.
   *
   * @throws P2PError `InvalidPeerSet` (bad index, duplicate key in a role, more than
   *   `maxPeersPerSet` peers counting ourselves).
   */
  register(index: number, peers: PeerSetInput): Feedback {
    return this.track(index, () => trackedPeers(peers));
  }
}
