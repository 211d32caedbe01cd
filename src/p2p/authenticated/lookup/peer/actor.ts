import { select } from '../../../../actor/index.js';
import { CodecError } from '../../../../codec/index.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import { Quota, RateLimiter } from '../../../../quota/index.js';
import type { Context, Labels } from '../../../../runtime/context.js';
import { P2PError } from '../../../errors.js';
import type { InboundChannel } from '../../channels.js';
import { peekDataChannel, smallDataStart } from '../../data.js';
import { Relay, type RelayInboxes, type RelayMetrics } from '../../relay.js';
import { decodeMessage, PING_FRAME } from '../types.js';
import { Mailbox } from './ingress.js';
import {
  type BoundCounter,
  bindCounter,
  dataLabel,
  type PeerMetrics,
  peerLabels,
} from './metrics.js';

/** The write half of an authenticated stream (the stream module's `Sender` implements it). */
export interface StreamSender {
  /** Writes each message as its own frame, in order; rejects if the connection fails. */
  sendMany(messages: readonly Uint8Array[]): Promise<void>;
}

/** The read half of an authenticated stream (the stream module's `Receiver` implements it). */
export interface StreamReceiver {
  /** Resolves with the next message; rejects once the connection fails or closes. */
  recv(): Promise<Uint8Array>;
}

/** An authenticated connection handed to a peer actor. */
export interface PeerConnection {
  /** The authenticated key of the remote peer. */
  readonly peer: PublicKey;
  readonly sender: StreamSender;
  readonly receiver: StreamReceiver;
  /** The underlying connection; closed when the actor ends (which fails a pending `recv`). */
  readonly connection: { close(): void };
}

/** Where the peer actor delivers inbound data (the {@link Channels} registry implements it). */
export interface InboundRoutes {
  /** The inbound side of `channel`, or `undefined` if it is not registered. */
  inbound(channel: number): InboundChannel | undefined;
  /** The largest application payload a Data message may carry, in bytes. */
  readonly maxMessageSize: number;
}

/** Configuration of one lookup peer actor. */
export interface Config {
  /** Capacity of each of the relay's high and low queues, in messages. */
  readonly mailboxSize: number;
  /** Most messages written with one `sendMany`. */
  readonly sendBatchSize: number;
  /**
   * Keep-alive period in ms: a Ping is sent every `pingFrequencyMs`, and inbound Pings are
   * limited to one per `max(pingFrequencyMs / 2, 1)` ms.
   */
  readonly pingFrequencyMs: number;
  /** The registered channels. */
  readonly channels: InboundRoutes;
  /** Shared message counters. */
  readonly metrics: PeerMetrics;
  /** Shared relay drop counters. */
  readonly relayMetrics?: RelayMetrics;
}

/** Per-channel inbound state of one connection (`inbound` is undefined for pings). */
interface Route {
  readonly inbound: InboundChannel | undefined;
  readonly limiter: RateLimiter;
  readonly labels: Labels;
  readonly received: BoundCounter;
}

/** What the run shares with its two loops. */
interface LoopState {
  /** Set once the run decided to end: the loops return at their next step. */
  halted: boolean;
  /** Aborted (with {@link HALTED}) at the same moment: cancels the ping timer and quota sleeps. */
  readonly signal: AbortSignal;
}

/**
 * The reason `halt` aborts with: a preallocated value (a default abort reason is a DOMException,
 * costly to build). Only cancelled sleeps ever reject with it, and the loops discard those.
 */
const HALTED = new P2PError('PeerDisconnected', 'peer halted');

function noop(): void {}

function checkPositive(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new P2PError('InvalidConfig', `${name} must be a positive integer, got ${v}`);
  }
}

function errorOf(code: 'SendFailed' | 'ReceiveFailed', err: unknown): P2PError {
  return err instanceof P2PError ? err : new P2PError(code, undefined, { cause: err });
}

/**
 * The lookup peer actor (upstream `lookup/actors/peer/actor.rs`): runs one authenticated
 * connection with two loops.
 *
 * - Sender: waits for a kill, high or low queued payloads, or the ping deadline (first one
 *   `pingFrequencyMs` after start); takes what is ready up to `sendBatchSize` (ping, then high,
 *   then low) and writes it with one `sendMany`.
 * - Receiver: decodes each frame as a lookup message. Data on an unregistered channel ends the
 *   connection (`InvalidChannel`, counted as `invalid`); data on a registered channel waits for
 *   this peer's per-channel inbound quota (sleeping: backpressure on this connection only,
 *   nothing dropped) and is then delivered to the channel; Pings wait for the ping quota and are
 *   ignored; a frame that does not decode ends the connection (`DecodeFailed`).
 *
 * The first loop to end ends the connection: the other is stopped and the connection closed.
 */
export class Actor {
  // ---------- Configuration ----------
  readonly #sendBatchSize: number;
  readonly #pingFrequencyMs: number;
  readonly #pingQuota: Quota;
  readonly #channels: InboundRoutes;
  readonly #metrics: PeerMetrics;

  // ---------- Message-Passing ----------
  readonly #control: Mailbox;
  readonly #queues: RelayInboxes;

  #ran = false;

  private constructor(config: Config, control: Mailbox, queues: RelayInboxes) {
    this.#sendBatchSize = config.sendBatchSize;
    this.#pingFrequencyMs = config.pingFrequencyMs;
    this.#pingQuota = Quota.withPeriod(Math.max(config.pingFrequencyMs / 2, 1));
    this.#channels = config.channels;
    this.#metrics = config.metrics;
    this.#control = control;
    this.#queues = queues;
  }

  /**
   * Creates a peer actor, its control mailbox (for the tracker) and its relay (for the router).
   *
   * @throws P2PError `InvalidConfig` if a size or period is not a positive integer.
   */
  static create(config: Config): [Actor, Mailbox, Relay] {
    checkPositive('mailboxSize', config.mailboxSize);
    checkPositive('sendBatchSize', config.sendBatchSize);
    checkPositive('pingFrequencyMs', config.pingFrequencyMs);
    const [relay, queues] = Relay.create(config.mailboxSize, config.relayMetrics);
    const control = new Mailbox();
    return [new Actor(config, control, queues), control, relay];
  }

  /**
   * Runs the connection until a loop ends, the peer is killed, or `ctx` stops; then stops the
   * other loop, closes the connection and the relay queues, and returns why it ended:
   * `PeerKilled`, `NetworkClosed` (context stopped), `SendFailed`, `ReceiveFailed`,
   * `DecodeFailed` or `InvalidChannel`. Rejects only if called a second time.
   *
   * Both loops are plain async functions of this one task (no child tasks: a peer is a single
   * task, scope and AbortController, plus `halt` below, whatever its traffic). Ending one ends the
   * other: closing the connection fails a pending `recv`/`sendMany`, closing the queues wakes an
   * idle sender, and aborting `halt` cancels the ping timer and any quota sleep.
   */
  async run(ctx: Context, conn: PeerConnection): Promise<P2PError> {
    if (this.#ran) throw new P2PError('InvalidConfig', 'a peer actor runs once');
    this.#ran = true;
    const peer = conn.peer.toHex();
    const log = ctx.log.child({ peer });
    log.debug({}, 'peer started');
    const halt = new AbortController();
    const state: LoopState = { halted: false, signal: halt.signal };
    const sender = this.#sendLoop(ctx, state, peer, conn.sender);
    const receiver = this.#recvLoop(ctx, state, conn.peer, peer, conn.receiver);
    let reason: P2PError;
    try {
      const arm = await select(ctx.signal, this.#control.killed, sender, receiver);
      if (arm === -1) reason = new P2PError('NetworkClosed');
      else if (arm === 0) reason = new P2PError('PeerKilled', 'peer killed by the tracker');
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
    }
    // Both loops return once halted (a pending recv/sendMany fails with the closed connection).
    await Promise.allSettled([sender, receiver]);
    log.debug({ reason: reason.code }, 'peer stopped');
    return reason;
  }

  async #sendLoop(
    ctx: Context,
    state: LoopState,
    peer: string,
    stream: StreamSender,
  ): Promise<P2PError> {
    const { high, low } = this.#queues;
    const clock = ctx.clock;
    const control = this.#control;
    const batchSize = this.#sendBatchSize;
    const sent = this.#metrics.sent;
    const pingSent = bindCounter(sent, peerLabels(peer, 'ping'));
    // Data frames almost always go out on one or two channels: remember the last one's counter.
    let lastChannel = Number.NaN;
    let lastSent: BoundCounter | undefined;
    const dataSent = new Map<number, BoundCounter>();
    const counterOf = (channel: number): BoundCounter => {
      let c = dataSent.get(channel);
      if (c === undefined) {
        c = bindCounter(sent, peerLabels(peer, channel < 0 ? 'invalid' : dataLabel(channel)));
        dataSent.set(channel, c);
      }
      return c;
    };
    let deadline = clock.now() + this.#pingFrequencyMs;
    // One timer per ping period, raced by every idle wait (select attaches to it once); the
    // `halt` signal cancels it when the peer ends. No per-wait timer or AbortController.
    let ping = clock.sleepUntil(deadline, state.signal);
    // A timer replaced before any wait raced it still rejects on halt: never unhandled.
    ping.catch(noop);
    for (;;) {
      // Wait only when idle: with frames queued, take them at once. The run's select watches the
      // stop signal and the kill latch and closes the queues, which wakes this wait.
      if (high.size === 0 && low.size === 0) {
        await select(undefined, high.ready(), low.ready(), ping);
      }
      if (ctx.signal.aborted) return new P2PError('NetworkClosed');
      if (control.isKilled) return new P2PError('PeerKilled', 'peer killed by the tracker');
      if (high.isClosed && low.isClosed) return new P2PError('PeerDisconnected');
      if (state.halted) return new P2PError('PeerDisconnected');

      // Take what is ready, by priority: the ping, then high, then low.
      const now = clock.now();
      let pinged = false;
      if (now >= deadline) {
        pinged = true;
        deadline = now + this.#pingFrequencyMs;
        ping = clock.sleepUntil(deadline, state.signal);
        ping.catch(noop);
      }
      const batch = high.drain(pinged ? batchSize - 1 : batchSize);
      if (pinged) batch.unshift(PING_FRAME);
      if (batch.length < batchSize)
        for (const f of low.drain(batchSize - batch.length)) batch.push(f);
      if (batch.length === 0) continue;

      try {
        await stream.sendMany(batch);
      } catch (err) {
        if (ctx.signal.aborted) return new P2PError('NetworkClosed');
        ctx.log.debug({ peer, err: String(err) }, 'send failed');
        return errorOf('SendFailed', err);
      }
      // One count per run of frames on the same channel, not per frame.
      let runLength = 0;
      for (let i = pinged ? 1 : 0; i < batch.length; i++) {
        // Frames on the queues were encoded locally by a registered channel's sender.
        const channel = peekDataChannel(batch[i] as Uint8Array) ?? -1;
        if (channel !== lastChannel) {
          if (runLength > 0) lastSent?.inc(runLength);
          runLength = 0;
          lastChannel = channel;
          lastSent = counterOf(channel);
        }
        runLength++;
      }
      if (runLength > 0) lastSent?.inc(runLength);
      if (pinged) pingSent.inc();
    }
  }

  async #recvLoop(
    ctx: Context,
    state: LoopState,
    publicKey: PublicKey,
    peer: string,
    stream: StreamReceiver,
  ): Promise<P2PError> {
    const metrics = this.#metrics;
    const invalid = peerLabels(peer, 'invalid');
    const pingLabels = peerLabels(peer, 'ping');
    let ping: Route | undefined;
    const routes = new Map<number, Route>();
    let lastChannel = Number.NaN;
    let lastRoute: Route | undefined;
    const maxMessageSize = this.#channels.maxMessageSize;
    try {
      for (;;) {
        let frame: Uint8Array;
        try {
          frame = await stream.recv();
        } catch (err) {
          if (ctx.signal.aborted) return new P2PError('NetworkClosed');
          ctx.log.debug({ peer, err: String(err) }, 'receive failed');
          return errorOf('ReceiveFailed', err);
        }
        if (state.halted) return new P2PError('PeerDisconnected');

        // Fast path: a small data frame on a low channel, read without a Reader.
        let channel: number;
        let message: Uint8Array;
        const start = smallDataStart(frame, maxMessageSize);
        if (start >= 0) {
          channel = frame[1] as number;
          message = frame.subarray(start);
        } else {
          let msg: ReturnType<typeof decodeMessage>;
          try {
            // The payload bound is the application's limit, not the (slightly larger) frame limit.
            msg = decodeMessage(frame, { max: maxMessageSize });
          } catch (err) {
            metrics.received.inc(invalid);
            const code = err instanceof CodecError ? err.code : 'unknown';
            ctx.log.debug({ peer, code }, 'failed to decode message');
            return new P2PError('DecodeFailed', undefined, { cause: err });
          }

          if (msg.type === 'ping') {
            ping ??= {
              inbound: undefined,
              limiter: new RateLimiter(this.#pingQuota, ctx.clock),
              labels: pingLabels,
              received: bindCounter(metrics.received, pingLabels),
            };
            ping.received.inc();
            if (!(await this.#throttle(ctx, state, ping))) return new P2PError('PeerDisconnected');
            continue; // pings only keep the connection alive
          }
          channel = msg.channel;
          message = msg.message;
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
            limiter: new RateLimiter(inbound.quota, ctx.clock),
            labels,
            received: bindCounter(metrics.received, labels),
          };
          routes.set(channel, route);
        }
        lastChannel = channel;
        lastRoute = route;
        route.received.inc();
        // Within quota (the usual case) the frame is delivered without an extra await.
        const next = route.limiter.check();
        if (next !== true && !(await this.#wait(ctx, state, route, next)))
          return new P2PError('PeerDisconnected');
        // A full channel queue drops this message (counted by the channel), never blocks.
        route.inbound?.deliver(publicKey, message);
      }
    } catch (err) {
      // Only a sleep cancelled by shutdown lands here.
      if (ctx.signal.aborted) return new P2PError('NetworkClosed');
      return errorOf('ReceiveFailed', err);
    }
  }

  /**
   * Waits (counting once) until the route's limiter grants a cell: backpressure, nothing is
   * dropped. Returns false if the peer was halted meanwhile (the frame must not be delivered).
   * A stop of `ctx` halts the peer too, so the sleep listens to `halt` only.
   */
  async #throttle(ctx: Context, state: LoopState, route: Route): Promise<boolean> {
    const next = route.limiter.check();
    return next === true ? true : this.#wait(ctx, state, route, next);
  }

  /**
   * The slow half of {@link #throttle}, once a check was refused (`first`: the time it named):
   * counts once and sleeps until
   * the limiter grants a cell. Returns false if the peer was halted meanwhile.
   */
  async #wait(ctx: Context, state: LoopState, route: Route, first: number): Promise<boolean> {
    this.#metrics.rateLimited.inc(route.labels);
    let next: true | number = first;
    while (next !== true) {
      await ctx.clock.sleepUntil(next, state.signal);
      if (state.halted) return false;
      next = route.limiter.check();
    }
    return true;
  }
}
