import { type Feedback, type Inbox, mailbox, select, unreliable } from '../../../actor/index.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Context, Handle } from '../../../runtime/context.js';
import { isStopped, spawnCallback, type TaskEnd } from '../../../runtime/stop.js';
import type { P2PError } from '../../errors.js';
import type { Actor as PeerActor, RunOwner } from '../peer/actor.js';
import type { Mailbox as PeerMailbox } from '../peer/ingress.js';
import { PeerMetrics } from '../peer/metrics.js';
import type { PeerConnection } from '../peer/protocol.js';
import type { Relay } from '../relay.js';
import { type RelayMetrics, relayMetrics } from '../relay.js';
import { Mailbox, type Message, type Releasable } from './ingress.js';

/** What the spawner needs from the router (the router `Mailbox` implements it). */
export interface RouterLifecycle {
  ready(peer: PublicKey, relay: Relay): Feedback;
  release(peer: PublicKey, relay?: Relay, reason?: string): Feedback;
}

/** The counters every peer actor of one network shares (registered once by the spawner). */
export interface SharedPeerMetrics {
  readonly metrics: PeerMetrics;
  readonly relayMetrics: RelayMetrics;
}

/**
 * A network flavour's part of the spawner: how to make a peer actor for a new connection, and
 * how to report that connection to the flavour's tracker.
 */
export interface PeerFlavour {
  /** Makes the peer actor, its control mailbox and its relay for a connection with `peer`. */
  create(peer: PublicKey, shared: SharedPeerMetrics): [PeerActor, PeerMailbox, Relay];
  /**
   * Reports the connection to the tracker, `dialer` telling whether we dialed it. Resolves false
   * if the tracker did not admit it (no longer eligible, or superseded by a simultaneous
   * connection): the connection is then closed without running the peer.
   */
  connect(
    peer: PublicKey,
    control: PeerMailbox,
    dialer: boolean,
    reservation: Releasable,
  ): Promise<boolean>;
}

/** Everything {@link Spawner.create} wires together. */
export interface SpawnerConfig {
  readonly router: RouterLifecycle;
  readonly flavour: PeerFlavour;
  /** Spawner mailbox capacity, in spawn requests. */
  readonly mailboxSize: number;
  /** Message counters; registered under the spawner's context if omitted. */
  readonly metrics?: PeerMetrics;
  /** Relay drop counters; registered under the spawner's context if omitted. */
  readonly relayMetrics?: RelayMetrics;
}

/** Most messages handled per wake-up. */
const BATCH = 64;

/**
 * The spawner (upstream `actors/spawner/actor.rs`, one for both flavours): turns each
 * authenticated connection into a running peer actor. For each spawn it creates the flavour's
 * peer actor and its relay, reports the connection to the tracker (the flavour's `connect`; a
 * peer no longer eligible is closed at once), registers the relay with the router (`ready`), runs
 * the peer (which closes the connection when it ends), then releases the router entry and only
 * then the reservation, so the router forgets this connection before the tracker can admit a new
 * one for the same peer.
 */
export class Spawner {
  // ---------- Configuration ----------
  readonly #context: Context;
  readonly #shared: SharedPeerMetrics;
  readonly #flavour: PeerFlavour;

  // ---------- Message-Passing ----------
  readonly #inbox: Inbox<Message>;
  readonly #router: RouterLifecycle;

  // ---------- State ----------
  #live = 0;

  private constructor(context: Context, config: SpawnerConfig, inbox: Inbox<Message>) {
    this.#context = context;
    this.#shared = {
      metrics: config.metrics ?? PeerMetrics.create(context.metrics),
      relayMetrics: config.relayMetrics ?? relayMetrics(context.metrics),
    };
    this.#flavour = config.flavour;
    this.#inbox = inbox;
    this.#router = config.router;
  }

  /**
   * Creates the spawner and its mailbox (capacity `config.mailboxSize`; a spawn beyond it is
   * rejected, releasing its reservation and closing its connection).
   *
   * @throws RangeError if `mailboxSize` is not a positive safe integer.
   */
  static create(context: Context, config: SpawnerConfig): [Spawner, Mailbox] {
    const [sender, inbox] = mailbox<Message>(config.mailboxSize, unreliable());
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

  /** @internal A peer task ended: registered with the router if it ran (see {@link PeerTask}). */
  ended(peer: PublicKey, relay: Relay, ran: boolean, why: string | undefined): void {
    this.#live--;
    if (ran) this.#router.release(peer, relay, why ?? 'stopped');
  }

  /** @internal A peer was admitted: route to it. */
  ready(peer: PublicKey, relay: Relay): void {
    this.#router.ready(peer, relay);
  }

  /** @internal The flavour's admission of a connection. */
  connect(m: Message, control: PeerMailbox): Promise<boolean> {
    return this.#flavour.connect(m.connection.peer, control, m.dialer, m.reservation);
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
    const [actor, control, relay] = this.#flavour.create(m.connection.peer, this.#shared);
    this.#live++;
    spawnCallback<void>(ctx, 'peer', (peerCtx, end) => {
      new PeerTask(this, peerCtx, m, relay, end).start(m, actor, control);
    });
  }
}

/**
 * One peer task of the {@link Spawner}: admits the connection, runs the actor, and releases the
 * router entry and then the reservation. Callbacks on one object rather than an async function
 * (thousands of connected peers each park here for their whole life: a suspended generator, or a
 * closure per step, costs several times the task's own promise), and a callback task: no promise
 * or resolving functions either. It is its run's owner ({@link RunOwner}): no closure for that.
 */
class PeerTask implements RunOwner {
  readonly #spawner: Spawner;
  readonly #ctx: Context;
  readonly #connection: PeerConnection;
  readonly #reservation: Releasable;
  readonly #relay: Relay;
  readonly #end: TaskEnd<void>;
  /** Until it runs (then only its run holds what it needs). */
  #actor: PeerActor | undefined;
  #ready = false;

  constructor(spawner: Spawner, ctx: Context, m: Message, relay: Relay, end: TaskEnd<void>) {
    this.#spawner = spawner;
    this.#ctx = ctx;
    this.#connection = m.connection;
    this.#reservation = m.reservation;
    this.#relay = relay;
    this.#end = end;
  }

  /** Asks the flavour to admit the connection of `m`, then runs `actor` (see {@link #admitted}). */
  start(m: Message, actor: PeerActor, control: PeerMailbox): void {
    this.#actor = actor;
    try {
      this.#spawner.connect(m, control).then(
        (ok) => this.#admitted(ok),
        (err: unknown) => this.#fail(err),
      );
    } catch (err) {
      this.#fail(err);
    }
  }

  #admitted(ok: boolean): void {
    const ctx = this.#ctx;
    const connection = this.#connection;
    const actor = this.#actor as PeerActor;
    this.#actor = undefined;
    try {
      if (!ok || isStopped(ctx)) {
        ctx.log.debug({ peer: connection.peer.toHex() }, 'peer no longer eligible; closing');
        this.#release(undefined);
        this.#end.returned(undefined);
        return;
      }
      this.#ready = true;
      this.#spawner.ready(connection.peer, this.#relay);
      actor.start(ctx, connection, this);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** @internal The peer's run ended (see {@link RunOwner}). */
  runEnded(reason: P2PError): void {
    try {
      this.#ctx.log.debug(
        { peer: this.#connection.peer.toHex(), reason: reason.code },
        'peer exited',
      );
      this.#release(reason.code);
      this.#end.returned(undefined);
    } catch (err) {
      this.#end.threw(err);
    }
  }

  #fail(err: unknown): void {
    try {
      this.#release(undefined);
    } finally {
      this.#end.threw(err);
    }
  }

  /** Releases the router entry (if the peer ran), then the connection and the reservation. */
  #release(why: string | undefined): void {
    const connection = this.#connection;
    this.#spawner.ended(connection.peer, this.#relay, this.#ready, why);
    connection.connection.close();
    this.#reservation.release();
  }
}
