/**
 * The control handle of one peer actor (upstream `peer/ingress.rs`). The tracker holds it: it
 * calls {@link Mailbox.kill} when the peer becomes ineligible (blocked, no longer tracked,
 * address changed) or a newer connection supersedes it, and, in discovery, queues gossip frames
 * (BitVec, Peers) with {@link Mailbox.send}.
 *
 * A kill is a one-way latch rather than a queued message: it cannot be lost to a full queue,
 * repeating it is harmless, and it is observed ahead of any queued data (control > high > low).
 * Control frames are a bounded queue (capacity `mailboxSize`): when full a new frame is refused,
 * as upstream's control mailbox rejects BitVec/Peers but always keeps a Kill.
 */

import { type Wake, wake } from '../../../runtime/wake.js';
import { P2PError } from '../../errors.js';

const KILLED = 'peer killed by the tracker';

export class Mailbox {
  #isKilled = false;
  #reason: string = KILLED;
  readonly #capacity: number;
  // Made on first use: a lookup connection never queues a control frame.
  #frames: Uint8Array[] | undefined;
  /** The actor's callback, told of a kill, a queued frame or the close (no promise per peer). */
  #watcher: Wake | undefined;
  #closed = false;

  /** @param capacity - most control frames queued at once (default 1,000). */
  constructor(capacity = 1000) {
    this.#capacity = capacity;
  }

  /**
   * Asks the peer actor to end the connection (`PeerKilled` with `reason`, if given, as its
   * message). Never waits; idempotent (the first reason stays).
   */
  kill(reason?: string): void {
    if (this.#isKilled) return;
    this.#isKilled = true;
    if (reason !== undefined) this.#reason = reason;
    if (this.#watcher !== undefined) wake(this.#watcher);
  }

  /** Whether {@link kill} has been called. */
  get isKilled(): boolean {
    return this.#isKilled;
  }

  /** @internal The error a killed peer ends with. */
  get reason(): P2PError {
    return new P2PError('PeerKilled', this.#reason);
  }

  /**
   * Queues an encoded control frame, written before any queued data. Never waits. Returns false
   * (the frame is dropped) if the queue is full or the peer has ended.
   */
  send(frame: Uint8Array): boolean {
    if (this.#closed || this.#isKilled) return false;
    this.#frames ??= [];
    if (this.#frames.length >= this.#capacity) return false;
    this.#frames.push(frame);
    if (this.#watcher !== undefined) wake(this.#watcher);
    return true;
  }

  /** @internal Control frames queued now. */
  get size(): number {
    return this.#frames?.length ?? 0;
  }

  /** @internal Moves up to `max` queued frames to the end of `out`. */
  drainInto(out: Uint8Array[], max: number): void {
    const frames = this.#frames;
    if (frames === undefined || max <= 0) return;
    const n = Math.min(max, frames.length);
    for (let i = 0; i < n; i++) out.push(frames[i] as Uint8Array);
    frames.splice(0, n);
  }

  /**
   * @internal Sets the actor's watcher (a function, or an object whose `wake()` is called): told
   * synchronously on a kill, on every queued frame and on close (it must only schedule work).
   * Replaces any earlier one; `undefined` clears it.
   */
  watch(fn: Wake | undefined): void {
    this.#watcher = fn;
  }

  /** @internal The actor ended: later frames are refused, the watcher told and dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#frames = undefined;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    if (watcher !== undefined) wake(watcher);
  }
}
