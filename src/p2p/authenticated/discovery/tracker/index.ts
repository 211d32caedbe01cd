/**
 * The discovery tracker: the actor that owns the peer directory (commonware
 * `p2p/src/authenticated/discovery/actors/tracker`).
 *
 * # Design
 *
 * {@link Actor} owns a {@link Directory} (records, retained peer sets with knowledge bits, block
 * list) and is the only code that touches it; the spawner, the peer actors, the dialer, the
 * listener and the oracle reach it through its {@link Mailbox}, whose queue is reliable. What both
 * flavours' trackers share (the loop, sets, blocks, reservations) lives in `../../tracker`, which
 * also exports the `Dialable`, `DialReservation`, `Reservation` and `Metadata` the dialer,
 * listener and spawner use.
 *
 * Peers learn each other's addresses by gossip. Each node signs its own `Info` (ingress and
 * timestamp) at startup; the spawner gets it from `connect` and sends it as the greeting. A
 * peer actor periodically asks the tracker to `construct` a `BitVec` (which primaries of a random
 * retained set we know) and forwards the peer's `BitVec`s, which the tracker answers with the
 * sharable `Info`s (ours, or those of peers we are connected to) the peer lacks, at most
 * `peerGossipMaxCount`. Received `Info`s replace older ones for keys already tracked.
 * Bootstrappers are persistent and dialed at once; only primaries (and bootstrappers) are
 * dialed, secondaries are accepted.
 *
 * # Security
 *
 * All peers must agree on each set's composition: a `BitVec` whose length differs from the
 * set's size kills the connection. The tracker does not verify signatures (the peer actor does)
 * and never re-gossips an `Info` dated in the future. An old but valid `Info` of a bootstrapper
 * replayed by an attacker costs at most `dialFailLimit` failed dials: the bootstrapper's
 * configured ingress stays a fallback (see `record.ts`).
 *
 * @module
 */
export { Actor, type Config, type Dependencies } from './actor.js';
export { BitSet } from './bitset.js';
export { Directory, type DirectoryConfig, type InfosResult } from './directory.js';
export type { BitVec, InfoLike } from './info.js';
export { Mailbox, type Message, type PeerControl, type Subscriber } from './ingress.js';
export { Record, type RecordAddress, type RecordView } from './record.js';
