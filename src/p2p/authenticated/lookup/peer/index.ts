/**
 * The lookup peer actor: one per authenticated connection (commonware
 * `p2p/src/authenticated/lookup/actors/peer`).
 *
 * # Design
 *
 * {@link Actor.create} returns the actor, its control {@link Mailbox} (the tracker kills the
 * connection through it) and its {@link Relay} (the router queues outbound payloads on it).
 * {@link Actor.run} drives two loops over the connection: a sender that batches control > high
 * > low (plus a Ping every `pingFrequencyMs`, so an idle connection never hits the transport's
 * read timeout) into one `sendMany` of at most `sendBatchSize` frames, and a receiver that decodes,
 * rate limits and delivers. The first loop to end ends the connection.
 *
 * # Security
 *
 * - Inbound data is limited per (peer, channel) by the channel quota and inbound Pings to one per
 *   half ping period; an over-quota peer is slowed down (its receiver sleeps, so TCP pushes back
 *   on it alone), never served at the expense of others, and nothing already accepted is dropped.
 * - Data on an unregistered channel or an undecodable frame ends the connection. Metric labels
 *   come only from registered channels (`invalid` otherwise), so a peer cannot grow metric
 *   cardinality with made-up channel numbers.
 *
 * @module
 */

export { Mailbox } from '../../peer/ingress.js';
export { dataLabel, PeerMetrics, peerLabels } from '../../peer/metrics.js';
export type {
  InboundRoutes,
  PeerConnection,
  StreamReceiver,
  StreamSender,
} from '../../peer/protocol.js';
export {
  Actor,
  type Config,
  type PeerSettings,
  peerFlavour,
  type TrackerConnector,
} from './actor.js';
