/**
 * The network wiring both flavours share (commonware `{discovery,lookup}/network.rs`): the
 * channels, the router, the spawner, the listener and the dialer around a flavour's tracker.
 * Each flavour's `network.ts` makes its tracker, its peer protocol and (lookup) its listener
 * filter, and hands them to {@link NetworkCore.start}.
 *
 * @module
 */

import { type RingInbox, select } from '../../actor/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import type { Quota } from '../../quota/index.js';
import type { Context, Handle, SocketAddr } from '../../runtime/context.js';
import { withNetwork } from '../../runtime/helpers.js';
import { TrackedNetwork } from '../../runtime/tracked.js';
import { Config as StreamConfig } from '../../stream/index.js';
import { P2PError } from '../errors.js';
import { type ConnectionEvent, ConnectionEvents } from '../events.js';
import { Channels, type Receiver, type Sender } from './channels.js';
import type { SharedConfig } from './config.js';
import { MAX_PAYLOAD_OVERHEAD } from './data.js';
import { Dialer, type DialerTracker } from './dialer.js';
import { Listener, type ListenerTracker, type SourceFilter } from './listener.js';
import { DialerMetrics, ListenerMetrics } from './metrics.js';
import { PeerMetrics } from './peer/metrics.js';
import { type PeerSnapshot, Actor as Router } from './router/index.js';
import { type PeerFlavour, Spawner } from './spawner/index.js';
import {
  type HandshakeCounts,
  MAX_STATUS_PAGE,
  type NetworkStatus,
  STATUS_PAGE,
  type StatusOptions,
  type StatusSource,
} from './status.js';
import { DirectoryMetrics } from './tracker/metrics.js';
import { TrafficTable } from './traffic.js';

export type {
  HandshakeCounts,
  NetworkStatus,
  PeerTrafficStatus,
  StatusOptions,
  StatusSource,
} from './status.js';
export { MAX_STATUS_PAGE, STATUS_PAGE } from './status.js';

const NO_PEERS: PeerSnapshot = Object.freeze([]);

const STREAM_SUFFIX = new TextEncoder().encode('_STREAM');

/**
 * The stream configuration a network uses: namespace `ns || "_STREAM"`, frames of
 * `maxMessageSize + 16`, or `minFrame` if larger (discovery's gossip frames).
 */
export function streamConfig(config: SharedConfig, minFrame = 0): StreamConfig {
  const namespace = new Uint8Array(config.namespace.length + STREAM_SUFFIX.length);
  namespace.set(config.namespace, 0);
  namespace.set(STREAM_SUFFIX, config.namespace.length);
  return new StreamConfig({
    signer: config.signer,
    namespace,
    maxMessageSize: Math.max(config.maxMessageSize + MAX_PAYLOAD_OVERHEAD, minFrame),
    synchronyBoundMs: config.synchronyBoundMs,
    maxHandshakeAgeMs: config.maxHandshakeAgeMs,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
  });
}

/** What a flavour hands to {@link NetworkCore.start}. */
export interface FlavourParts {
  /** Starts the flavour's tracker under the network task, reporting blocks to `events`. */
  startTracker(ctx: Context, events: ConnectionEvents): Handle<void>;
  /** The tracker, as the dialer and listener use it. */
  readonly tracker: DialerTracker & ListenerTracker;
  /** How the spawner makes and reports peers. */
  readonly peers: PeerFlavour;
  /** The listener's source-IP pre-filter, if the flavour has one. */
  readonly filter?: SourceFilter;
}

const ACTORS = ['tracker', 'router', 'spawner', 'listener', 'dialer'] as const;

/**
 * The flavour-independent half of a network: channels, lifecycle and the shared actors. A
 * flavour's `Network` holds one and delegates `register`, `address`, `connectedPeers` to it.
 */
export class NetworkCore {
  readonly #context: Context;
  readonly #config: SharedConfig;
  readonly #channels: Channels;
  readonly #stream: StreamConfig;
  #listener: Listener | undefined;
  #peers: RingInbox<PeerSnapshot> | undefined;
  #connected: PeerSnapshot = NO_PEERS;
  readonly #events = new ConnectionEvents();
  readonly #traffic = new TrafficTable();
  #listenerMetrics: ListenerMetrics | undefined;
  #started = false;
  #stopped = false;
  readonly #address: Promise<SocketAddr | undefined>;
  #resolveAddress: (addr: SocketAddr | undefined) => void = () => {};

  /**
   * @param context - the context the network runs under (its tasks and metrics live under
   *   `context`'s label path plus `network`).
   * @param retainedPeers - the retained-peer bound that sizes channel queues.
   * @param minFrame - the smallest stream frame limit the flavour's own messages need.
   */
  constructor(context: Context, config: SharedConfig, retainedPeers: number, minFrame = 0) {
    this.#context = context;
    this.#config = config;
    this.#stream = streamConfig(config, minFrame);
    this.#channels = new Channels(context.child('network'), {
      maxMessageSize: config.maxMessageSize,
      retainedPeers,
    });
    this.#address = new Promise((resolve) => {
      this.#resolveAddress = resolve;
    });
  }

  /**
   * The tracker's metrics, registered under `network` (the network's context): a peer forgotten
   * by the directory (it left every tracked set) loses its series and its traffic totals.
   */
  trackerMetrics(network: Context): DirectoryMetrics {
    const metrics = DirectoryMetrics.register(network.child('tracker').metrics, network.metrics);
    const traffic = this.#traffic;
    return {
      ...metrics,
      forget: (peer) => {
        metrics.forget(peer);
        traffic.forget(peer);
      },
    };
  }

  /** The registered channels (the peers deliver into them). */
  get channels(): Channels {
    return this.#channels;
  }

  /** The stream configuration of every connection. */
  get stream(): StreamConfig {
    return this.#stream;
  }

  /** Whether {@link start} was called. */
  get started(): boolean {
    return this.#started;
  }

  /** See the flavour's `Network.register`. */
  register(channel: number, quota: Quota): [Sender, Receiver] {
    if (this.#started) {
      throw new P2PError('InvalidConfig', 'channels must be registered before the network starts');
    }
    return this.#channels.register(channel, quota);
  }

  /** See the flavour's `Network.address`. */
  address(): Promise<SocketAddr | undefined> {
    return this.#address;
  }

  /**
   * Starts the network task (`network`). `parts` is called inside it, so the flavour's actors
   * live under the network's context. The returned handle's `done` resolves when the network
   * stopped (by `stop()` or because an actor ended) and rejects with the network's own failure
   * (`ListenFailed`); that rejection is the network's, reported through its handle, never a
   * failure of the runtime.
   *
   * @throws P2PError `InvalidConfig` if called twice.
   */
  start(parts: (ctx: Context) => FlavourParts): Handle<void> {
    if (this.#started) throw new P2PError('InvalidConfig', 'the network is already started');
    this.#started = true;
    const task = this.#context.spawn('network', (raw) => {
      // Everything the network opens goes through one tracked view, so that `done` resolves
      // only once every socket and the listening port are really closed.
      const tracked = new TrackedNetwork(raw.network);
      const ctx = withNetwork(raw, tracked);
      return this.#run(ctx, parts(ctx), tracked);
    });
    const done = task.done.then((failure) => {
      if (failure !== undefined) throw failure;
    });
    // An application that never awaits `done` must not see an unhandled rejection.
    done.catch(() => {});
    return { done, stop: (reason?: unknown) => task.stop(reason) };
  }

  async #run(
    ctx: Context,
    parts: FlavourParts,
    tracked: TrackedNetwork,
  ): Promise<P2PError | undefined> {
    const config = this.#config;
    const channels = this.#channels;
    const handles: Handle<void>[] = [];
    let failure: P2PError | undefined;
    try {
      const [router, routerMailbox] = Router.create(ctx, {
        mailboxSize: config.mailboxSize + channels.capacity,
        events: this.#events,
      });
      const [spawner, spawnerMailbox] = Spawner.create(ctx, {
        router: routerMailbox,
        flavour: parts.peers,
        mailboxSize: config.mailboxSize,
        metrics: PeerMetrics.create(ctx.metrics, this.#traffic),
      });
      const listenerMetrics = ListenerMetrics.register(ctx.child('listener').metrics);
      this.#listenerMetrics = listenerMetrics;
      const listener = new Listener(
        {
          address: config.listen,
          stream: this.#stream,
          allowPrivateIps: config.allowPrivateIps,
          maxConcurrentHandshakes: config.maxConcurrentHandshakes,
          allowedHandshakeRatePerIp: config.allowedHandshakeRatePerIp,
          allowedHandshakeRatePerSubnet: config.allowedHandshakeRatePerSubnet,
        },
        {
          tracker: parts.tracker,
          spawner: spawnerMailbox,
          ...(parts.filter === undefined ? {} : { filter: parts.filter }),
          metrics: listenerMetrics,
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
          localIp: config.listen.ip,
        },
        {
          tracker: parts.tracker,
          spawner: spawnerMailbox,
          metrics: DialerMetrics.register(ctx.child('dialer').metrics),
        },
      );
      channels.start(routerMailbox);
      this.#peers = routerMailbox.subscribePeers();
      handles.push(
        parts.startTracker(ctx, this.#events),
        router.start(),
        spawner.start(),
        listener.start(ctx),
        dialer.start(ctx),
      );
      ctx.log.info({ publicKey: config.signer.publicKey.toHex() }, 'network started');

      // Run until shutdown or until any actor ends: the network is useless without any of them.
      const first = await select(ctx.signal, ...handles.map((h) => h.done));
      failure = listener.failure;
      if (failure !== undefined) {
        ctx.log.error({ err: failure.message }, 'network failed; stopping');
      } else if (first >= 0) {
        ctx.log.warn({ actor: ACTORS[first] }, 'network actor ended; stopping the network');
      }
    } finally {
      for (const h of handles) h.stop();
      channels.close();
      this.#peers?.close();
      this.#peers = undefined;
      this.#connected = NO_PEERS;
      this.#stopped = true;
      this.#events.close();
      this.#resolveAddress(undefined);
      // An actor's failure was already reported to the runtime by its own task.
      await Promise.allSettled(handles.map((h) => h.done));
      await tracked.closeAll();
      ctx.log.info({}, 'network stopped');
    }
    return failure;
  }

  /** See the flavour's `Network.connectedPeers`. */
  connectedPeers(): PublicKey[] {
    const ring = this.#peers;
    if (ring !== undefined) {
      for (let s = ring.tryRecv(); s !== undefined; s = ring.tryRecv()) this.#connected = s;
    }
    return [...this.#connected];
  }

  /** See `BaseNetwork.events`. */
  events(): AsyncIterableIterator<ConnectionEvent> {
    return this.#events.events();
  }

  /** Handshakes in progress on the listener (for tests and diagnostics). */
  get handshakesInFlight(): number {
    return this.#listener?.inFlight ?? 0;
  }

  /** Whether the network ran and has stopped. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** See `BaseNetwork.status`; `tracker` answers the sets and the page. */
  async status(
    tracker: StatusSource,
    options: StatusOptions = {},
  ): Promise<NetworkStatus | undefined> {
    const offset = options.offset ?? 0;
    const limit = options.limit ?? STATUS_PAGE;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new P2PError(
        'InvalidConfig',
        `status offset must be a non-negative integer, got ${offset}`,
      );
    }
    if (!Number.isSafeInteger(limit) || limit < 0 || limit > MAX_STATUS_PAGE) {
      throw new P2PError(
        'InvalidConfig',
        `status limit must be an integer in [0, ${MAX_STATUS_PAGE}], got ${limit}`,
      );
    }
    if (!this.#started || this.#stopped) return undefined;
    const answer = await tracker.status(offset, limit);
    if (answer === undefined) return undefined;
    const traffic = this.#traffic;
    return {
      key: this.#config.signer.publicKey,
      listen: this.#config.listen,
      sets: answer.sets,
      peers: answer.peers.map((p) => ({ ...p, ...traffic.readPeer(p.key.toHex()) })),
      total: answer.total,
      offset: answer.offset,
      channels: traffic.readChannels(),
      handshakes: this.#handshakes(),
    };
  }

  #handshakes(): HandshakeCounts {
    const m = this.#listenerMetrics;
    if (m === undefined) return { blocked: 0, rateLimited: 0, failed: 0 };
    return {
      blocked: m.handshakesBlocked.get(),
      rateLimited:
        m.concurrentRateLimited.get() + m.ipRateLimited.get() + m.subnetRateLimited.get(),
      failed: m.handshakesFailed.get(),
    };
  }
}
