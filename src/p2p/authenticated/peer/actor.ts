import type { Context } from '../../../runtime/context.js';
import { isStopped, offStop, onStop } from '../../../runtime/stop.js';
import { P2PError } from '../../errors.js';
import { Relay } from '../relay.js';
import type { Traffic } from '../traffic.js';
import { Mailbox } from './ingress.js';
import type { Config, PeerConnection, Protocol } from './protocol.js';
import { RecvPump, type RunParts } from './receive.js';
import { type Halves, type LoopState, SendPump } from './send-loop.js';

/** @throws P2PError `InvalidConfig` unless `v` is a positive safe integer. */
export function checkPositive(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new P2PError('InvalidConfig', `${name} must be a positive integer, got ${v}`);
  }
}

/** Who hears how a run of {@link Actor.start} ended: an object, so its owner needs no closure. */
export interface RunOwner {
  /** Called once, with the reason {@link Actor.run} would resolve with. */
  runEnded(reason: P2PError): void;
}

/**
 * The peer actor harness shared by both flavours (upstream `actors/peer/actor.rs`): runs one
 * authenticated connection as two halves, each a small state machine driven by callbacks (an idle
 * connection parks no async function, no `select` and no AbortController: it holds its pending
 * read, its tick timer and the watchers on its queues).
 *
 * - Sender (`send-loop.ts`): writes the protocol's preamble, then, when woken by a kill, control
 *   frames, high or low queued payloads, or the protocol's tick, takes what is ready up to
 *   `sendBatchSize` (tick frame, control, high, low) and writes it with one `sendMany`.
 * - Receiver (`receive.ts`): small data frames on a low channel take a fast path once the
 *   protocol is open; every other frame goes to the protocol. Data on an unregistered channel
 *   ends the connection (`InvalidChannel`, counted as `invalid`); data on a registered channel
 *   waits for this peer's per-channel inbound quota (a timer: backpressure on this connection
 *   only, nothing dropped) and is then delivered to the channel.
 *
 * The first half to end ends the connection (a stop of the context or a kill too, first): the
 * other is stopped and the connection closed.
 */
export class Actor {
  /** Configuration and queues, shared with each run's halves (one object per peer). */
  readonly #parts: RunParts;
  #ran = false;

  private constructor(parts: RunParts) {
    this.#parts = parts;
  }

  /**
   * Creates a peer actor running `protocol`, its control mailbox (for the tracker) and its relay
   * (for the router).
   *
   * @throws P2PError `InvalidConfig` if a size or period is not a positive integer.
   */
  static create(config: Config, protocol: Protocol): [Actor, Mailbox, Relay] {
    checkPositive('mailboxSize', config.mailboxSize);
    checkPositive('sendBatchSize', config.sendBatchSize);
    checkPositive('tick period', protocol.tickMs);
    const [relay, queues] = Relay.create(config.mailboxSize, config.relayMetrics);
    const control = new Mailbox(config.mailboxSize);
    const parts: RunParts = {
      sendBatchSize: config.sendBatchSize,
      channels: config.channels,
      metrics: config.metrics,
      protocol,
      control,
      queues,
      relay,
    };
    return [new Actor(parts), control, relay];
  }

  /** The control mailbox made by {@link create}. */
  get control(): Mailbox {
    return this.#parts.control;
  }

  /**
   * Runs the connection until a half ends, the peer is killed, or `ctx` stops; then stops the
   * other half, closes the connection and the queues, and resolves with why it ended:
   * `PeerKilled`, `NetworkClosed` (context stopped), `SendFailed`, `ReceiveFailed`,
   * `DecodeFailed`, `InvalidChannel` or the protocol's own reason. Rejects only if called twice.
   *
   * Both halves are small state machines driven by callbacks (no async function stays parked
   * per connection, no `select`, no AbortController: an idle connection holds its pending
   * read, a callback of the stream without a promise, its tick timer and the watchers on its
   * queues). Ending one ends the other: closing the connection fails a pending read or
   * `sendMany`, the sender stops at once, and a quota sleep
   * is cancelled. The promise resolves once neither half is waiting on anything.
   */
  run(ctx: Context, conn: PeerConnection): Promise<P2PError> {
    return new Promise<P2PError>((resolve) => this.start(ctx, conn, { runEnded: resolve }));
  }

  /**
   * {@link run} without its promise: `owner.runEnded` is called once, with the reason `run`
   * would resolve with (the spawner's form: no promise or closure per connection).
   *
   * @throws P2PError `InvalidConfig` if the actor already ran.
   */
  start(ctx: Context, conn: PeerConnection, owner: RunOwner): void {
    if (this.#ran) throw new P2PError('InvalidConfig', 'a peer actor runs once');
    this.#ran = true;
    new Run(this.#parts, ctx, conn, owner).start();
  }
}

// A run's flags.
/** It watches its context's stop (`onStop`). */
const WATCHING_STOP = 1;
/** A decision is queued on a microtask. */
const DECIDING = 2;
/** A kill was seen; it ends the run once {@link KILL_DECIDED} (at the end of that turn). */
const KILL_SEEN = 4;
const KILL_DECIDED = 8;
/** The owner was told. */
const ENDED = 16;

/**
 * One run of a peer actor: starts both halves, decides why the connection ended (by priority,
 * as `select` did: stop, kill, sender, receiver) and tears it down. It is the watcher of its
 * control mailbox, of its context's stop and of its halves once halted ({@link Run.wake}): no
 * closure per connection.
 */
class Run implements Halves, LoopState {
  readonly #parts: RunParts;
  readonly #ctx: Context;
  readonly #conn: PeerConnection;
  readonly #owner: RunOwner;
  // ---------- LoopState (shared with the halves) ----------
  /** @internal */
  halted = false;
  /** @internal */
  readonly traffic: Traffic;
  /** @internal */
  cancelSleep: (() => void) | undefined = undefined;
  readonly #peer: string;
  readonly #sender: SendPump;
  readonly #receiver: RecvPump;
  #senderReason: P2PError | undefined;
  #receiverReason: P2PError | undefined;
  #reason: P2PError | undefined;
  /** The run's flags ({@link WATCHING_STOP} ...): one field, not five, per connection. */
  #flags = 0;

  constructor(parts: RunParts, ctx: Context, conn: PeerConnection, owner: RunOwner) {
    this.#parts = parts;
    this.#ctx = ctx;
    this.#conn = conn;
    this.#owner = owner;
    const peer = conn.peer.toHex();
    this.#peer = peer;
    const traffic = parts.metrics.traffic.peer(peer);
    parts.relay.traffic = traffic;
    this.traffic = traffic;
    // The run is the halves' shared state (no object of its own per connection).
    this.#sender = new SendPump(ctx, this, peer, conn.sender, parts, this);
    this.#receiver = new RecvPump(ctx, this, parts, conn, this);
  }

  start(): void {
    this.#ctx.log.debug({ peer: this.#peer }, 'peer started');
    this.#parts.control.watch(this);
    this.#sender.start();
    this.#receiver.start();
    if (isStopped(this.#ctx)) this.#schedule();
    else {
      onStop(this.#ctx, this);
      this.#flags |= WATCHING_STOP;
    }
    if (this.#parts.control.isKilled) this.wake();
  }

  /**
   * @internal The one watcher of the run: a stop, or a half going idle once halted, schedules
   * the decision; otherwise it is the control mailbox. A kill ends the run whatever the sender
   * is doing; a queued frame wakes the sender. The kill is decided at the end of the turn, once
   * the promise continuations now running are over: a kill that supersedes this connection is
   * made while the tracker admits the new one, whose relay then reaches the router (in this
   * turn) before this one's release, so the application sees no disconnection.
   */
  wake(): void {
    if (this.halted || isStopped(this.#ctx)) {
      this.#schedule();
      return;
    }
    if (this.#parts.control.isKilled && (this.#flags & KILL_SEEN) === 0) {
      this.#flags |= KILL_SEEN;
      this.#ctx.endOfTurn(() => {
        this.#flags |= KILL_DECIDED;
        this.#schedule();
      });
    }
    this.#sender.wake();
  }

  ended(reason: P2PError, sender: boolean): void {
    if (sender) this.#senderReason ??= reason;
    else this.#receiverReason ??= reason;
    this.#schedule();
  }

  /** Something may have ended the run: decide on a microtask (so a burst settles first). */
  #schedule(): void {
    if ((this.#flags & DECIDING) !== 0) return;
    this.#flags |= DECIDING;
    queueMicrotask(() => this.#decide());
  }

  #decide(): void {
    this.#flags &= ~DECIDING;
    let reason = this.#reason;
    if (reason === undefined) {
      const control = this.#parts.control;
      if (isStopped(this.#ctx)) reason = new P2PError('NetworkClosed');
      else if (control.isKilled) {
        // Whatever else ended meanwhile (the sender stops on a kill), the kill decides, at the
        // end of its turn.
        if ((this.#flags & KILL_DECIDED) === 0) return;
        reason = control.reason;
      } else reason = this.#senderReason ?? this.#receiverReason;
      if (reason === undefined) return;
      this.#reason = reason;
      this.#halt();
    }
    // Both halves return once halted (a pending recv/sendMany fails with the closed connection).
    if ((this.#flags & ENDED) === 0 && this.#sender.idle && this.#receiver.idle) {
      this.#flags |= ENDED;
      this.#ctx.log.debug({ peer: this.#peer, reason: reason.code }, 'peer stopped');
      this.#owner.runEnded(reason);
    }
  }

  #halt(): void {
    this.halted = true;
    if ((this.#flags & WATCHING_STOP) !== 0) offStop(this.#ctx, this);
    this.#sender.stop();
    const cancel = this.cancelSleep;
    this.cancelSleep = undefined;
    cancel?.();
    this.#conn.connection.close();
    const { queues, control } = this.#parts;
    queues.high.close();
    queues.low.close();
    control.close();
    // A half waiting on I/O tells `ended` (again) when its wait fails: the decision then ends.
    this.#sender.onIdle(this);
    this.#receiver.onIdle(this);
  }
}
