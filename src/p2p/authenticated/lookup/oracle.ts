/**
 * The application's handle on the lookup network's peer sets (commonware lookup `Oracle`:
 * `Provider + AddressableManager + Blocker`).
 *
 * Input is validated at the call, so a mistake surfaces where it was made: a malformed address,
 * a key listed twice in one role, a set larger than `maxPeersPerSet` (counting ourselves) or an
 * index that is not a non-negative safe integer throws `P2PError` (`InvalidAddress` /
 * `InvalidPeerSet`) and changes nothing. An index that does not exceed the latest registered
 * one is, as upstream, logged as a warning by the tracker and ignored (the oracle cannot know
 * the tracker's state synchronously).
 *
 * @module
 */

import type { Feedback } from '../../../actor/index.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import type { AddressInput } from '../../address.js';
import { type RegisteredAddress, registeredAddress } from '../../registered-address.js';
import type { AddressableInput, AddressableTrackedPeers, PeerAddress } from '../../types.js';
import { BaseOracle, type OracleMailbox, roles } from '../oracle.js';

export { PeerSetSubscription } from '../oracle.js';

const self = (key: PublicKey): PublicKey => key;

/**
 * A registration by columns (see {@link AddressableTrackedPeers}): the keys of each role as
 * given, and each address validated (throws `InvalidAddress` as `parseAddress`) and kept as
 * the caller's text when it is canonical (the usual `'ip:port'`: nothing allocated for it) or
 * parsed (see `RegisteredAddress`). No object per peer: the caller's pairs are read, not kept.
 *
 * @throws P2PError `InvalidPeerSet` (a key repeated in a role), `InvalidAddress`.
 */
function columns(peers: AddressableInput): AddressableTrackedPeers {
  const primaryAddresses: RegisteredAddress[] = [];
  const secondaryAddresses: RegisteredAddress[] = [];
  // `roles` keeps each key it maps, in order, so the addresses line up with the keys.
  const keys = roles(
    peers,
    (entry: readonly [PublicKey, AddressInput], role) => {
      const address = registeredAddress(entry[1]);
      (role === 'primary' ? primaryAddresses : secondaryAddresses).push(address);
      return entry[0];
    },
    self,
  );
  return Object.freeze({
    primary: keys.primary,
    primaryAddresses: Object.freeze(primaryAddresses),
    secondary: keys.secondary,
    secondaryAddresses: Object.freeze(secondaryAddresses),
  });
}

/**
 * What the lookup oracle needs from its tracker's mailbox (the tracker `Mailbox` fits it; so
 * does the simulated network's shared manager).
 */
export interface TrackerMailbox extends OracleMailbox<AddressableTrackedPeers> {
  /** Replaces the addresses of already-tracked peers. */
  overwrite(peers: readonly PeerAddress[]): Feedback;
}

/**
 * Registers peer sets, updates addresses and blocks peers. Every method returns at once; the
 * change takes effect when the tracker handles it (in call order). Methods never throw after the
 * network has stopped, nor once its context has (whether or not it was started): they report
 * `'closed'` (or resolve `undefined`, or return an ended subscription).
 */
export class Oracle extends BaseOracle<AddressableTrackedPeers, TrackerMailbox> {
  /**
   * Tracks `peers` at `index`: a list of `[publicKey, address]` (all primary), or
   * `{ primary, secondary }`. Primaries are dialed and accepted; secondaries are only accepted.
   * Indices must strictly increase: a stale index is logged as a warning and ignored. When more
   * than `trackedPeerSets` sets are retained, the lowest is evicted and peers in no retained set
   * are disconnected. A registered peer whose address changed is disconnected and redialed.
   *
   * @throws P2PError `InvalidPeerSet` (bad index, duplicate key in a role, more than
   *   `maxPeersPerSet` peers counting ourselves), `InvalidAddress` (an address does not parse).
   */
  register(index: number, peers: AddressableInput): Feedback {
    // Validated and checked here (an immediate error); sorted by the tracker, in steps.
    // Indexing, not destructuring: array destructuring runs the iterator protocol until the
    // optimising compiler has seen the call (a 65,536-peer registration mostly runs before).
    return this.track(index, () => columns(peers));
  }

  /**
   * Replaces the addresses of already-tracked peers without registering a new set. Unknown keys,
   * ourselves and unchanged addresses are ignored; a peer whose address changed is disconnected
   * (its connection was made to, or accepted from, the old address) and redialed at the new one.
   *
   * @throws P2PError `InvalidAddress` if an address does not parse (nothing is changed).
   */
  overwrite(peers: Iterable<readonly [PublicKey, AddressInput]>): Feedback {
    const parsed: PeerAddress[] = [];
    for (const [pk, address] of peers) parsed.push([pk, registeredAddress(address)]);
    return this.enqueue((tracker) => tracker.overwrite(parsed));
  }
}
