/**
 * The simulated network (`authp2p/simulated`): many peers in one process, on the runtime's
 * clock and RNG, with latency, jitter, loss, partitions, bandwidth and Byzantine twins (a port
 * of commonware `p2p::simulated`). An application written against a lookup or discovery oracle
 * and the channel `Sender`/`Receiver` runs on it unchanged; on the deterministic runtime, a
 * whole multi-peer scenario replays exactly from its seed.
 *
 * # Design
 *
 * `Network.create(ctx, config)` returns the network and its {@link Oracle}. There are no
 * sockets and no handshakes: a peer is a public key, and everything about it is set through the
 * oracle, at any time, before or after `network.start()`:
 *
 * - `oracle.control(pk).register(channel, quota)` returns the same `Sender` and `Receiver` the
 *   real networks return (the shared `Channels` registry, bound to a per-registration endpoint
 *   instead of a router): outbound quota per recipient, `MessageTooLarge`, `Recipients`
 *   one/some/all, priority, `sentTo`. Registering a channel again replaces the first
 *   registration (its receiver ends with `NetworkClosed`).
 * - `oracle.manager()` and `oracle.socketManager()` are a real discovery and a real lookup
 *   `Oracle` over the network's one window of `trackedPeerSets` peer sets (addresses ignored).
 * - `oracle.addLink(from, to, { latency, jitter, successRate })` adds a one-way link,
 *   `removeLink` cuts it (a partition), `addLinks` adds many at once; `limitBandwidth(pk,
 *   egress, ingress)` caps a peer in bytes per second.
 *
 * Peer `p` is connected to `q` when both are in a tracked set, a link runs from `p` to `q`, and
 * (with `disconnectOnBlock`) neither blocks the other. That definition is
 * `oracle.control(p).connected()`, what `control(p).events()` reports, and what `p`'s senders
 * reach: `sentTo` lists the connected recipients within quota, `Recipients.all()` is every
 * connected peer.
 *
 * One task (`simulated`) runs the network. Senders queue their sends into one bounded ingress
 * queue (`mailboxSize`; a full queue makes `send` return `[]`); the task handles them in
 * batches, high priority first, drawing each recipient's latency (Normal(latency, jitter),
 * whole ms, at least 0) and fate (`successRate`) from `ctx.rng`, and hands them to the
 * transmitter. Messages of one (origin, recipient) pair arrive in the order sent. Without caps a
 * message arrives after its latency (never before its predecessor); with caps, concurrent
 * transmissions share every egress and ingress max-min fairly (progressive filling, computed in
 * exact rationals so long runs do not drift), and a message arrives when its transmission ends
 * plus its latency; a lost message still uses its sender's egress. Arrivals wait in a timeline
 * keyed by time (bounded by `maxInFlight`), and the task sleeps on `ctx.clock` until the next
 * one, then delivers into the recipient's channel queue (bounded by `maxPeersPerSet *
 * trackedPeerSets * quota.burstSize`; a full queue drops the newest message). Oracle calls take
 * effect at the call, after the sends already queued: a link removed after a send does not
 * affect it. Messages in flight survive link changes; they are dropped at arrival if the pair
 * is by then blocked or untracked, or if the recipient has no such channel.
 *
 * `handle.stop()` ends the task: receivers reject with `NetworkClosed`, senders return `[]`,
 * every `events()` stream ends, link calls reject with `NetworkClosed`, the managers report
 * `'closed'`.
 *
 * Metrics (under `ctx`'s prefix): `messages_sent{origin, channel}` (one per recipient
 * attempted), `messages_received{recipient, channel}`, `messages_dropped{reason}`. There is no
 * series per pair.
 *
 * # Twins
 *
 * {@link splitSender} and {@link splitReceiver} give one identity two application instances:
 * a forwarder picks each twin's recipients, a router picks which twin hears each message, so a
 * test can make a peer equivocate (reference section 11, `split_with`).
 *
 * # Example
 *
 * ```ts
 * import { ed25519 } from 'authp2p/crypto';
 * import { deterministicRuntime } from 'authp2p/runtime';
 * import { Network, Quota, Recipients } from 'authp2p/simulated';
 *
 * const [a, b] = [1n, 2n].map((s) => ed25519.PrivateKey.fromSeed(s).publicKey);
 * const { result, digest } = await deterministicRuntime({ seed: 7 }).run(async (ctx) => {
 *   const [network, oracle] = Network.create(ctx, {
 *     maxSize: 1024, maxPeersPerSet: 8, disconnectOnBlock: true, trackedPeerSets: 1 });
 *   const handle = network.start();
 *   oracle.manager().register(0, [a!, b!]);
 *   await oracle.addLink(a!, b!, { latency: 50, jitter: 10, successRate: 1 });
 *   const [sender] = oracle.control(a!).register(0, Quota.perSecond(10));
 *   const [, receiver] = oracle.control(b!).register(0, Quota.perSecond(10));
 *   sender.send(Recipients.all(), new TextEncoder().encode('hi'), false);
 *   const [from, message] = await receiver.recv();
 *   handle.stop();
 *   return `${from.equals(a!)} ${new TextDecoder().decode(message)}`;
 * });
 * console.log(result); // 'true hi', and the same digest for seed 7 every time
 * ```
 *
 * @module authp2p/simulated
 */

export { Quota } from '../../quota/index.js';
export type { ChannelMessage, Receiver, Sender } from '../authenticated/channels.js';
export { P2PError, type P2PErrorCode } from '../errors.js';
export type { ConnectionEvent, ConnectionEventKind } from '../events.js';
export { type PeerSetUpdate, Recipients, TrackedPeers } from '../types.js';
export { type Config, MAX_SIZE } from './config.js';
export type { LinkOptions } from './link.js';
export type { DropReason } from './metrics.js';
export { Network } from './network.js';
export { Control, Oracle } from './oracle.js';
export type { DisconnectReason } from './peers.js';
export {
  type SplitForwarder,
  type SplitOrigin,
  type SplitRouter,
  SplitSender,
  type SplitTarget,
  splitReceiver,
  splitSender,
} from './split.js';
