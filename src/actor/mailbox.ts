import { type Wake, wake } from '../runtime/wake.js';
import type { Feedback } from './feedback.js';
import { Deque } from './queue.js';
import { closeResponderOf, hasResponder, type Responder, responder } from './responder.js';
import { READY_FALSE, READY_TRUE, Waiters } from './waiters.js';

/**
 * Decides what happens to a message that cannot enter the full ready queue (upstream
 * `commonware_actor::mailbox::Policy`).
 *
 * `handle` receives the overflow queue (oldest first) and the new message. It may append the
 * message, drop it, or edit the overflow arbitrarily (remove, replace, reorder, clear). Return
 * `true` if `message` is now retained in `overflow` (enqueue reports `'backoff'`), `false` if it
 * was rejected (enqueue reports `'dropped'`).
 *
 * Messages carrying a `responder` that the policy removes from `overflow` (or rejects) are
 * settled with `undefined` by the mailbox, as Rust would by dropping them. A policy that only
 * ever appends may set `appendOnly` to skip that bookkeeping.
 *
 * `handle` must not enqueue into the same mailbox.
 */
export interface OverflowPolicy<T> {
  /** Places or rejects `message` (see above); `true` when it is retained in `overflow`. */
  handle(overflow: T[], message: T): boolean;
  /** True if `handle` never removes or replaces existing overflow items. */
  readonly appendOnly?: boolean;
}

const RELIABLE: OverflowPolicy<unknown> = {
  appendOnly: true,
  handle(overflow, message) {
    overflow.push(message);
    return true;
  },
};

const UNRELIABLE: OverflowPolicy<unknown> = {
  appendOnly: true,
  handle() {
    return false;
  },
};

/** Always retains overflow (unbounded): every message is delivered. The tracker's policy. */
export function reliable<T>(): OverflowPolicy<T> {
  return RELIABLE as OverflowPolicy<T>;
}

/** Rejects every message that does not fit in the ready queue: capacity is a hard bound. */
export function unreliable<T>(): OverflowPolicy<T> {
  return UNRELIABLE as OverflowPolicy<T>;
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`overflow limit must be a non-negative safe integer, got ${limit}`);
  }
}

/** Retains up to `limit` overflow messages, then rejects the newest (the incoming one). */
export function dropNewest<T>(limit: number): OverflowPolicy<T> {
  checkLimit(limit);
  return {
    appendOnly: true,
    handle(overflow, message) {
      if (overflow.length >= limit) return false;
      overflow.push(message);
      return true;
    },
  };
}

/** Retains up to `limit` overflow messages by evicting the oldest overflow message first. */
export function dropOldest<T>(limit: number): OverflowPolicy<T> {
  checkLimit(limit);
  return {
    handle(overflow, message) {
      if (limit === 0) return false;
      while (overflow.length >= limit) overflow.shift();
      overflow.push(message);
      return true;
    },
  };
}

/**
 * Builds a policy from a per-message decision, for message unions where some variants must be
 * delivered and others may be lost. `decide` returns `'retain'` (append), `'reject'`, or
 * `'replace'`: clear the overflow and retain only this message (e.g. a `kill` that supersedes
 * everything queued). Removed messages' responders are settled by the mailbox.
 */
export function byMessage<T>(
  decide: (message: T) => 'retain' | 'reject' | 'replace',
): OverflowPolicy<T> {
  return {
    handle(overflow, message) {
      switch (decide(message)) {
        case 'retain':
          overflow.push(message);
          return true;
        case 'replace':
          overflow.length = 0;
          overflow.push(message);
          return true;
        default:
          return false;
      }
    },
  };
}

/** Options for {@link mailbox}. */
export interface MailboxOptions {
  /** Called on every enqueue that reports `'backoff'` (wire it to a `backoff` counter). */
  readonly onBackoff?: () => void;
}

/** The producer half of a mailbox. Cheap to share: pass the same object to every producer. */
export interface Sender<T> {
  /** Submits `message` without waiting. See {@link Feedback}. */
  enqueue(message: T): Feedback;
  /**
   * Sends a request built by `make` around a fresh {@link Responder} and resolves with the
   * answer, or `undefined` if the message is rejected, the mailbox is closed, or the actor closes
   * the responder without answering.
   */
  request<R>(make: (responder: Responder<R>) => T): Promise<R | undefined>;
  /** True once the inbox has been closed. */
  readonly isClosed: boolean;
}

/** The consumer half of a mailbox, owned by one actor. `T` must not include `undefined`. */
export interface Inbox<T> {
  /** Takes the oldest message, or `undefined` if none is queued. Never waits. */
  tryRecv(): T | undefined;
  /** Takes up to `max` queued messages (oldest first); an empty array if none. */
  drain(max?: number): T[];
  /**
   * Resolves true once a message is queued (immediately if one is), false once the inbox is
   * closed or `signal` aborts. Does not consume: follow it with `tryRecv`/`drain`. An aborted
   * call removes its waiter and listener, so it is safe to race.
   */
  ready(signal?: AbortSignal): Promise<boolean>;
  /** Waits for and takes one message; `undefined` if the inbox closes or `signal` aborts. */
  recv(signal?: AbortSignal): Promise<T | undefined>;
  /** Messages queued (ready plus overflow). */
  readonly size: number;
  /** The ready-queue capacity. */
  readonly capacity: number;
  readonly isClosed: boolean;
  /**
   * Closes the mailbox: queued messages are discarded (settling the responder of each one that
   * carries a `responder` field, with `undefined`), pending `ready` calls resolve false, and
   * later `enqueue` calls report `'closed'`. Idempotent.
   */
  close(): void;
}

/**
 * An {@link Inbox} whose owner can be told of every change by a callback instead of awaiting
 * {@link Inbox.ready}: the cheap form for thousands of idle consumers (no pending promise).
 */
export interface WatchedInbox<T> extends Inbox<T> {
  /**
   * Sets (or, with `undefined`, clears) the one watcher (a function, or an object whose `wake()`
   * is called): told synchronously from every `enqueue` that queues a message and from `close`.
   * It must not enqueue into or drain this mailbox itself (schedule that instead).
   */
  watch(fn: Wake | undefined): void;
  /**
   * {@link Inbox.drain} into the caller's array: appends up to `max` queued messages (oldest
   * first) to `out` and returns how many; none if `max` is not positive. No array of its own: a
   * consumer taking small batches (a peer's sender) reuses one.
   */
  drainInto(out: T[], max: number): number;
}

/**
 * The ready queue of every mailbox that never queued a message (never pushed to: the first
 * message gets the mailbox its own). An idle mailbox (a connected peer's relay queues, while the
 * application sends it nothing) then holds no queue object.
 */
const NO_READY: Deque<never> = new Deque<never>(1);

/** The overflow of every mailbox that has none (never written: the first overflow replaces it). */
const NO_OVERFLOW: never[] = Object.freeze([]) as never[];

class MailboxState<T> implements Sender<T>, WatchedInbox<T> {
  readonly #capacity: number;
  readonly #policy: OverflowPolicy<T>;
  readonly #onBackoff: (() => void) | undefined;
  #ready: Deque<T> = NO_READY;
  /**
   * Overflow, oldest first, from index `#ovHead` (slots before it were already moved to ready;
   * a head index rather than `shift`, which is O(n) on large arrays). Invariant: non-empty only
   * while the ready queue is full. `NO_OVERFLOW` (shared, frozen) until a message overflows.
   */
  #overflow: T[] = NO_OVERFLOW;
  #ovHead = 0;
  /**
   * Overflow messages carrying a responder (only tracked for editing policies). Created on first
   * use: most mailboxes (a peer's relay queues) never hold a responder.
   */
  #tracked: Set<T> | undefined;
  /** Made at the first `ready` that has to wait (a watched inbox never makes one). */
  #waiters: Waiters | undefined;
  #watcher: Wake | undefined;
  #closed = false;

  constructor(capacity: number, policy: OverflowPolicy<T>, onBackoff: (() => void) | undefined) {
    this.#capacity = capacity;
    this.#policy = policy;
    this.#onBackoff = onBackoff;
  }

  /** The ready queue to push to: made at the first message, then growing on demand. */
  #readyForPush(): Deque<T> {
    if (this.#ready === NO_READY) this.#ready = new Deque<T>(Math.min(this.#capacity, 4));
    return this.#ready;
  }

  get capacity(): number {
    return this.#capacity;
  }

  watch(fn: Wake | undefined): void {
    this.#watcher = fn;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  get size(): number {
    return this.#ready.size + this.#overflow.length - this.#ovHead;
  }

  enqueue(message: T): Feedback {
    if (this.#closed) {
      closeResponderOf(message);
      return 'closed';
    }
    // Fast path: no overflow to stay behind and room in the ready queue.
    if (this.#ready.size < this.#capacity && this.#overflow.length === this.#ovHead) {
      this.#readyForPush().push(message);
      if (this.#waiters !== undefined && this.#waiters.count > 0) this.#waiters.settleAll(true);
      if (this.#watcher !== undefined) wake(this.#watcher);
      return 'ok';
    }
    const policy = this.#policy;
    if ((this.#overflow as unknown) === NO_OVERFLOW) this.#overflow = [];
    let retained: boolean;
    if (policy === RELIABLE) {
      // The tracker's policy: append without compacting (keeps a huge overflow O(1) per message).
      this.#overflow.push(message);
      retained = true;
    } else {
      if (this.#ovHead > 0) this.#compact();
      retained = policy.handle(this.#overflow, message);
    }
    if (policy.appendOnly !== true) this.#reconcile(retained ? message : undefined);
    if (retained) {
      this.#onBackoff?.();
      if (this.#watcher !== undefined) wake(this.#watcher);
      return 'backoff';
    }
    closeResponderOf(message);
    return 'dropped';
  }

  /** Settles responders of messages an editing policy removed from the overflow. */
  #reconcile(added: T | undefined): void {
    const tracked = this.#tracked;
    if (tracked !== undefined && tracked.size > 0) {
      const live = new Set(this.#overflow);
      for (const m of tracked) {
        if (!live.has(m)) {
          tracked.delete(m);
          closeResponderOf(m);
        }
      }
    }
    if (added !== undefined && hasResponder(added)) {
      this.#tracked ??= new Set();
      this.#tracked.add(added);
    }
  }

  request<R>(make: (responder: Responder<R>) => T): Promise<R | undefined> {
    const [r, answer] = responder<R>();
    // enqueue closes the responder itself when the message is dropped or the mailbox is closed.
    this.enqueue(make(r));
    return answer;
  }

  #compact(): void {
    this.#overflow = this.#overflow.slice(this.#ovHead);
    this.#ovHead = 0;
  }

  tryRecv(): T | undefined {
    const m = this.#ready.shift();
    if (this.#overflow.length > this.#ovHead) this.#refill();
    return m;
  }

  drain(max = Number.POSITIVE_INFINITY): T[] {
    const out: T[] = [];
    this.drainInto(out, max);
    return out;
  }

  drainInto(out: T[], max: number): number {
    if (!(max > 0)) return 0;
    const start = out.length;
    const end = start + max;
    this.#ready.shiftInto(out, max);
    if (this.#overflow.length > this.#ovHead) {
      this.#refill();
      // A batch larger than the ready capacity keeps pulling through the overflow.
      while (out.length < end && this.#ready.size > 0) {
        this.#ready.shiftInto(out, end - out.length);
        if (this.#overflow.length > this.#ovHead) this.#refill();
      }
    }
    return out.length - start;
  }

  /** Moves overflow (oldest first) into the freed ready slots. */
  #refill(): void {
    const room = this.#capacity - this.#ready.size;
    if (room <= 0) return;
    const overflow = this.#overflow;
    const tracked = this.#tracked;
    let head = this.#ovHead;
    const end = Math.min(overflow.length, head + room);
    for (; head < end; head++) {
      const m = overflow[head] as T;
      overflow[head] = undefined as T; // release for GC
      this.#readyForPush().push(m);
      if (tracked !== undefined && tracked.size > 0) tracked.delete(m);
    }
    if (head === overflow.length) {
      this.#overflow = NO_OVERFLOW;
      this.#ovHead = 0;
    } else {
      this.#ovHead = head;
      // Amortised O(1): compact once the dead prefix dominates.
      if (head >= 1024 && head * 2 >= overflow.length) this.#compact();
    }
  }

  ready(signal?: AbortSignal): Promise<boolean> {
    if (this.#ready.size > 0) return READY_TRUE;
    if (this.#closed || signal?.aborted === true) return READY_FALSE;
    this.#waiters ??= new Waiters();
    return this.#waiters.wait(signal);
  }

  async recv(signal?: AbortSignal): Promise<T | undefined> {
    for (;;) {
      const m = this.tryRecv();
      if (m !== undefined) return m;
      if (!(await this.ready(signal))) return undefined;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const m of this.#ready.takeAll()) closeResponderOf(m);
    const overflow = this.#overflow;
    const head = this.#ovHead;
    this.#overflow = NO_OVERFLOW;
    this.#ovHead = 0;
    this.#tracked = undefined;
    for (let i = head; i < overflow.length; i++) closeResponderOf(overflow[i]);
    this.#waiters?.settleAll(false);
    const watcher = this.#watcher;
    this.#watcher = undefined;
    if (watcher !== undefined) wake(watcher);
  }
}

/**
 * Creates a bounded mailbox: a ready queue of `capacity` messages plus an overflow queue
 * governed by `policy`. Returns the producer and consumer halves (the same object behind two
 * narrowed interfaces; hand the {@link Inbox} only to the owning actor).
 *
 * @throws RangeError if `capacity` is not a positive safe integer.
 */
export function mailbox<T>(
  capacity: number,
  policy: OverflowPolicy<T>,
  options?: MailboxOptions,
): [Sender<T>, WatchedInbox<T>] {
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(`mailbox capacity must be a positive safe integer, got ${capacity}`);
  }
  const state = new MailboxState<T>(capacity, policy, options?.onBackoff);
  return [state, state];
}
