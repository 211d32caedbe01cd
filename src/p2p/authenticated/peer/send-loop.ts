/**
 * The sending half of a peer connection (see the peer actor in `actor.ts`): the loop that takes
 * the tick frame, control frames and queued payloads by priority, in batches of at most
 * `sendBatchSize`, and hands them to the encrypted stream, counting what it sends.
 *
 * @internal
 * @module
 */

import { select } from '../../../actor/index.js';
import type { Context } from '../../../runtime/context.js';
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

/** What the run shares with its two loops. */
export interface LoopState {
  /** Set once the run decided to end: the loops return at their next step. */
  halted: boolean;
  /** Aborted (with {@link HALTED}) at the same moment: cancels the tick timer and quota sleeps. */
  readonly signal: AbortSignal;
  /** The peer's traffic totals (see `TrafficTable`). */
  readonly traffic: Traffic;
}

/** What the sender loop needs of its peer actor. */
export interface SendParts {
  readonly queues: RelayInboxes;
  readonly control: Mailbox;
  readonly protocol: Protocol;
  readonly batchSize: number;
  readonly metrics: PeerMetrics;
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

export async function sendLoop(
  ctx: Context,
  state: LoopState,
  peer: string,
  stream: StreamSender,
  parts: SendParts,
): Promise<P2PError> {
  const { high, low } = parts.queues;
  const clock = ctx.clock;
  const { control, protocol, batchSize, metrics } = parts;
  const sent = metrics.sent;
  const tickSent = bindCounter(sent, peerLabels(peer, protocol.tickLabel));
  // Data frames almost always go out on one or two channels: remember the last one's counter.
  let lastChannel = Number.NaN;
  let lastSent: BoundCounter | undefined;
  let lastTraffic: Traffic | undefined;
  const dataSent = new Map<number, [BoundCounter, Traffic | undefined]>();
  const counterOf = (channel: number): [BoundCounter, Traffic | undefined] => {
    let c = dataSent.get(channel);
    if (c === undefined) {
      c = [
        bindCounter(sent, peerLabels(peer, channel < 0 ? 'invalid' : dataLabel(channel))),
        channel < 0 ? undefined : metrics.traffic.channel(channel),
      ];
      dataSent.set(channel, c);
    }
    return c;
  };
  const traffic = state.traffic;
  const countRun = (n: number): void => {
    lastSent?.inc(n);
    if (lastTraffic !== undefined) lastTraffic.messagesOut += n;
  };
  const tickMs = protocol.tickMs;
  let deadline = clock.now() + (protocol.tickAtStart ? 0 : tickMs);
  // One timer per tick period, raced by every idle wait (select attaches to it once); the
  // `halt` signal cancels it when the peer ends. No per-wait timer or AbortController.
  let tick = clock.sleepUntil(deadline, state.signal);
  // A timer replaced before any wait raced it still rejects on halt: never unhandled.
  tick.catch(noop);
  let batch: Uint8Array[] = protocol.preamble.length > 0 ? [...protocol.preamble] : [];
  // The last batch handed to the stream without awaiting it (see below), and the bytes handed
  // over since the last await: bounded by COALESCE_BYTES.
  let unawaited: Promise<void> | undefined;
  let unawaitedBytes = 0;
  for (;;) {
    // Wait only when idle: with frames queued, take them at once. The run's select watches the
    // stop signal and the kill latch and closes the queues, which wakes this wait.
    if (batch.length === 0 && high.size === 0 && low.size === 0 && control.size === 0) {
      if (unawaited !== undefined) {
        // Idle: the batches of this turn are written at its end; wait for that first, so a
        // failed write ends the peer as SendFailed.
        const pending = unawaited;
        unawaited = undefined;
        unawaitedBytes = 0;
        try {
          await pending;
        } catch (err) {
          return sendFailed(ctx, peer, err);
        }
        continue;
      }
      if (control.carriesFrames)
        await select(undefined, high.ready(), low.ready(), tick, control.ready());
      else await select(undefined, high.ready(), low.ready(), tick);
    }
    if (ctx.signal.aborted) return new P2PError('NetworkClosed');
    if (control.isKilled) return control.reason;
    if (high.isClosed && low.isClosed) return new P2PError('PeerDisconnected');
    if (state.halted) return new P2PError('PeerDisconnected');

    // Take what is ready, by priority: the tick frame, control frames, then high, then low.
    const now = clock.now();
    let ticked = false;
    if (now >= deadline) {
      deadline = now + tickMs;
      tick = clock.sleepUntil(deadline, state.signal);
      tick.catch(noop);
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
    if (batch.length < batchSize)
      for (const f of high.drain(batchSize - batch.length)) batch.push(f);
    if (batch.length < batchSize)
      for (const f of low.drain(batchSize - batch.length)) batch.push(f);
    if (batch.length === 0) continue;

    // Sealed before it returns (the stream coalesces the batches of one turn into one write).
    const written = stream.sendMany(batch);
    // One count per run of frames on the same channel, not per frame.
    let runLength = 0;
    let bytes = 0;
    for (let i = 0; i < controlEnd; i++) bytes += (batch[i] as Uint8Array).length;
    for (let i = controlEnd; i < batch.length; i++) {
      // Frames on the queues were encoded locally by a registered channel's sender.
      const frame = batch[i] as Uint8Array;
      bytes += frame.length;
      const channel = peekDataChannel(frame) ?? -1;
      if (channel !== lastChannel) {
        if (runLength > 0) countRun(runLength);
        runLength = 0;
        lastChannel = channel;
        [lastSent, lastTraffic] = counterOf(channel);
      }
      runLength++;
    }
    if (runLength > 0) countRun(runLength);
    traffic.messagesOut += batch.length - controlEnd;
    traffic.bytesOut += bytes;
    if (ticked) tickSent.inc();
    const frames = batch.length;
    batch = [];
    // More frames queued and a small batch: take them in this turn without awaiting this one
    // (its frames are sealed; all of the turn's go out in one write). Otherwise wait for it.
    // A batch within one chunk is sealed before sendMany returns: only then may the next follow.
    const batchBytes = bytes + FRAME_OVERHEAD * frames;
    unawaitedBytes += batchBytes;
    if (
      batchBytes <= CHUNK_SIZE &&
      unawaitedBytes <= COALESCE_BYTES &&
      (high.size > 0 || low.size > 0 || control.size > 0)
    ) {
      written.catch(noop);
      unawaited = written;
      continue;
    }
    unawaited = undefined;
    unawaitedBytes = 0;
    try {
      await written;
    } catch (err) {
      return sendFailed(ctx, peer, err);
    }
  }
}

/** Why the sender loop ends after a failed write. */
function sendFailed(ctx: Context, peer: string, err: unknown): P2PError {
  if (ctx.signal.aborted) return new P2PError('NetworkClosed');
  ctx.log.debug({ peer, err: String(err) }, 'send failed');
  return errorOf('SendFailed', err);
}
