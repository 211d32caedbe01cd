import { type Feedback, type Inbox, mailbox, select, unreliable } from '../../../../actor/index.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import type { Context, Handle } from '../../../../runtime/context.js';
import type { Relay } from '../../relay.js';
import { type RelayMetrics, relayMetrics } from '../../relay.js';
import { type InboundRoutes, Actor as PeerActor } from '../peer/actor.js';
import type { Mailbox as PeerMailbox } from '../peer/ingress.js';
import { PeerMetrics } from '../peer/metrics.js';
import { Mailbox, type Message } from './ingress.js';

/** What the spawner needs from the tracker (the tracker `Mailbox` implements it). */
export interface TrackerConnector {
  /**
   * Reports a new connection and its control handle. Fire-and-forget: the tracker calls
   * `control.kill()` if the peer is not eligible or a newer connection supersedes this one.
   */
  connect(peer: PublicKey, control: PeerMailbox): unknown;
}

/** What the spawner needs from the router (the router `Mailbox` implements it). */
export interface RouterLifecycle {
  ready(peer: PublicKey, relay: Relay): Feedback;
  release(peer: PublicKey, relay?: Relay): Feedback;
}

/** The lookup configuration fields the spawner and its peers use. */
export interface SpawnerSettings {
  /** Spawner mailbox capacity, and each peer relay queue's capacity, in messages. */
  readonly mailboxSize: number;
  /** Most messages per `sendMany`. */
  readonly sendBatchSize: number;
  /** Keep-alive ping period in ms. */
  readonly pingFrequencyMs: number;
}

/** Everything {@link Spawner.create} wires together. */
export interface SpawnerConfig {
  readonly tracker: TrackerConnector;
  readonly router: RouterLifecycle;
  readonly channels: InboundRoutes;
  readonly config: SpawnerSettings;
  /** Message counters; registered under the spawner's context if omitted. */
  readonly metrics?: PeerMetrics;
  /** Relay drop counters; registered under the spawner's context if omitted. */
  readonly relayMetrics?: RelayMetrics;
}

/** Most messages handled per wake-up. */
const BATCH = 64;

/**
 * The spawner (upstream `lookup/actors/spawner/actor.rs`): turns each authenticated connection
 * into a running peer actor. For each spawn it creates the peer actor and its relay, reports the
 * connection to the tracker (`connect`, fire-and-forget), registers the relay with the router
 * (`ready`), runs the peer (which closes the connection when it ends), then releases the router
 * entry and only then the reservation, so the router forgets this connection before the tracker
 * can admit a new one for the same peer.
 */
export class Spawner {
  // ---------- Configuration ----------
  readonly #context: Context;
  readonly #settings: SpawnerSettings;
  readonly #metrics: PeerMetrics;
  readonly #relayMetrics: RelayMetrics;

  // ---------- Message-Passing ----------
  readonly #inbox: Inbox<Message>;
  readonly #tracker: TrackerConnector;
  readonly #router: RouterLifecycle;
  readonly #channels: InboundRoutes;

  // ---------- State ----------
  #live = 0;

  private constructor(context: Context, config: SpawnerConfig, inbox: Inbox<Message>) {
    this.#context = context;
    this.#settings = config.config;
    this.#metrics = config.metrics ?? PeerMetrics.create(context.metrics);
    this.#relayMetrics = config.relayMetrics ?? relayMetrics(context.metrics);
    this.#inbox = inbox;
    this.#tracker = config.tracker;
    this.#router = config.router;
    this.#channels = config.channels;
  }

  /**
   * Creates the spawner and its mailbox (capacity `config.mailboxSize`; a spawn beyond it is
   * rejected, releasing its reservation and closing its connection).
   *
   * @throws RangeError if `mailboxSize` is not a positive safe integer.
   */
  static create(context: Context, config: SpawnerConfig): [Spawner, Mailbox] {
    const [sender, inbox] = mailbox<Message>(config.config.mailboxSize, unreliable());
    return [new Spawner(context, config, inbox), new Mailbox(sender)];
  }

  /** Spawns the spawner loop (task `spawner`); peers run as its children (tasks `peer`). */
  start(): Handle<void> {
    return this.#context.spawn('spawner', (ctx) => this.#run(ctx));
  }

  /** Number of peer actors currently running. */
  get live(): number {
    return this.#live;
  }

  async #run(ctx: Context): Promise<void> {
    const inbox = this.#inbox;
    try {
      while ((await select(ctx.signal, inbox.ready(ctx.signal))) === 0 && !inbox.isClosed) {
        for (const m of inbox.drain(BATCH)) this.#spawn(ctx, m);
      }
    } finally {
      // Connections still queued never ran: give their slots back.
      for (const m of inbox.drain()) {
        m.connection.connection.close();
        m.reservation.release();
      }
      inbox.close();
      ctx.log.debug({}, 'spawner stopped');
    }
  }

  #spawn(ctx: Context, m: Message): void {
    const { connection, reservation } = m;
    const [actor, control, relay] = PeerActor.create({
      mailboxSize: this.#settings.mailboxSize,
      sendBatchSize: this.#settings.sendBatchSize,
      pingFrequencyMs: this.#settings.pingFrequencyMs,
      channels: this.#channels,
      metrics: this.#metrics,
      relayMetrics: this.#relayMetrics,
    });
    const peer = connection.peer;
    this.#live++;
    ctx.spawn('peer', async (peerCtx) => {
      try {
        this.#tracker.connect(peer, control);
        this.#router.ready(peer, relay);
        const reason = await actor.run(peerCtx, connection);
        peerCtx.log.debug({ peer: peer.toHex(), reason: reason.code }, 'peer exited');
      } finally {
        this.#live--;
        this.#router.release(peer, relay);
        connection.connection.close();
        reservation.release();
      }
    });
  }
}
