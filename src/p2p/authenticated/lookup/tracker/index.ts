/**
 * The lookup tracker: the actor that owns the peer directory (commonware
 * `p2p/src/authenticated/lookup/actors/tracker`).
 *
 * # Design
 *
 * {@link Actor} owns a {@link Directory} (records, retained peer sets, block list) and is the
 * only code that touches it; the spawner, dialer, listener and oracle reach it through its
 * {@link Mailbox}, whose queue is reliable (nothing is dropped while the tracker runs; requests
 * resolve `undefined` once it has stopped). A {@link Reservation} is a peer's single connection
 * slot; releasing it sends a `release` message back. What both flavours' trackers share (the
 * loop, sets, blocks, reservations) lives in `../../tracker`; this folder adds lookup's
 * addresses.
 *
 * The tracker ends connections it no longer wants through each peer's control handle (kept from
 * `connect` until `release`): on a block, when a peer leaves every retained set, and when a
 * peer's address changes (`register` with a new address, or `overwrite`). It pushes the
 * listener's allow-list (the egress IPs of eligible, unblocked peers, and whether one of them
 * has no known egress IP so that any source IP is admitted) over a ring of capacity 1
 * whenever that list may change, including when a block expires, and it publishes a
 * `PeerSetUpdate` to subscribers on every accepted registration.
 *
 * @module
 */
export {
  type Dialable,
  type DialReservation,
  DirectoryMetrics,
  Metadata,
  type Releaser,
  Reservation,
} from '../../tracker/index.js';
export { Actor, type Config, type Dependencies } from './actor.js';
export {
  Directory,
  type DirectoryConfig,
  type ListenerAllowList,
  type OverwriteResult,
} from './directory.js';
export { Mailbox, type Message, type PeerControl, type Subscriber } from './ingress.js';
