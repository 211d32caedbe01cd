/**
 * The listener of both flavours (commonware `{discovery,lookup}/actors/listener.rs`): accepts
 * inbound connections and admits only those worth a handshake.
 *
 * For every accepted connection, in order (any rejection simply closes the socket, nothing is
 * sent back):
 * 1. Unless `allowPrivateIps`, a source IP that is not global is refused (`handshakes_blocked`).
 * 2. The flavour's source filter, if any (lookup's registered-IP pre-filter, unless
 *    `bypassIpCheck`): a source IP it does not admit is refused (`handshakes_blocked`). IPs are
 *    passed with IPv4-mapped IPv6 addresses reduced to IPv4.
 * 3. Every 16,384 accepted connections, both keyed limiters forget fully replenished keys.
 * 4. The per-IP and the per-subnet (/24, /48) handshake limiters are both checked (both consume a
 *    cell when they allow); a refusal by either closes the socket
 *    (`handshake_ip_rate_limited`, `handshake_subnet_rate_limited`).
 * 5. At most `maxConcurrentHandshakes` handshakes run at once (`handshake_concurrent_rate_limited`).
 * 6. A handshake task runs the stream handshake with the tracker's `acceptable(key, ip)` as the
 *    bouncer (consulted on the claimed key before any cryptography), then asks the tracker for a
 *    listener reservation, then hands the session to the spawner. The concurrency slot is freed
 *    when the task ends. A handshake that fails, is refused or times out, or finds no
 *    reservation, closes the socket and counts in `handshakes_failed` (an addition to upstream).
 *
 * @module
 */

import type { Feedback } from '../../actor/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import { KeyedRateLimiter, type Quota } from '../../quota/index.js';
import type {
  Connection,
  Context,
  Handle,
  Listener as NetListener,
  SocketAddr,
} from '../../runtime/context.js';
import { type Config as StreamConfig, listen as streamListen } from '../../stream/index.js';
import { formatSocketAddr } from '../address.js';
import { errorCode, P2PError } from '../errors.js';
import { isGlobal, subnetKey, unmappedIp } from '../net.js';
import type { ListenerMetrics } from './metrics.js';
import type { PeerConnection } from './peer/protocol.js';
import type { Releasable } from './spawner/index.js';

/** Accepted connections between two sweeps of the keyed limiters. */
export const LIMITER_PRUNE_INTERVAL = 16_384;

/** What the listener needs from the tracker (the tracker `Mailbox` implements it). */
export interface ListenerTracker {
  acceptable(peer: PublicKey, sourceIp: string): Promise<boolean>;
  listen(peer: PublicKey, sourceIp: string): Promise<Releasable | undefined>;
}

/** What the listener needs from the spawner (the spawner `Mailbox` implements it). */
export interface ListenerSpawner {
  spawn(connection: PeerConnection, reservation: Releasable, dialer: boolean): Feedback;
}

/**
 * A flavour's pre-filter on source IPs, consulted before any rate limit or cryptography (lookup:
 * the registered egress IPs). `ip` is canonical (IPv4-mapped IPv6 reduced to IPv4).
 */
export interface SourceFilter {
  admits(ip: string): boolean;
}

/** Configuration of the {@link Listener}. */
export interface ListenerConfig {
  /** Where to bind. */
  readonly address: SocketAddr;
  /** The stream configuration. */
  readonly stream: StreamConfig;
  /** Whether non-global source IPs may connect. */
  readonly allowPrivateIps: boolean;
  /** Most handshakes in progress at once. */
  readonly maxConcurrentHandshakes: number;
  /** Handshake rate per source IP. */
  readonly allowedHandshakeRatePerIp: Quota;
  /** Handshake rate per source subnet. */
  readonly allowedHandshakeRatePerSubnet: Quota;
}

/** Everything {@link Listener} is wired to. */
export interface ListenerDependencies {
  readonly tracker: ListenerTracker;
  readonly spawner: ListenerSpawner;
  /** The flavour's source-IP pre-filter; none admits every IP. */
  readonly filter?: SourceFilter;
  readonly metrics: ListenerMetrics;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `ip` with an IPv4-mapped IPv6 address reduced to IPv4, or undefined if it is not an IP. */
export function canonical(ip: string): string | undefined {
  try {
    return unmappedIp(ip);
  } catch {
    return undefined;
  }
}

/** The inbound side of a network. */
export class Listener {
  readonly #config: ListenerConfig;
  readonly #tracker: ListenerTracker;
  readonly #spawner: ListenerSpawner;
  readonly #filter: SourceFilter | undefined;
  readonly #metrics: ListenerMetrics;

  // ---------- State ----------
  #inFlight = 0;
  #accepted = 0;
  #failure: P2PError | undefined;
  readonly #bound: Promise<SocketAddr | undefined>;
  #resolveBound: (addr: SocketAddr | undefined) => void = () => {};

  constructor(config: ListenerConfig, deps: ListenerDependencies) {
    this.#config = config;
    this.#tracker = deps.tracker;
    this.#spawner = deps.spawner;
    this.#filter = deps.filter;
    this.#metrics = deps.metrics;
    this.#bound = new Promise((resolve) => {
      this.#resolveBound = resolve;
    });
  }

  /** The bound address once listening (the real port when `address.port` is 0); `undefined` if binding failed or never happened before shutdown. */
  get bound(): Promise<SocketAddr | undefined> {
    return this.#bound;
  }

  /** Why the listener ended on its own (`ListenFailed`), if it did. */
  get failure(): P2PError | undefined {
    return this.#failure;
  }

  /** Handshakes in progress. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Spawns the listener loop (task `listener`) under `parent`; handshakes run as its children. */
  start(parent: Context): Handle<void> {
    return parent.spawn('listener', (ctx) => this.#run(ctx));
  }

  async #run(ctx: Context): Promise<void> {
    let listener: NetListener;
    try {
      listener = await ctx.network.bind(this.#config.address);
    } catch (err) {
      this.#resolveBound(undefined);
      if (ctx.signal.aborted) return;
      // The network's failure, not the runtime's: the task ends and the network, seeing
      // `failure`, stops and rejects its own handle with it.
      const address = formatSocketAddr(this.#config.address);
      this.#failure = new P2PError(
        'ListenFailed',
        `cannot listen on ${address}: ${messageOf(err)}`,
        { cause: err },
      );
      ctx.log.error({ address, err: messageOf(err) }, 'failed to bind listener');
      return;
    }
    this.#resolveBound(listener.address);
    ctx.log.debug({ address: listener.address }, 'listening');
    const ipLimiter = new KeyedRateLimiter<string>(
      this.#config.allowedHandshakeRatePerIp,
      ctx.clock,
    );
    const subnetLimiter = new KeyedRateLimiter<string>(
      this.#config.allowedHandshakeRatePerSubnet,
      ctx.clock,
    );
    try {
      for (;;) {
        let conn: Connection;
        try {
          conn = await listener.accept(ctx.signal);
        } catch (err) {
          if (ctx.signal.aborted) return;
          throw err;
        }
        this.#admit(ctx, conn, ipLimiter, subnetLimiter);
      }
    } finally {
      this.#resolveBound(undefined);
      listener.close();
      ctx.log.debug({}, 'listener stopped');
    }
  }

  /** Applies the admission rules to one connection; spawns its handshake or closes it. */
  #admit(
    ctx: Context,
    conn: Connection,
    ipLimiter: KeyedRateLimiter<string>,
    subnetLimiter: KeyedRateLimiter<string>,
  ): void {
    const config = this.#config;
    const metrics = this.#metrics;
    const log = ctx.log;
    const ip = canonical(conn.remote.ip);
    if (ip === undefined) {
      conn.close();
      return;
    }
    if (!config.allowPrivateIps && !isGlobal(ip)) {
      metrics.handshakesBlocked.inc();
      log.debug({ ip }, 'connection from a private IP blocked');
      conn.close();
      return;
    }
    if (this.#filter !== undefined && !this.#filter.admits(ip)) {
      metrics.handshakesBlocked.inc();
      log.debug({ ip }, 'connection from an unregistered IP blocked');
      conn.close();
      return;
    }
    if (++this.#accepted % LIMITER_PRUNE_INTERVAL === 0) {
      ipLimiter.retainRecent();
      subnetLimiter.retainRecent();
    }
    // Both limiters are always checked, so a subnet cannot be spared by per-IP refusals.
    const ipOk = ipLimiter.check(ip) === true;
    const subnetOk = subnetLimiter.check(subnetKey(ip)) === true;
    if (!ipOk) metrics.ipRateLimited.inc();
    if (!subnetOk) metrics.subnetRateLimited.inc();
    if (!ipOk || !subnetOk) {
      log.debug({ ip, ipOk, subnetOk }, 'handshake rate limited');
      conn.close();
      return;
    }
    if (this.#inFlight >= config.maxConcurrentHandshakes) {
      metrics.concurrentRateLimited.inc();
      log.debug({ ip }, 'too many concurrent handshakes');
      conn.close();
      return;
    }
    this.#inFlight++;
    ctx.spawn('handshake', async (hctx) => {
      try {
        await this.#handshake(hctx, conn, ip);
      } finally {
        this.#inFlight--;
      }
    });
  }

  async #handshake(ctx: Context, conn: Connection, ip: string): Promise<void> {
    const tracker = this.#tracker;
    let handedOver = false;
    try {
      const session = await streamListen(ctx, this.#config.stream, conn, (pk) =>
        tracker.acceptable(pk, ip),
      );
      const peer = session.peer.toHex();
      const reservation = await tracker.listen(session.peer, ip);
      if (reservation === undefined) {
        this.#metrics.handshakesFailed.inc();
        ctx.log.debug({ peer, ip }, 'no listener reservation');
        return;
      }
      if (ctx.signal.aborted) {
        reservation.release();
        return;
      }
      ctx.log.debug({ peer, ip }, 'accepted connection');
      handedOver = true;
      // A full or stopped spawner closes the connection and releases the reservation itself.
      // The tracker's key object for the peer (equal to the handshake's, which is then dropped):
      // every holder of the connection shares the one key the tracker keeps.
      this.#spawner.spawn(
        {
          peer: reservation.metadata?.publicKey ?? session.peer,
          sender: session.sender,
          receiver: session.receiver,
          connection: conn,
        },
        reservation,
        false,
      );
    } catch (err) {
      if (!ctx.signal.aborted) this.#metrics.handshakesFailed.inc();
      ctx.log.debug({ ip, code: errorCode(err), err: String(err) }, 'inbound handshake failed');
    } finally {
      if (!handedOver) conn.close();
    }
  }
}
