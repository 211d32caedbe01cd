/**
 * Connection state for applications (API.md "Connection state"), shared by every network: the
 * lookup and discovery networks own one {@link ConnectionEvents} each, the simulated network
 * one per peer.
 *
 * Every {@link ConnectionEvents.events} call is its own bounded stream starting at the call. A
 * reader that falls behind by more than its capacity loses the oldest events, and the next event
 * it reads carries `missed` (how many were lost just before it). The stream ends when the network
 * stops ({@link ConnectionEvents.close}). Emitting never waits and never allocates beyond the
 * bounded queues, so a slow or abandoned reader costs at most its capacity.
 *
 * @module
 */

import { Deque } from '../actor/queue.js';
import type { PublicKey } from '../crypto/ed25519.js';

/** What happened to a peer. */
export type ConnectionEventKind = 'connected' | 'disconnected' | 'blocked' | 'unblocked';

/** One change of a peer's connection state. */
export interface ConnectionEvent {
  readonly kind: ConnectionEventKind;
  readonly peer: PublicKey;
  /** When it happened (ms since the Unix epoch, on the network's clock). */
  readonly at: number;
  /** Why, when known (for `'disconnected'`: the peer actor's exit code, such as `'ConnectionClosed'`). */
  readonly reason?: string;
  /** Events this reader lost just before this one because it fell behind. */
  readonly missed?: number;
}

/** Events one reader may have queued before the oldest are dropped. */
export const DEFAULT_EVENTS_CAPACITY = 1024;

/** One reader's bounded queue. */
class Reader implements AsyncIterableIterator<ConnectionEvent> {
  readonly #capacity: number;
  readonly #queue = new Deque<ConnectionEvent>(8);
  readonly #detach: (r: Reader) => void;
  #missed = 0;
  #ended = false;
  #wake: ((r: IteratorResult<ConnectionEvent>) => void) | undefined;

  constructor(capacity: number, detach: (r: Reader) => void) {
    this.#capacity = capacity;
    this.#detach = detach;
  }

  push(e: ConnectionEvent): void {
    if (this.#ended) return;
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#wake = undefined;
      wake({ value: this.#take(e), done: false });
      return;
    }
    if (this.#queue.size >= this.#capacity) {
      this.#queue.shift();
      this.#missed++;
    }
    this.#queue.push(e);
  }

  /** Ends the stream: a pending `next()` and every later one resolve done (queued events first). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.({ value: undefined, done: true });
  }

  #take(e: ConnectionEvent): ConnectionEvent {
    if (this.#missed === 0) return e;
    const out = { ...e, missed: this.#missed };
    this.#missed = 0;
    return out;
  }

  next(): Promise<IteratorResult<ConnectionEvent>> {
    const e = this.#queue.shift();
    if (e !== undefined) return Promise.resolve({ value: this.#take(e), done: false });
    if (this.#ended || this.#wake !== undefined) {
      // Ended, or a second concurrent next(): only one reader per stream.
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  return(): Promise<IteratorResult<ConnectionEvent>> {
    this.#queue.takeAll();
    this.end();
    this.#detach(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ConnectionEvent> {
    return this;
  }
}

/** The connection-event hub of one network (or one simulated peer). */
export class ConnectionEvents {
  readonly #readers = new Set<Reader>();
  readonly #capacity: number;
  #closed = false;

  /** @param capacity - events each reader may have queued before the oldest are dropped. */
  constructor(capacity = DEFAULT_EVENTS_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`events capacity must be a positive safe integer, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  /** Readers currently attached. */
  get readers(): number {
    return this.#readers.size;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A new stream of the events from now on. After {@link close} it is already ended. Breaking
   * out of a `for await` detaches it.
   */
  events(): AsyncIterableIterator<ConnectionEvent> {
    const reader = new Reader(this.#capacity, (r) => this.#readers.delete(r));
    if (this.#closed) reader.end();
    else this.#readers.add(reader);
    return reader;
  }

  /** Delivers an event to every reader. Never waits. */
  emit(kind: ConnectionEventKind, peer: PublicKey, at: number, reason?: string): void {
    if (this.#closed || this.#readers.size === 0) return;
    const e: ConnectionEvent =
      reason === undefined ? { kind, peer, at } : { kind, peer, at, reason };
    for (const r of this.#readers) r.push(e);
  }

  /** Ends every stream (the network stopped); later {@link events} calls start ended. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of this.#readers) r.end();
    this.#readers.clear();
  }
}
