import type { Clock } from '../context.js';
import type { Timer, TimerClock } from '../stop.js';
import { type Wake, wake } from '../wake.js';
import { type Digest, EVENT } from './digest.js';

/**
 * Something due at a virtual time: a sleep, a network delivery, a timeout. Ordered by
 * `(deadline, seq)`; `index` is its slot in the heap (-1 when not scheduled) so that cancelling
 * is O(log n) and a cancelled sleep leaves nothing behind.
 */
export abstract class TimedEvent {
  deadline = 0;
  seq = 0;
  index = -1;
  abstract fire(): void;
}

function before(a: TimedEvent, b: TimedEvent): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

/** An indexed binary min-heap of events. */
class EventHeap {
  readonly #items: TimedEvent[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): TimedEvent | undefined {
    return this.#items[0];
  }

  push(e: TimedEvent): void {
    e.index = this.#items.length;
    this.#items.push(e);
    this.#up(e.index);
  }

  pop(): TimedEvent | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined) return undefined;
    this.#removeAt(0);
    return top;
  }

  remove(e: TimedEvent): void {
    if (e.index >= 0) this.#removeAt(e.index);
  }

  #removeAt(i: number): void {
    const items = this.#items;
    const gone = items[i] as TimedEvent;
    const last = items.pop() as TimedEvent;
    gone.index = -1;
    if (last === gone) return;
    items[i] = last;
    last.index = i;
    this.#down(i);
    this.#up(last.index);
  }

  #up(i: number): void {
    const items = this.#items;
    const e = items[i] as TimedEvent;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p] as TimedEvent;
      if (!before(e, parent)) break;
      items[i] = parent;
      parent.index = i;
      i = p;
    }
    items[i] = e;
    e.index = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const e = items[i] as TimedEvent;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(items[r] as TimedEvent, items[l] as TimedEvent)) c = r;
      const child = items[c] as TimedEvent;
      if (!before(child, e)) break;
      items[i] = child;
      child.index = i;
      i = c;
    }
    items[i] = e;
    e.index = i;
  }
}

/** A pending `sleep`: also the abort listener (EventTarget calls `handleEvent`). */
class Sleep extends TimedEvent {
  readonly #scheduler: Scheduler;
  readonly #resolve: () => void;
  readonly #reject: (reason: unknown) => void;
  readonly #signal: AbortSignal | undefined;

  constructor(
    scheduler: Scheduler,
    resolve: () => void,
    reject: (reason: unknown) => void,
    signal: AbortSignal | undefined,
  ) {
    super();
    this.#scheduler = scheduler;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
  }

  fire(): void {
    this.#signal?.removeEventListener('abort', this);
    this.#resolve();
  }

  handleEvent(): void {
    this.#scheduler.cancel(this);
    this.#signal?.removeEventListener('abort', this);
    this.#reject(this.#signal?.reason);
  }
}

/** A callback event for runtime internals (timeouts). */
export class Callback extends TimedEvent {
  readonly #fn: () => void;
  constructor(fn: () => void) {
    super();
    this.#fn = fn;
  }
  fire(): void {
    this.#fn();
  }
}

/**
 * A callback timer (see `timerAt`): an event that cancels itself, and re-arms itself with a new
 * sequence number (so it fires exactly where a new timer made at the same moment would).
 */
class TimerEvent extends TimedEvent implements Timer {
  readonly #scheduler: Scheduler;
  readonly #fn: Wake;
  constructor(scheduler: Scheduler, fn: Wake) {
    super();
    this.#scheduler = scheduler;
    this.#fn = fn;
  }
  fire(): void {
    wake(this.#fn);
  }
  cancel(): void {
    this.#scheduler.cancel(this);
  }
  reset(t: number): void {
    this.#scheduler.cancel(this);
    this.#scheduler.at(this, t);
  }
}

/** The virtual clock and its event heap. Time moves only in {@link Scheduler.step}. */
export class Scheduler implements Clock, TimerClock {
  readonly #heap = new EventHeap();
  readonly #digest: Digest;
  #now: number;
  #seq = 0;
  /** Events fired so far. */
  fired = 0;

  constructor(startTime: number, digest: Digest) {
    this.#now = startTime;
    this.#digest = digest;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    // Negative and NaN durations mean "now", as in the Node runtime.
    return this.sleepUntil(ms > 0 ? this.#now + ms : this.#now, signal);
  }

  sleepUntil(t: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const sleep = new Sleep(this, resolve, reject, signal);
      this.at(sleep, t);
      signal?.addEventListener('abort', sleep);
    });
  }

  timer(t: number, fn: Wake): Timer {
    const event = new TimerEvent(this, fn);
    this.at(event, t);
    return event;
  }

  /** Schedules `event` at virtual time `t` (now, if `t` is past). */
  at(event: TimedEvent, t: number): void {
    // A past (or NaN) deadline means now: time never runs backwards.
    event.deadline = this.#now;
    if (t > this.#now) event.deadline = t;
    event.seq = this.#seq++;
    this.#heap.push(event);
  }

  cancel(event: TimedEvent): void {
    this.#heap.remove(event);
  }

  /** The deadline of the next event, if any. */
  next(): number | undefined {
    return this.#heap.peek()?.deadline;
  }

  /**
   * Advances time to the earliest event and fires every event due then, in `(deadline, seq)`
   * order. Returns false when there is nothing to fire.
   */
  step(): boolean {
    const heap = this.#heap;
    const first = heap.peek();
    if (first === undefined) return false;
    this.#now = first.deadline;
    const digest = this.#digest;
    for (let e = heap.peek(); e !== undefined && e.deadline <= this.#now; e = heap.peek()) {
      heap.pop();
      this.fired++;
      digest.kind(EVENT.timer).f64(e.deadline).f64(e.seq);
      e.fire();
    }
    return true;
  }
}
