/**
 * The sending half of a peer connection (see the peer actor in `actor.ts`): the pump that takes
 * the tick frame, control frames and queued payloads by priority, in batches of at most
 * `sendBatchSize`, and hands them to the encrypted stream, counting what it sends.
 *
 * @internal
 * @module
 */

import type { Context } from '../../../runtime/context.js';
import { isStopped, type Timer, timerAt } from '../../../runtime/stop.js';
import { type Wake, wake } from '../../../runtime/wake.js';
import { CHUNK_SIZE, TAG_SIZE } from '../../../stream/index.js';
import { P2PError } from '../../errors.js';
import { peekDataChannel } from '../data.js';
import type { RelayInboxes } from '../relay.js';
import type { Traffic } from '../traffic.js';
import type { Mailbox } from './ingress.js';
import {
  type BoundCounter,
  bindCounter,
  dataLabel,
  type PeerMetrics,
  peerLabels,
} from './metrics.js';
import type { Protocol, StreamSender } from './protocol.js';

/**
 * The last channel of a half that has seen none yet (both halves'): no channel is negative but
 * -1 (the sender's invalid one).
 */
export const NO_CHANNEL = -2;

// The send pump's flags.
/** A pump is queued on a microtask. */
const SCHEDULED = 1;
/** Waiting for a write: the write's settlement resumes the pump. */
const BUSY = 2;
/** It stopped (told its owner). */
const FINISHED = 4;

/** What the run shares with its two halves. */
export interface LoopState {
  /** Set once the run decided to end: the halves stop at their next step. */
  halted: boolean;
  /** The peer's traffic totals (see `TrafficTable`). */
  readonly traffic: Traffic;
  /** Cancels the receive half's quota sleep, if one is pending (called once halted). */
  cancelSleep: (() => void) | undefined;
}

/** What the sender needs of its peer actor. */
export interface SendParts {
  readonly queues: RelayInboxes;
  readonly control: Mailbox;
  readonly protocol: Protocol;
  readonly sendBatchSize: number;
  readonly metrics: PeerMetrics;
}

/** The run that owns a connection's two halves: told once by each why it stopped. */
export interface Halves {
  /** The sender (`sender` true) or the receiver stopped with `reason`. */
  ended(reason: P2PError, sender: boolean): void;
}

/** Does nothing: the handler of rejections that are someone else's business. */
export function noop(): void {}

/** `err` as the P2PError a loop ends with (`code` when it is not one already). */
export function errorOf(code: 'SendFailed' | 'ReceiveFailed', err: unknown): P2PError {
  return err instanceof P2PError ? err : new P2PError(code, undefined, { cause: err });
}

/** The most a frame adds to its message on the wire: the tag and the longest length prefix. */
const FRAME_OVERHEAD = TAG_SIZE + 5;

/**
 * The sender loop hands the stream at most this many bytes (counted as frames) without awaiting a
 * batch: two of the stream's chunks (a coalesced write is at most one chunk, see
 * `Sender.sendMany`), so a slow socket holds at most about two chunks beyond what it accepted.
 * Every await flushes the open chunk, so a bound of one chunk would add a small write per chunk.
 */
const COALESCE_BYTES = 2 * CHUNK_SIZE;

/**
 * The batch a pump step fills and hands to the stream, shared by every connection: a step fills,
 * writes and empties it without yielding (JS is single-threaded), so an idle connection holds no
 * batch array, and a step allocates none (a fresh array per step, kept by the connection until
 * its next tick, was promoted to the old generation with the backing store of its next batch).
 */
const SCRATCH: Uint8Array[] = [];

/**
 * The sending half as a small state machine (no parked async function, no `select` per wait: an
 * idle connection holds one timer and nothing else). Woken by the queues' and the control
 * mailbox's watchers and by the tick timer; each wake runs {@link SendPump.pump} on a microtask
 * (one per burst of wakes). It writes the protocol's preamble, then, whenever something is ready,
 * takes up to `sendBatchSize` frames (tick frame, control, high, low) and writes them with one
 * `sendMany`, waiting for a write only at the end of a burst (or when the batch was large).
 * `done` is called once, with why it stopped.
 */
export class SendPump {
  readonly #ctx: Context;
  readonly #state: LoopState;
  readonly #peer: string;
  readonly #stream: StreamSender;
  readonly #parts: SendParts;
  readonly #owner: Halves;
  readonly #tickSent: BoundCounter;
  // Data frames almost always go out on one or two channels: remember the last one's counter.
  // No channel yet: a small integer, not NaN (a field holding NaN is a heap number per object).
  #lastChannel = NO_CHANNEL;
  #lastSent: BoundCounter | undefined;
  #lastTraffic: Traffic | undefined;
  /** Counters per channel sent on, made at the first frame (most peers use one channel). */
  #dataSent: Map<number, [BoundCounter, Traffic | undefined]> | undefined;
  #deadline: number;
  #tick: Timer | undefined;
  /** The protocol's preamble, until the first batch carries it. */
  #preamble: readonly Uint8Array[] | undefined;
  // The last batch handed to the stream without awaiting it (see below), and the bytes handed
  // over since the last wait: bounded by COALESCE_BYTES.
  #unawaited: Promise<void> | undefined;
  #unawaitedBytes = 0;
  /** {@link SCHEDULED}, {@link BUSY}, {@link FINISHED}: one field per connection, not three. */
  #flags = 0;
  #onIdle: Wake | undefined;

  constructor(
    ctx: Context,
    state: LoopState,
    peer: string,
    stream: StreamSender,
    parts: SendParts,
    owner: Halves,
  ) {
    this.#ctx = ctx;
    this.#state = state;
    this.#peer = peer;
    this.#stream = stream;
    this.#parts = parts;
    this.#owner = owner;
    const protocol = parts.protocol;
    this.#tickSent = bindCounter(parts.metrics.sent, peerLabels(peer, protocol.tickLabel));
    this.#deadline = ctx.clock.now() + (protocol.tickAtStart ? 0 : protocol.tickMs);
    this.#preamble = protocol.preamble.length > 0 ? protocol.preamble : undefined;
  }

  /**
   * Watches the queues (the control mailbox's watcher is the run's: it calls {@link wake}), arms
   * the tick and writes what is ready (the preamble) at once.
   */
  start(): void {
    const { queues } = this.#parts;
    // The pump is its own watcher and timer callback ({@link wake}): no closure per connection.
    queues.high.watch(this);
    queues.low.watch(this);
    // One timer for the connection's life: the pump re-arms it when it fires; `stop` cancels it.
    this.#tick = timerAt(this.#ctx.clock, this.#deadline, this);
    this.#pump();
  }

  /** Whether no write is being waited for. */
  get idle(): boolean {
    return (this.#flags & BUSY) === 0;
  }

  /** Tells `fn` (a function, or an object whose `wake()` is called) when the write being waited for (if any) settles. */
  onIdle(fn: Wake): void {
    this.#onIdle = fn;
  }

  /** Stops watching and cancels the tick timer (the run ended). */
  stop(): void {
    this.#tick?.cancel();
    this.#tick = undefined;
    const { queues } = this.#parts;
    queues.high.watch(undefined);
    queues.low.watch(undefined);
  }

  /**
   * Something may be ready (a queue's watcher, the tick timer, the run): pump on a microtask,
   * once per burst of wakes.
   */
  wake(): void {
    if (this.#flags !== 0) return;
    this.#flags |= SCHEDULED;
    // Closures made per use rather than held per connection: short-lived garbage is cheaper
    // than bytes that every idle connection keeps.
    queueMicrotask(() => {
      this.#flags &= ~SCHEDULED;
      if ((this.#flags & BUSY) === 0) this.#pump();
    });
  }

  /** Waits for `written`, then pumps on (or stops, if it failed). */
  #awaitWrite(written: Promise<void>): void {
    this.#flags |= BUSY;
    written.then(
      () => {
        this.#flags &= ~BUSY;
        this.#pump();
        if (this.#onIdle !== undefined) wake(this.#onIdle);
      },
      (err: unknown) => {
        this.#flags &= ~BUSY;
        this.#finish(sendFailed(this.#ctx, this.#peer, err));
        if (this.#onIdle !== undefined) wake(this.#onIdle);
      },
    );
  }

  #finish(reason: P2PError): void {
    if ((this.#flags & FINISHED) !== 0) return;
    this.#flags |= FINISHED;
    this.#owner.ended(reason, true);
  }

  #counterOf(channel: number): [BoundCounter, Traffic | undefined] {
    this.#dataSent ??= new Map();
    let c = this.#dataSent.get(channel);
    if (c === undefined) {
      const { sent, traffic } = this.#parts.metrics;
      c = [
        bindCounter(sent, peerLabels(this.#peer, channel < 0 ? 'invalid' : dataLabel(channel))),
        channel < 0 ? undefined : traffic.channel(channel),
      ];
      this.#dataSent.set(channel, c);
    }
    return c;
  }

  #countRun(n: number): void {
    this.#lastSent?.inc(n);
    if (this.#lastTraffic !== undefined) this.#lastTraffic.messagesOut += n;
  }

  #pump(): void {
    if ((this.#flags & FINISHED) !== 0) return;
    try {
      this.#steps();
    } catch (err) {
      this.#finish(errorOf('SendFailed', err));
    }
  }

  /** Why the pump must stop now, if it must (checked before every batch and when idle). */
  #stopReason(): P2PError | undefined {
    const { queues, control } = this.#parts;
    if (isStopped(this.#ctx)) return new P2PError('NetworkClosed');
    if (control.isKilled) return control.reason;
    if ((queues.high.isClosed && queues.low.isClosed) || this.#state.halted)
      return new P2PError('PeerDisconnected');
    return undefined;
  }

  /** Writes batches until nothing is ready or a write must be waited for. */
  #steps(): void {
    const ctx = this.#ctx;
    const state = this.#state;
    const { queues, control, protocol, sendBatchSize: batchSize } = this.#parts;
    const { high, low } = queues;
    const traffic = state.traffic;
    for (;;) {
      if (this.#preamble === undefined && high.size === 0 && low.size === 0 && control.size === 0) {
        const pending = this.#unawaited;
        if (pending === undefined) {
          // Idle: until the tick is due, wait for a wake (a kill or a close wakes the pump too).
          const stop = this.#stopReason();
          if (stop !== undefined) this.#finish(stop);
          if (stop !== undefined || ctx.clock.now() < this.#deadline) return;
        } else {
          // Idle: the batches of this turn are written at its end; wait for that first, so a
          // failed write ends the peer as SendFailed.
          this.#unawaited = undefined;
          this.#unawaitedBytes = 0;
          this.#awaitWrite(pending);
          return;
        }
      }
      const stop = this.#stopReason();
      if (stop !== undefined) {
        this.#finish(stop);
        return;
      }

      // Take what is ready, by priority: the tick frame, control frames, then high, then low.
      // Emptied first: whatever a failed step left behind is never another connection's batch.
      const batch = SCRATCH;
      batch.length = 0;
      const preamble = this.#preamble;
      if (preamble !== undefined) {
        for (const f of preamble) batch.push(f);
        this.#preamble = undefined;
      }
      const now = ctx.clock.now();
      let ticked = false;
      if (now >= this.#deadline) {
        this.#deadline = now + protocol.tickMs;
        // The one timer of this connection, re-armed (no new timer object per period).
        this.#tick?.reset(this.#deadline);
        const frame = protocol.tick();
        if (frame !== undefined) {
          ticked = true;
          batch.push(frame);
        }
      }
      // Frames before `controlEnd` (preamble, tick, control) are not data: the data counts
      // below skip them.
      if (control.size > 0) control.drainInto(batch, batchSize - batch.length);
      const controlEnd = batch.length;
      if (batch.length < batchSize && high.size > 0)
        high.drainInto(batch, batchSize - batch.length);
      if (batch.length < batchSize && low.size > 0) low.drainInto(batch, batchSize - batch.length);
      if (batch.length === 0) continue;

      let bytes = 0;
      for (let i = 0; i < batch.length; i++) bytes += (batch[i] as Uint8Array).length;
      const frames = batch.length;
      const batchBytes = bytes + FRAME_OVERHEAD * frames;
      // Within a chunk, sealed before it returns (the stream coalesces the batches of one turn
      // into one write), so the shared array is free again at once; a larger batch is sent in
      // chunks across awaits: it gets its own array.
      const written = this.#stream.sendMany(batchBytes <= CHUNK_SIZE ? batch : batch.slice());
      // One count per run of frames on the same channel, not per frame.
      let runLength = 0;
      for (let i = controlEnd; i < frames; i++) {
        // Frames on the queues were encoded locally by a registered channel's sender.
        const frame = batch[i] as Uint8Array;
        const channel = peekDataChannel(frame) ?? -1;
        if (channel !== this.#lastChannel) {
          if (runLength > 0) this.#countRun(runLength);
          runLength = 0;
          this.#lastChannel = channel;
          [this.#lastSent, this.#lastTraffic] = this.#counterOf(channel);
        }
        runLength++;
      }
      if (runLength > 0) this.#countRun(runLength);
      traffic.messagesOut += frames - controlEnd;
      traffic.bytesOut += bytes;
      if (ticked) this.#tickSent.inc();
      // The frames are the stream's now: the shared array holds no payload until the next step.
      batch.length = 0;
      // More frames queued and a small batch: take them in this turn without waiting for this
      // one (its frames are sealed; all of the turn's go out in one write). Otherwise wait for
      // it. A batch within one chunk is sealed before sendMany returns: only then may the next
      // follow.
      this.#unawaitedBytes += batchBytes;
      if (
        batchBytes <= CHUNK_SIZE &&
        this.#unawaitedBytes <= COALESCE_BYTES &&
        (high.size > 0 || low.size > 0 || control.size > 0)
      ) {
        // The batches of one turn share the stream's promise for its chunk: observed once.
        if (written !== this.#unawaited) written.catch(noop);
        this.#unawaited = written;
        continue;
      }
      this.#unawaited = undefined;
      this.#unawaitedBytes = 0;
      this.#awaitWrite(written);
      return;
    }
  }
}

/** Why the sender ends after a failed write. */
function sendFailed(ctx: Context, peer: string, err: unknown): P2PError {
  if (isStopped(ctx)) return new P2PError('NetworkClosed');
  ctx.log.debug({ peer, err: String(err) }, 'send failed');
  return errorOf('SendFailed', err);
}
