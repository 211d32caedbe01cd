/**
 * What both flavours' trackers share (commonware `discovery/actors/tracker` and
 * `lookup/actors/tracker` side by side).
 *
 * # Design
 *
 * A tracker is one actor owning a directory of per-peer records. Both flavours keep the same
 * machinery: a {@link Reservation} is a peer's single connection slot, described by
 * {@link Metadata} (dialer or listener) and released back to the tracker by message; the
 * {@link BlockList} holds expiring blocks keyed by public key; the {@link PeerSetWindow} retains
 * the latest `trackedPeerSets` peer sets with strictly increasing indices; {@link RecordBase}
 * is the connection state machine (`inert` -> `reserved` -> `active` -> `inert`) with set
 * reference counts and the cooldown and jittered dial timers; {@link DirectoryBase} ties these
 * together with the {@link DirectoryMetrics}; {@link ActorBase} is the loop (block-expiry
 * wake-up first, then messages in order) with every handler that does not depend on the
 * flavour, and {@link MailboxBase} the matching mailbox methods.
 *
 * A flavour extends these with what differs: lookup's registered addresses, stale connections,
 * `overwrite` and listener allow-list; discovery's bootstrappers, signed `Info`s, knowledge bits
 * and gossip. The dialer, listener and spawner type against the shared {@link Dialable},
 * {@link DialReservation}, {@link Reservation} and {@link Metadata}, so one implementation of
 * each can serve both flavours.
 *
 * @module
 */
export { ActorBase, type ActorDirectory } from './actor.js';
export { BlockList } from './blocks.js';
export { DirectoryBase } from './directory.js';
export {
  type Killable,
  MailboxBase,
  SHARED_TYPES,
  type SharedMessage,
  type Subscriber,
} from './ingress.js';
export { Metadata } from './metadata.js';
export { DirectoryMetrics } from './metrics.js';
export {
  containsHex,
  difference,
  differenceSteps,
  indexOfHex,
  PeerSetWindow,
  type StoredSet,
  sortedKeysSteps,
  sortedUnique,
  trackedPeers,
  trackedPeersSteps,
  union,
  unionSteps,
} from './peer-sets.js';
export {
  type DialStatus,
  type JitterRng,
  RecordBase,
  type RecordBaseView,
  type ReserveResult,
  type Status,
} from './record.js';
export { type Releaser, Reservation } from './reservation.js';
export type { PeerState, PeerStatus, SetStatus, TrackerStatus } from './status.js';
export { CHUNK, PAUSE, runSteps, type Steps } from './steps.js';
export type {
  Activation,
  Admission,
  Dialable,
  DialReservation,
  DirectoryConfig,
  DirectoryDependencies,
  Inbound,
  ReleaseResult,
} from './types.js';
