/**
 * The receiving half of a peer connection (see the peer actor in `actor.ts`): a pump that reads
 * frames, takes small data frames on a fast path once the protocol is open, hands every other
 * frame to the protocol, and delivers data within each channel's inbound quota. The pump is the
 * reader of the stream's `poll` (`Receiver.poll`): a frame that completes a wait is handled in
 * the runtime's data event, and an idle connection waits on no promise.
 *
 * @internal
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import { type Quota, RateLimiter } from '../../../quota/index.js';
import type { ByteReader, Context } from '../../../runtime/context.js';
import { isStopped, type Timer, timerAt } from '../../../runtime/stop.js';
import { sharedTurnClock } from '../../../runtime/turn.js';
import { type Wake, wake } from '../../../runtime/wake.js';
import { StreamError } from '../../../stream/index.js';
import { errorCode, P2PError } from '../../errors.js';
import type { InboundChannel } from '../channels.js';
import { dataMessage, smallDataStart } from '../data.js';
import type { Relay, RelayInboxes } from '../relay.js';
import type { Traffic } from '../traffic.js';
import type { Mailbox } from './ingress.js';
import { bindCounter, dataLabel, type PeerMetrics, peerLabels } from './metrics.js';
import type {
  Gate,
  InboundRoutes,
  PeerConnection,
  PeerIo,
  Protocol,
  Received,
  StreamReceiver,
} from './protocol.js';
import { errorOf, type Halves, type LoopState, NO_CHANNEL } from './send-loop.js';

/** What one run of a peer actor works with. */
export interface RunParts {
  readonly sendBatchSize: number;
  readonly channels: InboundRoutes;
  readonly metrics: PeerMetrics;
  readonly protocol: Protocol;
  readonly control: Mailbox;
  readonly queues: RelayInboxes;
  readonly relay: Relay;
}

/** Per-channel inbound state of one connection. */
interface Route extends Gate {
  readonly inbound: InboundChannel;
  /** The channel's traffic totals. */
  readonly channelTraffic: Traffic;
}

/** Stream errors caused by what the peer sent (counted `invalid`), not by the connection ending. */
const MALFORMED: ReadonlySet<string> = new Set([
  'RecvTooLarge',
  'InvalidVarint',
  'DecryptionFailed',
]);

/** How many buffered frames the receive loop handles in a row before giving up a turn. */
const SYNC_FRAMES = 64;

/** Where the receive half waits (when it waits): `busy` until the pending step settles. */
export class RecvPump implements PeerIo, ByteReader {
  readonly ctx: Context;
  readonly peer: PublicKey;
  readonly #state: LoopState;
  readonly #parts: RunParts;
  readonly #stream: StreamReceiver;
  readonly #owner: Halves;
  /** Routes per channel received on, made at the first data frame. */
  #routes: Map<number, Route> | undefined;
  // No channel yet: a small integer, not NaN (a field holding NaN is a heap number per object).
  #lastChannel = NO_CHANNEL;
  #lastRoute: Route | undefined;
  #inRow = 0;
  #busy = false;
  #finished = false;
  #onIdle: Wake | undefined;

  constructor(
    ctx: Context,
    state: LoopState,
    parts: RunParts,
    conn: PeerConnection,
    owner: Halves,
  ) {
    this.ctx = ctx;
    this.peer = conn.peer;
    this.#state = state;
    this.#parts = parts;
    this.#stream = conn.receiver;
    this.#owner = owner;
  }

  // Read through what the pump holds anyway: two fields fewer per connection.
  get peerHex(): string {
    return this.peer.toHex();
  }

  get maxMessageSize(): number {
    return this.#parts.channels.maxMessageSize;
  }

  start(): void {
    this.#pump();
  }

  /** Whether no step is pending (nothing awaits a read, the protocol or a quota sleep). */
  get idle(): boolean {
    return !this.#busy;
  }

  /** Tells `fn` (a function, or an object whose `wake()` is called) when the pending step (if any) settles. */
  onIdle(fn: Wake): void {
    this.#onIdle = fn;
  }

  // ---------- PeerIo ----------

  gate(message: string, quota: Quota): Gate {
    const labels = peerLabels(this.peerHex, message);
    return {
      limiter: new RateLimiter(quota, sharedTurnClock(this.ctx)),
      labels,
      received: bindCounter(this.#parts.metrics.received, labels),
    };
  }

  throttle(gate: Gate): true | Promise<boolean> {
    gate.received.inc();
    const next = gate.limiter.check();
    return next === true ? true : this.#wait(gate, next);
  }

  invalid(): void {
    // Labels made per use: an invalid frame is rare, and ends the connection.
    this.#parts.metrics.received.inc(peerLabels(this.peerHex, 'invalid'));
  }

  // ---------- The pump ----------

  #finish(reason: P2PError): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#owner.ended(reason, false);
  }

  /** A pending step settled: resume (or report idle once halted). */
  #settled(): boolean {
    this.#busy = false;
    if (this.#state.halted) {
      this.#finish(new P2PError('PeerDisconnected'));
      if (this.#onIdle !== undefined) wake(this.#onIdle);
      return false;
    }
    return !this.#finished;
  }

  /** Wait on `p`, then `next` (a failure of `p` ends the half, see {@link #error}). */
  #await<T>(p: Promise<T>, next: (value: T) => void): void {
    this.#busy = true;
    p.then(
      (v) => {
        if (this.#settled()) this.#guard(next, v);
      },
      (err: unknown) => {
        if (this.#settled()) this.#finish(this.#error(err));
      },
    );
  }

  #error(err: unknown): P2PError {
    // Only a sleep cancelled by shutdown or a failing protocol step lands here.
    if (isStopped(this.ctx)) return new P2PError('NetworkClosed');
    return errorOf('ReceiveFailed', err);
  }

  #guard<T>(fn: (value: T) => void, v: T): void {
    try {
      fn(v);
    } catch (err) {
      this.#finish(this.#error(err));
    }
  }

  #recvFailed(err: unknown): P2PError {
    const ctx = this.ctx;
    if (isStopped(ctx)) return new P2PError('NetworkClosed');
    // Bytes the peer sent that are no frame (an oversize or malformed prefix, a frame that fails
    // to decrypt) count as invalid, as a frame that fails to decode does.
    if (err instanceof StreamError && MALFORMED.has(err.code)) this.invalid();
    ctx.log.debug({ peer: this.peerHex, code: errorCode(err), err: String(err) }, 'receive failed');
    return errorOf('ReceiveFailed', err);
  }

  /**
   * Handles frames while they are buffered (up to SYNC_FRAMES in a row: then one `recv`, a
   * microtask, so the application consuming the channels runs between runs), then waits for
   * the next: with the stream's `poll` the pump is the reader it calls back (no promise per
   * wait), else with one `recv`.
   */
  #pump(): void {
    const stream = this.#stream;
    const canPoll = stream.poll !== undefined;
    const canTry = canPoll || stream.tryRecv !== undefined;
    for (;;) {
      if (this.#finished) return;
      let frame: Uint8Array | undefined;
      try {
        if (canTry && this.#inRow < SYNC_FRAMES) {
          this.#inRow++;
          if (canPoll) {
            frame = stream.poll?.(this);
            if (frame === undefined) {
              // Waiting: the stream calls onBytes or onError.
              this.#inRow = 0;
              this.#busy = true;
              return;
            }
          } else frame = stream.tryRecv?.();
        }
        if (frame === undefined) {
          this.#inRow = 0;
          this.#busy = true;
          // Made per use: after SYNC_FRAMES in a row, or a stream without `poll`.
          stream.recv().then(
            (f) => this.onBytes(f),
            (err: unknown) => this.onError(err),
          );
          return;
        }
      } catch (err) {
        this.#finish(this.#recvFailed(err));
        return;
      }
      let more: boolean;
      try {
        more = this.#handle(frame);
      } catch (err) {
        this.#finish(this.#error(err));
        return;
      }
      if (!more) return;
    }
  }

  /** @internal The next frame of a pending {@link StreamReceiver.poll}. */
  onBytes(frame: Uint8Array): void {
    if (!this.#settled()) return;
    try {
      if (this.#handle(frame)) this.#pump();
    } catch (err) {
      this.#finish(this.#error(err));
    }
  }

  /** @internal The pending {@link StreamReceiver.poll} failed. */
  onError(err: unknown): void {
    if (this.#settled()) this.#finish(this.#recvFailed(err));
  }

  /** Handles one frame; true to go on with the next, false if it waits or the half ended. */
  #handle(frame: Uint8Array): boolean {
    const state = this.#state;
    const protocol = this.#parts.protocol;
    if (state.halted) {
      this.#finish(new P2PError('PeerDisconnected'));
      return false;
    }
    state.traffic.bytesIn += frame.length;
    // Fast path: a small data frame on a low channel, read without a Reader.
    const start = protocol.open ? smallDataStart(frame, this.maxMessageSize) : -1;
    if (start >= 0) return this.#data(frame[1] as number, dataMessage(frame, start));
    const received = protocol.receive(frame, this);
    // Most control frames are handled synchronously: no extra turn for those.
    if (received instanceof Promise) {
      this.#await(received, (r) => {
        if (this.#afterReceive(r)) this.#pump();
      });
      return false;
    }
    return this.#afterReceive(received);
  }

  #afterReceive(received: Received): boolean {
    if (this.#state.halted) {
      this.#finish(new P2PError('PeerDisconnected'));
      return false;
    }
    if (received === null) return true;
    if (received instanceof P2PError) {
      this.#finish(received);
      return false;
    }
    return this.#data(received.channel, received.message);
  }

  /** Routes a data message: counted, then delivered once within the channel's quota. */
  #data(channel: number, message: Uint8Array): boolean {
    const state = this.#state;
    const metrics = this.#parts.metrics;
    // Data almost always arrives on one or two channels: remember the last route.
    let route = channel === this.#lastChannel ? this.#lastRoute : this.#routes?.get(channel);
    if (route === undefined) {
      const inbound = this.#parts.channels.inbound(channel);
      if (inbound === undefined) {
        // Never a metric label with the remote's channel number: constant cardinality.
        this.invalid();
        this.ctx.log.debug({ peer: this.peerHex, channel }, 'data on an unknown channel');
        this.#finish(new P2PError('InvalidChannel', `unknown channel ${channel}`));
        return false;
      }
      const labels = peerLabels(this.peerHex, dataLabel(channel));
      route = {
        inbound,
        limiter: new RateLimiter(inbound.quota, sharedTurnClock(this.ctx)),
        labels,
        received: bindCounter(metrics.received, labels),
        channelTraffic: metrics.traffic.channel(channel),
      };
      this.#routes ??= new Map();
      this.#routes.set(channel, route);
    }
    this.#lastChannel = channel;
    this.#lastRoute = route;
    route.received.inc();
    state.traffic.messagesIn++;
    route.channelTraffic.messagesIn++;
    // Within quota (the usual case) the frame is delivered without waiting.
    const next = route.limiter.check();
    if (next !== true) {
      const r = route;
      this.#await(this.#wait(route, next), (ok) => {
        if (!ok) return this.#finish(new P2PError('PeerDisconnected'));
        this.#deliver(r, message);
        this.#pump();
      });
      return false;
    }
    this.#deliver(route, message);
    return true;
  }

  #deliver(route: Route, message: Uint8Array): void {
    // A full channel queue drops this message (counted by the channel), never blocks.
    if (!route.inbound.deliver(this.peer, message)) {
      this.#state.traffic.dropped++;
      route.channelTraffic.dropped++;
    }
  }

  /**
   * Once a check of `gate` was refused (`first`: the time it named): counts once and sleeps until
   * the limiter grants a cell. Resolves false if the peer was halted meanwhile (the frame must not
   * be handled): the halt cancels the sleep.
   */
  #wait(gate: Gate, first: number): Promise<boolean> {
    const state = this.#state;
    this.#parts.metrics.rateLimited.inc(gate.labels);
    state.traffic.rateLimited++;
    const clock = this.ctx.clock;
    return new Promise<boolean>((resolve) => {
      let timer: Timer | undefined;
      const fire = (): void => {
        timer = undefined;
        if (state.halted) {
          resolve(false);
          return;
        }
        const next = gate.limiter.check();
        if (next === true) {
          state.cancelSleep = undefined;
          resolve(true);
        } else {
          timer = timerAt(clock, next, fire);
        }
      };
      state.cancelSleep = () => {
        timer?.cancel();
        resolve(false);
      };
      timer = timerAt(clock, first, fire);
    });
  }
}
