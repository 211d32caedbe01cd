/**
 * The router: the actor that knows which peers are connected and routes every outbound message
 * to their relays (commonware `p2p/src/authenticated/router`, shared by both flavours).
 *
 * # Design
 *
 * The spawner reports each connection with `ready(peer, relay)` and its end with
 * `release(peer)`. Channel senders submit `content(recipients, encoded, priority)`: the payload is
 * encoded once and the router hands the same bytes to each connected recipient's relay
 * (`one`/`some`: only those currently connected, duplicates once; `all`: every connected peer).
 * Subscribers of {@link Mailbox.subscribePeers} receive a sorted snapshot of the connected peers
 * on every change (a ring of capacity 1: only the latest matters); channel senders use it to
 * keep only connected recipients (and to expand `Recipients.all()`) before rate limiting.
 *
 * # Backpressure
 *
 * - The router mailbox is bounded (`mailboxSize` plus the channels' inbound capacities); when it
 *   is full `content` is rejected (`'dropped'`) while `ready`/`release`/`subscribePeers` are always
 *   retained.
 * - Relay sends never wait: a peer whose queue is full loses its copy (counted in
 *   `relay_high_backoff` / `relay_low_backoff`), and every other recipient is served as usual.
 *
 * @module
 */
export { Actor, type Config } from './actor.js';
export { Mailbox, type Message, type PeerSnapshot, routerPolicy } from './ingress.js';
