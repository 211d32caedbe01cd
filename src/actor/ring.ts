import type { Feedback } from './feedback.js';
import type { Inbox } from './mailbox.js';
import { Deque } from './queue.js';
import { closeResponderOf } from './responder.js';
import { READY_FALSE, READY_TRUE, Waiters } from './waiters.js';

/** The producer half of a {@link ring} channel. */
export interface RingSender<T> {
  /**
   * Appends `item`, evicting the oldest queued item if the ring is full ("latest wins").
   * Returns `'ok'`, or `'closed'` once the receiver has closed.
   */
  send(item: T): Feedback;
  readonly isClosed: boolean;
}

/**
 * The consumer half of a {@link ring} channel: the same operations as a mailbox {@link Inbox}
 * (closing settles carried responders), plus the count of items evicted because the ring was
 * full. `T` must not include `undefined`.
 */
export interface RingInbox<T> extends Inbox<T> {
  /** Items evicted so far because the ring was full. */
  readonly evicted: number;
}

class RingState<T> implements RingSender<T>, RingInbox<T> {
  readonly #capacity: number;
  readonly #items: Deque<T>;
  readonly #waiters = new Waiters();
  #closed = false;
  #evicted = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#items = new Deque<T>(Math.min(capacity, 16));
  }

  get capacity(): number {
    return this.#capacity;
  }
  get size(): number {
    return this.#items.size;
  }
  get evicted(): number {
    return this.#evicted;
  }
  get isClosed(): boolean {
    return this.#closed;
  }

  send(item: T): Feedback {
    if (this.#closed) {
      closeResponderOf(item);
      return 'closed';
    }
    if (this.#items.size >= this.#capacity) {
      closeResponderOf(this.#items.shift());
      this.#evicted++;
    }
    this.#items.push(item);
    if (this.#waiters.count > 0) this.#waiters.settleAll(true);
    return 'ok';
  }

  tryRecv(): T | undefined {
    return this.#items.shift();
  }

  drain(max = Number.POSITIVE_INFINITY): T[] {
    const out: T[] = [];
    this.#items.shiftInto(out, max);
    return out;
  }

  ready(signal?: AbortSignal): Promise<boolean> {
    if (this.#items.size > 0) return READY_TRUE;
    if (this.#closed || signal?.aborted === true) return READY_FALSE;
    return this.#waiters.wait(signal);
  }

  async recv(signal?: AbortSignal): Promise<T | undefined> {
    for (;;) {
      const m = this.#items.shift();
      if (m !== undefined) return m;
      if (!(await this.ready(signal))) return undefined;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const m of this.#items.takeAll()) closeResponderOf(m);
    this.#waiters.settleAll(false);
  }
}

/**
 * Creates a ring channel keeping the newest `capacity` items: when full, sending evicts the
 * OLDEST item (upstream `utils::channel::ring`). Use it where only the latest state matters.
 *
 * @throws RangeError if `capacity` is not a positive safe integer.
 */
export function ring<T>(capacity: number): [RingSender<T>, RingInbox<T>] {
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(`ring capacity must be a positive safe integer, got ${capacity}`);
  }
  const state = new RingState<T>(capacity);
  return [state, state];
}
