import type { Context } from '../../../runtime/context.js';
import { isStopped, onStop } from '../../../runtime/stop.js';
import { P2PError } from '../../errors.js';
import { Relay, type RelayInboxes } from '../relay.js';
import { Mailbox } from './ingress.js';
import type { PeerMetrics } from './metrics.js';
import type { Config, InboundRoutes, PeerConnection, Protocol } from './protocol.js';
import { RecvPump, type RunParts } from './receive.js';
import { type LoopState, SendPump } from './send-loop.js';

/** @throws P2PError `InvalidConfig` unless `v` is a positive safe integer. */
export function checkPositive(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new P2PError('InvalidConfig', `${name} must be a positive integer, got ${v}`);
  }
}

/**
 * The peer actor harness shared by both flavours (upstream `actors/peer/actor.rs`): runs one
 * authenticated connection with two loops.
 *
 * - Sender (`send-loop.ts`): writes the protocol's preamble, then waits for a kill, control
 *   frames, high or low queued payloads, or the protocol's tick; takes what is ready up to
 *   `sendBatchSize` (tick frame, control, high, low) and writes it with one `sendMany`.
 * - Receiver: small data frames on a low channel take a fast path once the protocol is open;
 *   every other frame goes to the protocol. Data on an unregistered channel ends the connection
 *   (`InvalidChannel`, counted as `invalid`); data on a registered channel waits for this peer's
 *   per-channel inbound quota (sleeping: backpressure on this connection only, nothing dropped)
 *   and is then delivered to the channel.
 *
 * The first loop to end ends the connection: the other is stopped and the connection closed.
 */
export class Actor {
  // ---------- Configuration ----------
  readonly #sendBatchSize: number;
  readonly #channels: InboundRoutes;
  readonly #metrics: PeerMetrics;
  readonly #protocol: Protocol;

  // ---------- Message-Passing ----------
  readonly #control: Mailbox;
  readonly #queues: RelayInboxes;
  readonly #relay: Relay;

  #ran = false;

  private constructor(
    config: Config,
    protocol: Protocol,
    control: Mailbox,
    relay: Relay,
    queues: RelayInboxes,
  ) {
    this.#sendBatchSize = config.sendBatchSize;
    this.#channels = config.channels;
    this.#metrics = config.metrics;
    this.#protocol = protocol;
    this.#control = control;
    this.#queues = queues;
    this.#relay = relay;
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
    return [new Actor(config, protocol, control, relay, queues), control, relay];
  }

  /** The control mailbox made by {@link create}. */
  get control(): Mailbox {
    return this.#control;
  }

  /**
   * Runs the connection until a half ends, the peer is killed, or `ctx` stops; then stops the
   * other half, closes the connection and the queues, and resolves with why it ended:
   * `PeerKilled`, `NetworkClosed` (context stopped), `SendFailed`, `ReceiveFailed`,
   * `DecodeFailed`, `InvalidChannel` or the protocol's own reason. Rejects only if called twice.
   *
   * Both halves are small state machines driven by callbacks (no async function stays parked
   * per connection, no `select`, no AbortController: an idle connection holds its pending
   * `recv`, its tick timer and the watchers on its queues). Ending one ends the other: closing
   * the connection fails a pending `recv`/`sendMany`, the sender stops at once, and a quota sleep
   * is cancelled. The promise resolves once neither half is waiting on anything.
   */
  run(ctx: Context, conn: PeerConnection): Promise<P2PError> {
    if (this.#ran) return Promise.reject(new P2PError('InvalidConfig', 'a peer actor runs once'));
    this.#ran = true;
    return new Promise<P2PError>((resolve) => new Run(this.#parts(), ctx, conn, resolve).start());
  }

  #parts(): RunParts {
    return {
      sendBatchSize: this.#sendBatchSize,
      channels: this.#channels,
      metrics: this.#metrics,
      protocol: this.#protocol,
      control: this.#control,
      queues: this.#queues,
      relay: this.#relay,
    };
  }
}

/**
 * One run of a peer actor: starts both halves, decides why the connection ended (by priority,
 * as `select` did: stop, kill, sender, receiver) and tears it down.
 */
class Run {
  readonly #parts: RunParts;
  readonly #ctx: Context;
  readonly #conn: PeerConnection;
  readonly #resolve: (reason: P2PError) => void;
  readonly #state: LoopState;
  readonly #peer: string;
  readonly #sender: SendPump;
  readonly #receiver: RecvPump;
  #unwatchStop: (() => void) | undefined;
  #senderReason: P2PError | undefined;
  #receiverReason: P2PError | undefined;
  /** A decision is queued on a microtask. */
  #deciding = false;
  /** A kill was seen; it ends the run once {@link #killDecided} (at the end of that turn). */
  #killSeen = false;
  #killDecided = false;
  #reason: P2PError | undefined;
  #resolved = false;

  constructor(
    parts: RunParts,
    ctx: Context,
    conn: PeerConnection,
    resolve: (reason: P2PError) => void,
  ) {
    this.#parts = parts;
    this.#ctx = ctx;
    this.#conn = conn;
    this.#resolve = resolve;
    const peer = conn.peer.toHex();
    this.#peer = peer;
    const traffic = parts.metrics.traffic.peer(peer);
    parts.relay.traffic = traffic;
    this.#state = { halted: false, traffic, cancelSleep: undefined };
    this.#sender = new SendPump(
      ctx,
      this.#state,
      peer,
      conn.sender,
      {
        queues: parts.queues,
        control: parts.control,
        protocol: parts.protocol,
        batchSize: parts.sendBatchSize,
        metrics: parts.metrics,
      },
      this.#senderDone,
    );
    this.#receiver = new RecvPump(ctx, this.#state, parts, conn, peer, this.#receiverDone);
  }

  start(): void {
    this.#ctx.log.debug({ peer: this.#peer }, 'peer started');
    this.#parts.control.watch(this.#onControl);
    this.#sender.start();
    this.#receiver.start();
    if (isStopped(this.#ctx)) this.#schedule();
    else this.#unwatchStop = onStop(this.#ctx, this.#schedule);
    if (this.#parts.control.isKilled) this.#onControl();
  }

  /**
   * A kill ends the run whatever the sender is doing; a queued frame wakes the sender. The kill
   * is decided at the end of the turn, once the promise continuations now running are over: a
   * kill that supersedes this connection is made while the tracker admits the new one, whose
   * relay then reaches the router (in this turn) before this one's release, so the application
   * sees no disconnection.
   */
  readonly #onControl = (): void => {
    if (this.#parts.control.isKilled && !this.#killSeen) {
      this.#killSeen = true;
      this.#ctx.endOfTurn(this.#killDue);
    }
    this.#sender.wake();
  };

  readonly #killDue = (): void => {
    this.#killDecided = true;
    this.#schedule();
  };

  readonly #senderDone = (reason: P2PError): void => {
    this.#senderReason ??= reason;
    this.#schedule();
  };

  readonly #receiverDone = (reason: P2PError): void => {
    this.#receiverReason ??= reason;
    this.#schedule();
  };

  /** Something may have ended the run: decide on a microtask (so a burst settles first). */
  readonly #schedule = (): void => {
    if (this.#deciding) return;
    this.#deciding = true;
    queueMicrotask(this.#decide);
  };

  readonly #decide = (): void => {
    this.#deciding = false;
    let reason = this.#reason;
    if (reason === undefined) {
      const control = this.#parts.control;
      if (isStopped(this.#ctx)) reason = new P2PError('NetworkClosed');
      else if (control.isKilled) {
        // Whatever else ended meanwhile (the sender stops on a kill), the kill decides, at the
        // end of its turn.
        if (!this.#killDecided) return;
        reason = control.reason;
      } else reason = this.#senderReason ?? this.#receiverReason;
      if (reason === undefined) return;
      this.#reason = reason;
      this.#halt();
    }
    // Both halves return once halted (a pending recv/sendMany fails with the closed connection).
    if (!this.#resolved && this.#sender.idle && this.#receiver.idle) {
      this.#resolved = true;
      this.#ctx.log.debug({ peer: this.#peer, reason: reason.code }, 'peer stopped');
      this.#resolve(reason);
    }
  };

  #halt(): void {
    const state = this.#state;
    state.halted = true;
    this.#unwatchStop?.();
    this.#unwatchStop = undefined;
    this.#sender.stop();
    const cancel = state.cancelSleep;
    state.cancelSleep = undefined;
    cancel?.();
    this.#conn.connection.close();
    const { queues, control } = this.#parts;
    queues.high.close();
    queues.low.close();
    control.close();
    // A half waiting on I/O tells `done` (again) when its wait fails: the decision then resolves.
    this.#sender.onIdle(this.#schedule);
    this.#receiver.onIdle(this.#schedule);
  }
}
