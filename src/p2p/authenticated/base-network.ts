/**
 * The public face both flavours' `Network` classes share ({@link BaseNetwork}): channel
 * registration, the bound address, start, status and connection state, all delegated to one
 * {@link NetworkCore} (`network.ts`).
 *
 * @module
 */

import type { PublicKey } from '../../crypto/ed25519.js';
import type { Quota } from '../../quota/index.js';
import type { Context, Handle, SocketAddr } from '../../runtime/context.js';
import type { ConnectionEvent } from '../events.js';
import type { Receiver, Sender } from './channels.js';
import type { FlavourParts, NetworkCore } from './network.js';
import type { NetworkStatus, StatusOptions, StatusSource } from './status.js';

/**
 * What both flavours' `Network` classes have in common: channel registration, the bound address
 * and connection state, all delegated to one {@link NetworkCore}.
 */
export abstract class BaseNetwork {
  /** The core this network runs on. */
  protected readonly core: NetworkCore;

  protected constructor(core: NetworkCore) {
    this.core = core;
  }

  /**
   * Registers `channel` with its per-peer rate `quota` (applied both to what we send to each peer
   * and to what each peer may send us) and returns its sender and receiver. Memory bound: the
   * channel's inbound queue holds up to `retainedPeers * quota.burstSize` messages of up to
   * `maxMessageSize` bytes, where `retainedPeers` is `maxPeersPerSet * trackedPeerSets` (plus,
   * in discovery, the bootstrappers). Sends made before `start` reach nobody and return `[]`.
   *
   * @throws P2PError `DuplicateChannel` if already registered, `InvalidChannel` if `channel` is
   *   not a non-negative safe integer, `InvalidConfig` after `start`.
   */
  register(channel: number, quota: Quota): [Sender, Receiver] {
    return this.core.register(channel, quota);
  }

  /**
   * The address the listener bound (with the real port when the configured port is 0), once it
   * has; `undefined` if the network stopped before binding (or binding failed).
   */
  address(): Promise<SocketAddr | undefined> {
    return this.core.address();
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
    return this.core.start((ctx) => this.parts(ctx));
  }

  /** The flavour's tracker, peer protocol and listener filter, made when the network starts. */
  protected abstract parts(ctx: Context): FlavourParts;

  /** The flavour's tracker mailbox, which answers {@link status}. */
  protected abstract get statusSource(): StatusSource;

  /** Which flavour this network is. */
  abstract readonly flavour: 'lookup' | 'discovery';

  /**
   * A snapshot for operators (what the admin endpoint's `/status` serves): our key, the retained
   * sets (discovery: with our knowledge bits), one page of peers with their state (`connected`,
   * `dialing`, `reserved`, `disconnected`, `blocked` with its expiry), address and traffic
   * totals, and per-channel totals. The page is answered by the tracker in turn with its other
   * messages and costs it the page (plus skipping `offset` records), never the whole directory.
   * Resolves `undefined` before the network starts and once it has stopped.
   *
   * @throws P2PError `InvalidConfig` for a negative `offset` or a `limit` outside
   *   `[0, MAX_STATUS_PAGE]`.
   */
  status(options?: StatusOptions): Promise<NetworkStatus | undefined> {
    return this.core.status(this.statusSource, options);
  }

  /** Whether the network ran and has stopped (its admin endpoint, if any, stops with it). */
  get stopped(): boolean {
    return this.core.stopped;
  }

  /**
   * The peers connected right now (sorted by key), as the router sees them: empty before the
   * network starts and after it stops.
   */
  connectedPeers(): PublicKey[] {
    return this.core.connectedPeers();
  }

  /**
   * The peers connected now: exactly those `send` reaches (sorted by key; empty before the
   * network starts and after it stops). The same as {@link connectedPeers}.
   */
  connected(): PublicKey[] {
    return this.core.connectedPeers();
  }

  /**
   * A new bounded stream of connection events from now on: `'connected'` (emitted once the
   * peer is in {@link connected}), `'disconnected'` (with the reason, such as
   * `'ConnectionClosed'`), `'blocked'` and `'unblocked'`. Each call is its own stream of up to
   * 1,024 queued events; a reader that falls behind loses the oldest, and the next event it
   * reads carries `missed`. The iteration ends when the network stops (at once if it has).
   * Break out of the loop (or call `return()`) to stop listening.
   */
  events(): AsyncIterableIterator<ConnectionEvent> {
    return this.core.events();
  }

  /** Handshakes in progress on the listener (for tests and diagnostics). */
  get handshakesInFlight(): number {
    return this.core.handshakesInFlight;
  }
}
