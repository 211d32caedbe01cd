/**
 * The dialer of both flavours (commonware `{discovery,lookup}/actors/dialer.rs`): opens outbound
 * connections to the peers the tracker says are dialable (primaries, and discovery's
 * bootstrappers).
 *
 * Loop, one tick at a time (the first tick is immediate):
 * 1. If the local queue is empty, ask the tracker which peers are dialable now and shuffle them
 *    with the context RNG (so an attacker who poisons one address cannot predict our order).
 * 2. Pick the next tick: `dialFrequencyMs` later if the queue still holds peers; otherwise the
 *    tracker's `nextQueryAt`, clamped between `now + dialFrequencyMs` and
 *    `max(now + peerConnectionCooldownMs, now + dialFrequencyMs)`.
 * 3. Pop peers until the tracker grants one a dial reservation, and start that one dial: at most
 *    one new dial per tick.
 *
 * Each dial runs as its own task bounded by `dialTimeoutMs`: resolve the ingress (a DNS name
 * resolves to every A/AAAA record, filtered by `allowPrivateIps`, one picked uniformly), connect,
 * run the stream handshake expecting the peer's key, and hand the session to the spawner. Any
 * failure closes the connection and releases the reservation. Dials leave from the listen IP
 * (`localIp`) when it is not a wildcard, in both runtimes, so that a lookup peer (which accepts
 * only the IPs it registered) sees the address it registered for us.
 *
 * @module
 */

import { type Feedback, select } from '../../actor/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import type { Connection, Context, Handle, SocketAddr } from '../../runtime/context.js';
import { RuntimeError } from '../../runtime/errors.js';
import { withTimeout } from '../../runtime/timeout.js';
import {
  type Session,
  type Config as StreamConfig,
  dial as streamDial,
} from '../../stream/index.js';
import { formatIngress, type Ingress } from '../address.js';
import { errorCode, P2PError } from '../errors.js';
import { isGlobal } from '../net.js';
import type { DialerMetrics } from './metrics.js';
import type { PeerConnection } from './peer/protocol.js';
import type { Releasable } from './spawner/index.js';

/** What the tracker answers to `dialable`: who may be dialed now, and when to ask again. */
export interface Dialable {
  /** Peers that may be dialed now, sorted by key. */
  readonly peers: readonly PublicKey[];
  /** The earliest time (ms) another peer may become dialable, if any will. */
  readonly nextQueryAt: number | undefined;
}

/** A granted dial: the reservation that holds the peer's slot, and where to dial. */
export interface DialReservation {
  readonly reservation: Releasable & { readonly publicKey: PublicKey };
  readonly ingress: Ingress;
}

/** What the dialer needs from the tracker (the tracker `Mailbox` implements it). */
export interface DialerTracker {
  dialable(): Promise<Dialable | undefined>;
  dial(peer: PublicKey): Promise<DialReservation | undefined>;
  /** Resolves when a peer may have become dialable (a registration, a learned address). */
  changed?(): Promise<boolean>;
}

/** What the dialer needs from the spawner (the spawner `Mailbox` implements it). */
export interface DialerSpawner {
  spawn(connection: PeerConnection, reservation: Releasable, dialer: boolean): Feedback;
}

/** Configuration of the {@link Dialer}. */
export interface DialerConfig {
  /** The stream configuration (namespace `app || "_STREAM"`, max frame `maxMessageSize + 16`). */
  readonly stream: StreamConfig;
  /** At most one new dial per this many ms. */
  readonly dialFrequencyMs: number;
  /** Longest wait (ms) between tracker queries while nothing is dialable. */
  readonly peerConnectionCooldownMs: number;
  /** Deadline (ms) for resolve + connect + handshake. */
  readonly dialTimeoutMs: number;
  /** Whether resolved non-global IPs may be dialed. */
  readonly allowPrivateIps: boolean;
  /**
   * The IP dials leave from: the network's listen IP, so a peer that accepts the connection sees
   * the address it registered for us (a wildcard, or the other IP family, leaves the choice to
   * the runtime).
   */
  readonly localIp?: string;
}

/** Everything {@link Dialer} is wired to. */
export interface DialerDependencies {
  readonly tracker: DialerTracker;
  readonly spawner: DialerSpawner;
  readonly metrics: DialerMetrics;
}

function usable(ip: string, allowPrivateIps: boolean): boolean {
  try {
    return allowPrivateIps || isGlobal(ip);
  } catch {
    return false; // not an IP literal
  }
}

/** The outbound side of the lookup network. */
export class Dialer {
  readonly #config: DialerConfig;
  readonly #tracker: DialerTracker;
  readonly #spawner: DialerSpawner;
  readonly #metrics: DialerMetrics;

  constructor(config: DialerConfig, deps: DialerDependencies) {
    this.#config = config;
    this.#tracker = deps.tracker;
    this.#spawner = deps.spawner;
    this.#metrics = deps.metrics;
  }

  /** Spawns the dialer loop (task `dialer`) under `parent`; dials run as its children (`dial`). */
  start(parent: Context): Handle<void> {
    return parent.spawn('dialer', (ctx) => this.#run(ctx));
  }

  async #run(ctx: Context): Promise<void> {
    const { dialFrequencyMs, peerConnectionCooldownMs } = this.#config;
    const clock = ctx.clock;
    let queue: PublicKey[] = [];
    let deadline = clock.now();
    let lastTick = Number.NEGATIVE_INFINITY;
    try {
      for (;;) {
        await this.#wait(ctx, deadline, queue.length === 0);
        // A wake-up never makes two ticks closer than `dialFrequencyMs`.
        const earliest = lastTick + dialFrequencyMs;
        if (clock.now() < earliest) await clock.sleepUntil(earliest, ctx.signal);
        const now = clock.now();
        lastTick = now;
        let nextQueryAt: number | undefined;
        if (queue.length === 0) {
          const dialable = await this.#tracker.dialable();
          if (dialable === undefined || ctx.signal.aborted) return; // the tracker stopped
          queue = ctx.rng.shuffle([...dialable.peers]);
          nextQueryAt = dialable.nextQueryAt;
        }
        if (queue.length === 0) {
          const min = now + dialFrequencyMs;
          const max = Math.max(now + peerConnectionCooldownMs, min);
          deadline = Math.min(Math.max(nextQueryAt ?? max, min), max);
        } else {
          deadline = now + dialFrequencyMs;
        }
        for (let peer = queue.pop(); peer !== undefined; peer = queue.pop()) {
          const granted = await this.#tracker.dial(peer);
          if (ctx.signal.aborted) {
            granted?.reservation.release();
            return;
          }
          if (granted !== undefined) {
            this.#dial(ctx, granted);
            break;
          }
        }
      }
    } catch (err) {
      if (ctx.signal.aborted) return; // the sleep was cancelled by shutdown
      throw err;
    } finally {
      ctx.log.debug({}, 'dialer stopped');
    }
  }

  /**
   * Sleeps until `deadline`; while `idle` (nothing queued to dial), also wakes when the tracker
   * says a peer may have become dialable, so a new registration is dialed at once rather than
   * at the next poll (which may be `peerConnectionCooldownMs` away).
   */
  async #wait(ctx: Context, deadline: number, idle: boolean): Promise<void> {
    const changed = idle ? this.#tracker.changed?.() : undefined;
    if (changed === undefined) {
      await ctx.clock.sleepUntil(deadline, ctx.signal);
      return;
    }
    const timer = new AbortController();
    const sleep = ctx.clock.sleepUntil(deadline, timer.signal).catch(() => {});
    try {
      await select(ctx.signal, sleep, changed);
    } finally {
      timer.abort();
    }
    ctx.signal.throwIfAborted();
  }

  /** Starts one dial task for a granted reservation. */
  #dial(ctx: Context, granted: DialReservation): void {
    const { reservation, ingress } = granted;
    const peer = reservation.publicKey;
    const hex = peer.toHex();
    this.#metrics.attempts.inc({ peer: hex });
    ctx.spawn('dial', async (dctx) => {
      const log = dctx.log.child({ peer: hex, ingress: formatIngress(ingress) });
      const deadline = new AbortController();
      const signal = AbortSignal.any([dctx.signal, deadline.signal]);
      let conn: Connection | undefined;
      let handedOver = false;
      try {
        const session = await withTimeout(
          this.#connect(dctx, ingress, peer, signal, (c) => {
            conn = c;
          }),
          this.#config.dialTimeoutMs,
          dctx.clock,
          () => {
            const err = new RuntimeError(
              'Timeout',
              `dial timed out after ${this.#config.dialTimeoutMs} ms`,
            );
            deadline.abort(err);
            conn?.close();
            return err;
          },
        );
        log.debug({}, 'upgraded connection');
        handedOver = true;
        // A full or stopped spawner closes the connection and releases the reservation itself.
        this.#spawner.spawn(
          {
            peer: session.peer,
            sender: session.sender,
            receiver: session.receiver,
            connection: session.connection,
          },
          reservation,
          true,
        );
      } catch (err) {
        log.debug({ code: errorCode(err), err: String(err) }, 'dial failed');
      } finally {
        if (!handedOver) {
          conn?.close();
          reservation.release();
        }
      }
    });
  }

  /** Resolve, connect and handshake; reports the connection as soon as it exists (for timeouts). */
  async #connect(
    ctx: Context,
    ingress: Ingress,
    peer: PublicKey,
    signal: AbortSignal,
    opened: (conn: Connection) => void,
  ): Promise<Session & { readonly connection: Connection }> {
    const address = await resolveIngress(ctx, ingress, this.#config.allowPrivateIps, signal);
    const conn = await ctx.network.dial(address, signal, this.#config.localIp);
    opened(conn);
    if (signal.aborted) {
      conn.close();
      throw signal.reason;
    }
    ctx.log.debug({ peer: peer.toHex(), address: `${address.ip}:${address.port}` }, 'dialed peer');
    const session = await streamDial(ctx, this.#config.stream, conn, peer);
    return { ...sessionFields(session), connection: conn };
  }
}

/**
 * The socket address to dial for `ingress`: the ingress itself, or one usable resolved IP picked
 * uniformly with `ctx.rng`. Non-global IPs are usable only when `allowPrivateIps`.
 *
 * @throws P2PError `InvalidAddress` if the address (or every resolved one) is not usable;
 *   whatever `ctx.network.resolve` throws.
 */
export async function resolveIngress(
  ctx: Context,
  ingress: Ingress,
  allowPrivateIps: boolean,
  signal?: AbortSignal,
): Promise<SocketAddr> {
  if (ingress.kind === 'socket') {
    if (!usable(ingress.addr.ip, allowPrivateIps)) {
      throw new P2PError('InvalidAddress', `${ingress.addr.ip} is not a global IP`);
    }
    return ingress.addr;
  }
  const ips = (await ctx.network.resolve(ingress.host, signal)).filter((ip) =>
    usable(ip, allowPrivateIps),
  );
  if (ips.length === 0) {
    throw new P2PError('InvalidAddress', `${ingress.host} resolved to no usable address`);
  }
  const ip = ips.length === 1 ? ips[0]! : ips[ctx.rng.int(0, ips.length)]!;
  return { ip, port: ingress.port };
}

function sessionFields(s: Session): Session {
  return { peer: s.peer, sender: s.sender, receiver: s.receiver, peerTimestamp: s.peerTimestamp };
}
