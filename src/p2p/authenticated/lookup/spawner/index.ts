/**
 * The lookup spawner: the actor that turns authenticated connections into running peer actors
 * (commonware `p2p/src/authenticated/lookup/actors/spawner`).
 *
 * # Design
 *
 * The dialer and the listener hand over each connection with its tracker reservation through
 * {@link Mailbox.spawn} (bounded by `mailboxSize`; a rejected spawn releases the reservation and
 * closes the connection). For each, the spawner makes a relay and a peer actor, reports the
 * connection to the tracker (which may kill it), registers the relay with the router, runs the
 * peer, and on exit releases the router entry, closes the connection and releases the
 * reservation. It also owns the `messages_sent`, `messages_received` and
 * `messages_rate_limited` counters (labels `peer`, `message`) shared by all peers.
 *
 * @module
 */
export {
  type RouterLifecycle,
  Spawner,
  type SpawnerConfig,
  type SpawnerSettings,
  type TrackerConnector,
} from './actor.js';
export { Mailbox, type Message, type Releasable } from './ingress.js';
