/**
 * The spawner: the actor that turns authenticated connections into running peer actors, for both
 * flavours (commonware `p2p/src/authenticated/{discovery,lookup}/actors/spawner`).
 *
 * # Design
 *
 * The dialer and the listener hand over each connection with its tracker reservation through
 * {@link Mailbox.spawn} (bounded by `mailboxSize`; a rejected spawn releases the reservation and
 * closes the connection). For each, the spawner makes a relay and the flavour's peer actor, reports
 * the connection to the flavour's tracker (which may refuse or kill it), registers the relay with the router, runs the
 * peer, and on exit releases the router entry, closes the connection and releases the
 * reservation. It also owns the `messages_sent`, `messages_received` and
 * `messages_rate_limited` counters (labels `peer`, `message`) shared by all peers.
 *
 * @module
 */
export {
  type PeerFlavour,
  type RouterLifecycle,
  type SharedPeerMetrics,
  Spawner,
  type SpawnerConfig,
} from './actor.js';
export { Mailbox, type Message, type Releasable } from './ingress.js';
