/**
 * The lookup network object (commonware `lookup/network.rs`): explicit wiring of the tracker,
 * router, spawner, listener and dialer around the application's channels.
 *
 * @module
 */

import { type RingInbox, select } from '../../../actor/index.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Quota } from '../../../quota/index.js';
import type { Context, Handle, SocketAddr } from '../../../runtime/context.js';
import { Config as StreamConfig } from '../../../stream/index.js';
import { P2PError } from '../../errors.js';
import { Channels, type Receiver, type Sender } from '../channels.js';
import { MAX_PAYLOAD_OVERHEAD } from '../data.js';
import { type PeerSnapshot, Actor as Router } from '../router/index.js';
import type { Config } from './config.js';
import { Dialer } from './dialer.js';
import { Listener } from './listener.js';
import { DialerMetrics, ListenerMetrics } from './metrics.js';
import { Oracle } from './oracle.js';
import { Spawner } from './spawner/index.js';
import {
  DirectoryMetrics,
  Actor as Tracker,
  type Mailbox as TrackerMailbox,
} from './tracker/index.js';

const NO_PEERS: PeerSnapshot = Object.freeze([]);

const STREAM_SUFFIX = new TextEncoder().encode('_STREAM');

/** The stream configuration a lookup network uses: namespace `ns || "_STREAM"`, frames of `maxMessageSize + 16`. */
export function streamConfig(config: Config): StreamConfig {
  const namespace = new Uint8Array(config.namespace.length + STREAM_SUFFIX.length);
  namespace.set(config.namespace, 0);
  namespace.set(STREAM_SUFFIX, config.namespace.length);
  return new StreamConfig({
    signer: config.signer,
    namespace,
    maxMessageSize: config.maxMessageSize + MAX_PAYLOAD_OVERHEAD,
    synchronyBoundMs: config.synchronyBoundMs,
    maxHandshakeAgeMs: config.maxHandshakeAgeMs,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
  });
}

/**
 * A lookup network: authenticated, encrypted connections to the peers the application registers
 * with their addresses. Create it with {@link Network.create}, register channels, then
 * {@link Network.start} it.
 */
export class Network {
  readonly #context: Context;
  readonly #config: Config;
  readonly #channels: Channels;
  readonly #tracker: Tracker;
  readonly #trackerMailbox: TrackerMailbox;
  readonly #stream: StreamConfig;
  #listener: Listener | undefined;
  #peers: RingInbox<PeerSnapshot> | undefined;
  #connected: PeerSnapshot = NO_PEERS;
  #started = false;
  readonly #address: Promise<SocketAddr | undefined>;
  #resolveAddress: (addr: SocketAddr | undefined) => void = () => {};

  private constructor(context: Context, config: Config) {
    this.#context = context;
    this.#config = config;
    this.#stream = streamConfig(config);
    const network = context.child('network');
    this.#channels = new Channels(network, {
      maxMessageSize: config.maxMessageSize,
      retainedPeers: config.maxPeersPerSet * config.trackedPeerSets,
    });
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
    this.#address = new Promise((resolve) => {
      this.#resolveAddress = resolve;
    });
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
    );
    return [network, oracle];
  }

  /**
   * Registers `channel` with its per-peer rate `quota` (applied both to what we send to each peer
   * and to what each peer may send us) and returns its sender and receiver. Memory bound: the
   * channel's inbound queue holds up to `maxPeersPerSet * trackedPeerSets * quota.burstSize`
   * messages of up to `maxMessageSize` bytes. Sends made before {@link start} are accepted and
   * discarded.
   *
   * @throws P2PError `DuplicateChannel` if already registered, `InvalidChannel` if `channel` is
   *   not a non-negative safe integer, `InvalidConfig` after {@link start}.
   */
  register(channel: number, quota: Quota): [Sender, Receiver] {
    if (this.#started) {
      throw new P2PError('InvalidConfig', 'channels must be registered before the network starts');
    }
    return this.#channels.register(channel, quota);
  }

  /**
   * The address the listener bound (with the real port when the configured port is 0), once it
   * has; `undefined` if the network stopped before binding (or binding failed).
   */
  address(): Promise<SocketAddr | undefined> {
    return this.#address;
  }

  /**
   * Starts the network: spawns a `network` task running the tracker, router, spawner, listener
   * and dialer. If any of them ends (or fails), all are stopped. `handle.stop()` shuts down;
   * `await handle.done` resolves once every task has ended, every connection is closed and
   * every receiver rejects with `NetworkClosed`. If the listen address cannot be bound, the
   * error is logged, the network stops on its own and {@link address} resolves `undefined`.
   *
   * @throws P2PError `InvalidConfig` if called twice.
   */
  start(): Handle<void> {
    if (this.#started) throw new P2PError('InvalidConfig', 'the network is already started');
    this.#started = true;
    return this.#context.spawn('network', (ctx) => this.#run(ctx));
  }

  async #run(ctx: Context): Promise<void> {
    const config = this.#config;
    const channels = this.#channels;
    const trackerMailbox = this.#trackerMailbox;
    const handles: Handle<void>[] = [];
    try {
      const [router, routerMailbox] = Router.create(ctx, {
        mailboxSize: config.mailboxSize + channels.capacity,
      });
      const [spawner, spawnerMailbox] = Spawner.create(ctx, {
        tracker: trackerMailbox,
        router: routerMailbox,
        channels,
        config: {
          mailboxSize: config.mailboxSize,
          sendBatchSize: config.sendBatchSize,
          pingFrequencyMs: config.pingFrequencyMs,
        },
      });
      const listener = new Listener(
        {
          address: config.listen,
          stream: this.#stream,
          allowPrivateIps: config.allowPrivateIps,
          bypassIpCheck: config.bypassIpCheck,
          maxConcurrentHandshakes: config.maxConcurrentHandshakes,
          allowedHandshakeRatePerIp: config.allowedHandshakeRatePerIp,
          allowedHandshakeRatePerSubnet: config.allowedHandshakeRatePerSubnet,
        },
        {
          tracker: trackerMailbox,
          spawner: spawnerMailbox,
          allowList: trackerMailbox.listenerAllowList(),
          metrics: ListenerMetrics.register(ctx.child('listener').metrics),
        },
      );
      this.#listener = listener;
      void listener.bound.then(this.#resolveAddress);
      const dialer = new Dialer(
        {
          stream: this.#stream,
          dialFrequencyMs: config.dialFrequencyMs,
          peerConnectionCooldownMs: config.peerConnectionCooldownMs,
          dialTimeoutMs: config.dialTimeoutMs,
          allowPrivateIps: config.allowPrivateIps,
        },
        {
          tracker: trackerMailbox,
          spawner: spawnerMailbox,
          metrics: DialerMetrics.register(ctx.child('dialer').metrics),
        },
      );
      channels.start(routerMailbox);
      this.#peers = routerMailbox.subscribePeers();
      handles.push(
        this.#tracker.start(ctx),
        router.start(),
        spawner.start(),
        listener.start(ctx),
        dialer.start(ctx),
      );
      ctx.log.info({ publicKey: config.signer.publicKey.toHex() }, 'network started');

      // Run until shutdown or until any actor ends: the network is useless without any of them.
      const first = await select(ctx.signal, ...handles.map((h) => h.done));
      if (first >= 0)
        ctx.log.warn({ actor: ACTORS[first] }, 'network actor ended; stopping the network');
    } finally {
      for (const h of handles) h.stop();
      channels.close();
      this.#peers?.close();
      this.#peers = undefined;
      this.#connected = NO_PEERS;
      this.#resolveAddress(undefined);
      // An actor's failure was already reported to the runtime by its own task.
      await Promise.allSettled(handles.map((h) => h.done));
      ctx.log.info({}, 'network stopped');
    }
  }

  /**
   * The peers connected right now (sorted by key), as the router sees them: empty before the
   * network starts and after it stops.
   */
  connectedPeers(): PublicKey[] {
    const ring = this.#peers;
    if (ring !== undefined) {
      for (let s = ring.tryRecv(); s !== undefined; s = ring.tryRecv()) this.#connected = s;
    }
    return [...this.#connected];
  }

  /** Handshakes in progress on the listener (for tests and diagnostics). */
  get handshakesInFlight(): number {
    return this.#listener?.inFlight ?? 0;
  }
}

const ACTORS = ['tracker', 'router', 'spawner', 'listener', 'dialer'] as const;
