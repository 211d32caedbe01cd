/**
 * One timer for many deadlines of the same duration (the Node network's read timeouts): the
 * entries form a FIFO list, so arming is appending (every deadline is `now + ms`, later than all
 * before it) and one unref'd Timeout, armed for the oldest, serves the whole list. An idle
 * connection then holds two links instead of a Timeout and its argument array.
 *
 * @internal
 * @module
 */

/** An entry of a {@link DeadlineList}: in at most one list, at most once. */
export abstract class Deadline {
  /** @internal The list's links (owned by the list). */
  deadlinePrev: Deadline | undefined = undefined;
  /** @internal */
  deadlineNext: Deadline | undefined = undefined;
  /** @internal The list this entry is in, if any. */
  deadlineList: DeadlineList | undefined = undefined;
  /** @internal When the deadline passes (the list's clock, ms). */
  deadlineAt = 0;

  /** @internal Called once the deadline has passed, the entry already unlinked. */
  abstract deadlinePassed(): void;
}

/** The time source of a {@link DeadlineList}: `performance.now()` unless a test supplies one. */
export type Now = () => number;

const performanceNow: Now = () => performance.now();

/**
 * Deadlines of one duration, oldest first, under one unref'd Timeout. {@link arm} (re)links an
 * entry at the tail with deadline `now + ms`; {@link disarm} unlinks it; when the oldest passes,
 * its entry is unlinked and told ({@link Deadline.deadlinePassed}), in deadline order.
 */
export class DeadlineList {
  readonly ms: number;
  readonly #now: Now;
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #size = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending Timeout fires at the latest (the list's clock). */
  #timerAt = 0;

  /** @param ms - the duration of every deadline (finite, >= 0) */
  constructor(ms: number, now: Now = performanceNow) {
    this.ms = ms;
    this.#now = now;
  }

  /** Entries linked. */
  get size(): number {
    return this.#size;
  }

  /** Whether `entry` is armed in this list. */
  has(entry: Deadline): boolean {
    return entry.deadlineList === this;
  }

  /** Arms (or re-arms) `entry`: its deadline is now `now + ms`, after every other one. */
  arm(entry: Deadline): void {
    if (entry.deadlineList === this) {
      if (this.#tail === entry) {
        entry.deadlineAt = this.#now() + this.ms;
        return;
      }
      this.#unlink(entry);
    } else if (entry.deadlineList !== undefined) {
      entry.deadlineList.disarm(entry);
    }
    entry.deadlineAt = this.#now() + this.ms;
    entry.deadlineList = this;
    entry.deadlinePrev = this.#tail;
    entry.deadlineNext = undefined;
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.deadlineNext = entry;
    this.#tail = entry;
    this.#size++;
    if (this.#timer === undefined) this.#schedule();
  }

  /** Unlinks `entry` if it is armed here (its deadline will not pass). */
  disarm(entry: Deadline): void {
    if (entry.deadlineList !== this) return;
    this.#unlink(entry);
    // An early Timeout (the head moved on) finds nothing due and re-arms; an empty list's is
    // cleared.
    if (this.#size === 0 && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #unlink(entry: Deadline): void {
    const prev = entry.deadlinePrev;
    const next = entry.deadlineNext;
    if (prev === undefined) this.#head = next;
    else prev.deadlineNext = next;
    if (next === undefined) this.#tail = prev;
    else next.deadlinePrev = prev;
    entry.deadlinePrev = undefined;
    entry.deadlineNext = undefined;
    entry.deadlineList = undefined;
    this.#size--;
  }

  /** Arms the Timeout for the oldest deadline, unless it fires by then already. */
  #schedule(): void {
    const head = this.#head;
    if (head === undefined) return;
    if (this.#timer !== undefined) {
      if (this.#timerAt <= head.deadlineAt) return;
      clearTimeout(this.#timer);
    }
    const now = this.#now();
    let ms = Math.ceil(head.deadlineAt - now);
    if (!(ms > 0)) ms = 0;
    // Both durations come from options (at most a few minutes); clamp like setTimeout would not.
    ms = Math.min(ms, 2 ** 31 - 1);
    this.#timerAt = now + ms;
    this.#timer = setTimeout(DeadlineList.#fire, ms, this);
    this.#timer.unref();
  }

  /** Tells every entry whose deadline has passed, oldest first, then re-arms for the next. */
  static #fire(self: DeadlineList): void {
    self.#timer = undefined;
    const now = self.#now();
    // Entries armed during this run (a callback re-arming one) wait for the next run.
    const last = self.#tail;
    try {
      for (let head = self.#head; head !== undefined && head.deadlineAt <= now; ) {
        self.#unlink(head);
        head.deadlinePassed();
        if (head === last) break;
        head = self.#head;
      }
    } finally {
      self.#schedule();
    }
  }
}
