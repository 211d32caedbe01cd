import { select } from '../../../actor/index.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import { RateLimiter } from '../../../quota/index.js';
import type { Context } from '../../../runtime/context.js';
import { TurnClock, turnsOf } from '../../../runtime/turn.js';
import { P2PError } from '../../errors.js';
import type { InboundChannel } from '../channels.js';
import { dataMessage, smallDataStart } from '../data.js';
import { Relay, type RelayInboxes } from '../relay.js';
import type { Traffic } from '../traffic.js';
import { Mailbox } from './ingress.js';
import { bindCounter, dataLabel, type PeerMetrics, peerLabels } from './metrics.js';
import type {
  Config,
  Gate,
  InboundRoutes,
  PeerConnection,
  PeerIo,
  Protocol,
  StreamReceiver,
} from './protocol.js';
import { errorOf, type LoopState, sendLoop } from './send-loop.js';

/** Per-channel inbound state of one connection. */
interface Route extends Gate {
  readonly inbound: InboundChannel;
  /** The channel's traffic totals. */
  readonly channelTraffic: Traffic;
}

/**
 * The reason `halt` aborts with: a preallocated value (a default abort reason is a DOMException,
 * costly to build). Only cancelled sleeps ever reject with it, and the loops discard those.
 */
const HALTED = new P2PError('PeerDisconnected', 'peer halted');

/** How many buffered frames the receive loop handles in a row before giving up a turn. */
const SYNC_FRAMES = 64;

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
   * Runs the connection until a loop ends, the peer is killed, or `ctx` stops; then stops the
   * other loop, closes the connection and the queues, and returns why it ended:
   * `PeerKilled`, `NetworkClosed` (context stopped), `SendFailed`, `ReceiveFailed`,
   * `DecodeFailed`, `InvalidChannel` or the protocol's own reason. Rejects only if called twice.
   *
   * Both loops are plain async functions of this one task (no child tasks: a peer is a single
   * task, scope and AbortController, plus `halt` below, whatever its traffic). Ending one ends the
   * other: closing the connection fails a pending `recv`/`sendMany`, closing the queues wakes an
   * idle sender, and aborting `halt` cancels the tick timer and any quota sleep.
   */
  async run(ctx: Context, conn: PeerConnection): Promise<P2PError> {
    if (this.#ran) throw new P2PError('InvalidConfig', 'a peer actor runs once');
    this.#ran = true;
    const peer = conn.peer.toHex();
    const log = ctx.log.child({ peer });
    log.debug({}, 'peer started');
    const halt = new AbortController();
    const traffic = this.#metrics.traffic.peer(peer);
    this.#relay.traffic = traffic;
    const state: LoopState = { halted: false, signal: halt.signal, traffic };
    const sender = sendLoop(ctx, state, peer, conn.sender, {
      queues: this.#queues,
      control: this.#control,
      protocol: this.#protocol,
      batchSize: this.#sendBatchSize,
      metrics: this.#metrics,
    });
    const receiver = this.#recvLoop(ctx, state, conn.peer, peer, conn.receiver);
    let reason: P2PError;
    try {
      const arm = await select(ctx.signal, this.#control.killed, sender, receiver);
      if (arm === -1) reason = new P2PError('NetworkClosed');
      else if (arm === 0) reason = this.#control.reason;
      else if (arm === 1)
        reason = await sender.then(
          (r) => r,
          (e) => errorOf('SendFailed', e),
        );
      else
        reason = await receiver.then(
          (r) => r,
          (e) => errorOf('ReceiveFailed', e),
        );
    } finally {
      state.halted = true;
      halt.abort(HALTED);
      conn.connection.close();
      this.#queues.high.close();
      this.#queues.low.close();
      this.#control.close();
    }
    // Both loops return once halted (a pending recv/sendMany fails with the closed connection).
    await Promise.allSettled([sender, receiver]);
    log.debug({ reason: reason.code }, 'peer stopped');
    return reason;
  }

  async #recvLoop(
    ctx: Context,
    state: LoopState,
    publicKey: PublicKey,
    peer: string,
    stream: StreamReceiver,
  ): Promise<P2PError> {
    const metrics = this.#metrics;
    const protocol = this.#protocol;
    const invalid = peerLabels(peer, 'invalid');
    const routes = new Map<number, Route>();
    let lastChannel = Number.NaN;
    let lastRoute: Route | undefined;
    const maxMessageSize = this.#channels.maxMessageSize;
    // The inbound limiters read the clock once per turn, not once per frame.
    const clock = new TurnClock(ctx.clock, turnsOf(ctx));
    const io: PeerIo = {
      ctx,
      peer: publicKey,
      peerHex: peer,
      maxMessageSize,
      gate: (message, quota) => {
        const labels = peerLabels(peer, message);
        return {
          limiter: new RateLimiter(quota, clock),
          labels,
          received: bindCounter(metrics.received, labels),
        };
      },
      throttle: (gate) => this.#throttle(ctx, state, gate),
      invalid: () => metrics.received.inc(invalid),
    };
    // Frames already buffered are taken without a turn each, up to SYNC_FRAMES in a row: then
    // one turn, so the application consuming the channels runs between runs.
    const canTry = stream.tryRecv !== undefined;
    let inRow = 0;
    try {
      for (;;) {
        let frame: Uint8Array | undefined;
        try {
          if (canTry && inRow < SYNC_FRAMES) {
            frame = stream.tryRecv?.();
            inRow++;
          }
          if (frame === undefined) {
            inRow = 0;
            frame = await stream.recv();
          }
        } catch (err) {
          if (ctx.signal.aborted) return new P2PError('NetworkClosed');
          ctx.log.debug({ peer, err: String(err) }, 'receive failed');
          return errorOf('ReceiveFailed', err);
        }
        if (state.halted) return new P2PError('PeerDisconnected');
        state.traffic.bytesIn += frame.length;

        // Fast path: a small data frame on a low channel, read without a Reader.
        let channel: number;
        let message: Uint8Array;
        const start = protocol.open ? smallDataStart(frame, maxMessageSize) : -1;
        if (start >= 0) {
          channel = frame[1] as number;
          message = dataMessage(frame, start);
        } else {
          let received = protocol.receive(frame, io);
          // Most control frames are handled synchronously: no extra turn for those.
          if (received instanceof Promise) received = await received;
          if (state.halted) return new P2PError('PeerDisconnected');
          if (received === null) continue;
          if (received instanceof P2PError) return received;
          channel = received.channel;
          message = received.message;
        }

        // Data almost always arrives on one or two channels: remember the last route.
        let route = channel === lastChannel ? lastRoute : routes.get(channel);
        if (route === undefined) {
          const inbound = this.#channels.inbound(channel);
          if (inbound === undefined) {
            // Never a metric label with the remote's channel number: constant cardinality.
            metrics.received.inc(invalid);
            ctx.log.debug({ peer, channel }, 'data on an unknown channel');
            return new P2PError('InvalidChannel', `unknown channel ${channel}`);
          }
          const labels = peerLabels(peer, dataLabel(channel));
          route = {
            inbound,
            limiter: new RateLimiter(inbound.quota, clock),
            labels,
            received: bindCounter(metrics.received, labels),
            channelTraffic: metrics.traffic.channel(channel),
          };
          routes.set(channel, route);
        }
        lastChannel = channel;
        lastRoute = route;
        route.received.inc();
        state.traffic.messagesIn++;
        route.channelTraffic.messagesIn++;
        // Within quota (the usual case) the frame is delivered without an extra await.
        const next = route.limiter.check();
        if (next !== true && !(await this.#wait(ctx, state, route, next)))
          return new P2PError('PeerDisconnected');
        // A full channel queue drops this message (counted by the channel), never blocks.
        if (!route.inbound.deliver(publicKey, message)) {
          state.traffic.dropped++;
          route.channelTraffic.dropped++;
        }
      }
    } catch (err) {
      // Only a sleep cancelled by shutdown lands here.
      if (ctx.signal.aborted) return new P2PError('NetworkClosed');
      return errorOf('ReceiveFailed', err);
    }
  }

  /**
   * Counts a frame on `gate`, then waits until its limiter grants a cell: backpressure, nothing
   * is dropped. Returns false if the peer was halted meanwhile (the frame must not be handled).
   * A stop of `ctx` halts the peer too, so the sleep listens to `halt` only.
   */
  async #throttle(ctx: Context, state: LoopState, gate: Gate): Promise<boolean> {
    gate.received.inc();
    const next = gate.limiter.check();
    return next === true ? true : this.#wait(ctx, state, gate, next);
  }

  /**
   * The slow half of {@link #throttle}, once a check was refused (`first`: the time it named):
   * counts once and sleeps until the limiter grants a cell. Returns false if the peer was halted
   * meanwhile.
   */
  async #wait(ctx: Context, state: LoopState, gate: Gate, first: number): Promise<boolean> {
    this.#metrics.rateLimited.inc(gate.labels);
    state.traffic.rateLimited++;
    let next: true | number = first;
    while (next !== true) {
      await ctx.clock.sleepUntil(next, state.signal);
      if (state.halted) return false;
      next = gate.limiter.check();
    }
    return true;
  }
}
