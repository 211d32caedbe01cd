/**
 * The lookup network object (commonware `lookup/network.rs`): explicit wiring of the tracker,
 * router, spawner, listener and dialer around the application's channels.
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Quota } from '../../../quota/index.js';
import type { Context, Handle, SocketAddr } from '../../../runtime/context.js';
import type { Receiver, Sender } from '../channels.js';
import { NetworkCore } from '../network.js';
import type { Config } from './config.js';
import { Oracle } from './oracle.js';
import { peerFlavour } from './peer/index.js';
import { RegisteredIps } from './registered-ips.js';
import {
  DirectoryMetrics,
  Actor as Tracker,
  type Mailbox as TrackerMailbox,
} from './tracker/index.js';

export { streamConfig } from '../network.js';

/**
 * A lookup network: authenticated, encrypted connections to the peers the application registers
 * with their addresses. Create it with {@link Network.create}, register channels, then
 * {@link Network.start} it.
 */
export class Network {
  readonly #config: Config;
  readonly #core: NetworkCore;
  readonly #tracker: Tracker;
  readonly #trackerMailbox: TrackerMailbox;

  private constructor(context: Context, config: Config) {
    this.#config = config;
    this.#core = new NetworkCore(context, config, config.maxPeersPerSet * config.trackedPeerSets);
    const network = context.child('network');
    [this.#tracker, this.#trackerMailbox] = Tracker.create(
      {
        myself: config.signer.publicKey,
        mailboxSize: config.mailboxSize,
        allowPrivateIps: config.allowPrivateIps,
        allowDns: config.allowDns,
        bypassIpCheck: config.bypassIpCheck,
        trackedPeerSets: config.trackedPeerSets,
        maxPeersPerSet: config.maxPeersPerSet,
        peerConnectionCooldownMs: config.peerConnectionCooldownMs,
        blockDurationMs: config.blockDurationMs,
      },
      { rng: context.rng, metrics: DirectoryMetrics.register(network.child('tracker').metrics) },
    );
  }

  /**
   * Creates a network and its oracle. The network runs under `context` (its tasks and metrics
   * live under `context`'s label path plus `network`); the oracle may be used at once, its
   * requests are handled when the network starts.
   *
   * @param config - from `Config.local(...)` or `Config.recommended(...)`.
   */
  static create(context: Context, config: Config): [Network, Oracle] {
    const network = new Network(context, config);
    const tracker = network.#tracker;
    const oracle = new Oracle(
      network.#trackerMailbox,
      (peers) => tracker.checkSize(peers),
      context.log.child({ actor: 'oracle' }),
      context.signal,
    );
    return [network, oracle];
  }

  /**
   * Registers `channel` with its per-peer rate `quota` (applied both to what we send to each peer
   * and to what each peer may send us) and returns its sender and receiver. Memory bound: the
   * channel's inbound queue holds up to `maxPeersPerSet * trackedPeerSets * quota.burstSize`
   * messages of up to `maxMessageSize` bytes. Sends made before {@link start} reach nobody and
   * return `[]`.
   *
   * @throws P2PError `DuplicateChannel` if already registered, `InvalidChannel` if `channel` is
   *   not a non-negative safe integer, `InvalidConfig` after {@link start}.
   */
  register(channel: number, quota: Quota): [Sender, Receiver] {
    return this.#core.register(channel, quota);
  }

  /**
   * The address the listener bound (with the real port when the configured port is 0), once it
   * has; `undefined` if the network stopped before binding (or binding failed).
   */
  address(): Promise<SocketAddr | undefined> {
    return this.#core.address();
  }

  /**
   * Starts the network: spawns a `network` task running the tracker, router, spawner, listener
   * and dialer. If any of them ends (or fails), all are stopped. `handle.stop()` shuts down;
   * `await handle.done` resolves once every task has ended, every connection is closed and
   * every receiver rejects with `NetworkClosed`. If the listen address cannot be bound, the
   * error is logged, the network stops its other tasks, {@link address} resolves `undefined`
   * and `handle.done` rejects with `P2PError('ListenFailed')` (its `cause` is the OS error).
   *
   * @throws P2PError `InvalidConfig` if called twice.
   */
  start(): Handle<void> {
    const config = this.#config;
    const tracker = this.#tracker;
    const mailbox = this.#trackerMailbox;
    const peers = peerFlavour(config, this.#core.channels, mailbox);
    return this.#core.start(() => ({
      startTracker: (ctx) => tracker.start(ctx),
      tracker: mailbox,
      peers,
      ...(config.bypassIpCheck ? {} : { filter: new RegisteredIps(mailbox.listenerAllowList()) }),
    }));
  }

  /**
   * The peers connected right now (sorted by key), as the router sees them: empty before the
   * network starts and after it stops.
   */
  connectedPeers(): PublicKey[] {
    return this.#core.connectedPeers();
  }

  /** Handshakes in progress on the listener (for tests and diagnostics). */
  get handshakesInFlight(): number {
    return this.#core.handshakesInFlight;
  }
}
