import type { Clock } from '../context.js';
import { EventHeap, TimedEvent } from '../event-heap.js';
import type { Timer, TimerClock } from '../stop.js';
import { type Wake, wake } from '../wake.js';
import { type Digest, EVENT } from './digest.js';

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
