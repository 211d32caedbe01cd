import type { Clock } from '../context.js';
import { EventHeap, TimedEvent } from '../event-heap.js';
import type { Timer, TimerClock } from '../stop.js';
import { type Wake, wake } from '../wake.js';

// setTimeout clamps delays above 2^31 - 1 ms to 1 ms; longer sleeps are chained.
const MAX_DELAY = 2 ** 31 - 1;

/** One pending sleep: the abort listener object and the timer callback in one allocation. */
class Sleeper {
  readonly #resolve: () => void;
  readonly #reject: (reason: unknown) => void;
  readonly #signal: AbortSignal | undefined;
  #deadline: number;
  #timer: ReturnType<typeof setTimeout>;

  constructor(
    ms: number,
    resolve: () => void,
    reject: (reason: unknown) => void,
    signal: AbortSignal | undefined,
  ) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
    this.#deadline = Date.now() + ms;
    this.#timer = setTimeout(Sleeper.#fire, Math.min(ms, MAX_DELAY), this);
    signal?.addEventListener('abort', this);
  }

  static #fire(self: Sleeper): void {
    const left = self.#deadline - Date.now();
    if (left > 0) {
      self.#timer = setTimeout(Sleeper.#fire, Math.min(left, MAX_DELAY), self);
      return;
    }
    self.#signal?.removeEventListener('abort', self);
    self.#resolve();
  }

  /** The abort listener (EventTarget calls `handleEvent` on listener objects). */
  handleEvent(): void {
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this);
    this.#reject(this.#signal?.reason);
  }
}

/**
 * A callback timer (see `timerAt`). Every pending one is an entry of one binary heap, ordered by
 * deadline and then by arming order, under one shared Timeout armed for the earliest: a
 * connection's keep-alive timer costs this object, not a Timeout (and its argument array) each,
 * which thousands of idle connections would keep. Fires never early (the deadline is checked
 * against `Date.now()` when the Timeout runs), in deadline order, ties in the order they were
 * armed (a {@link NodeTimer.reset} arms anew, as a new timer made then would).
 */
class NodeTimer extends TimedEvent implements Timer {
  // ---------- The shared heap ----------
  static readonly #heap = new EventHeap();
  /** The shared Timeout (pending while the heap holds a timer), and when it fires at the latest. */
  static #wake: ReturnType<typeof setTimeout> | undefined;
  static #wakeAt = 0;
  /** Arming order (ties fire in it); also bounds what one run of {@link #fire} fires. */
  static #armed = 0;

  readonly #fn: Wake;

  constructor(t: number, fn: Wake) {
    super();
    this.#fn = fn;
    this.reset(t);
  }

  /** @internal The heap's callback: the deadline passed. */
  fire(): void {
    wake(this.#fn);
  }

  cancel(): void {
    if (this.index < 0) return;
    const heap = NodeTimer.#heap;
    heap.remove(this);
    if (heap.size === 0) NodeTimer.#schedule();
  }

  reset(t: number): void {
    const heap = NodeTimer.#heap;
    heap.remove(this);
    this.deadline = t;
    this.seq = NodeTimer.#armed++;
    heap.push(this);
    if (heap.peek() === this) NodeTimer.#schedule();
  }

  /**
   * Arms the shared Timeout for the earliest deadline unless it fires by then already (an early
   * wake finds nothing due and re-arms); clears it once no timer is pending (a pending ref'd
   * Timeout would keep the process alive).
   */
  static #schedule(): void {
    const first = NodeTimer.#heap.peek();
    const wake = NodeTimer.#wake;
    if (first === undefined) {
      if (wake !== undefined) clearTimeout(wake);
      NodeTimer.#wake = undefined;
      return;
    }
    const at = first.deadline;
    if (wake !== undefined && NodeTimer.#wakeAt <= at) return;
    if (wake !== undefined) clearTimeout(wake);
    const now = Date.now();
    let ms = at - now;
    if (!(ms > 0)) ms = 0;
    ms = Math.min(Math.trunc(ms), MAX_DELAY);
    NodeTimer.#wakeAt = now + ms;
    NodeTimer.#wake = setTimeout(NodeTimer.#fire, ms);
  }

  /**
   * The shared Timeout: fires, in order, every timer due now that was armed before this run
   * (one re-armed by a callback into the past waits for the next run: no endless loop).
   */
  static #fire(): void {
    NodeTimer.#wake = undefined;
    const heap = NodeTimer.#heap;
    const now = Date.now();
    const armedBefore = NodeTimer.#armed;
    try {
      for (let t = heap.peek(); t !== undefined; t = heap.peek()) {
        if (t.deadline > now || t.seq >= armedBefore) break;
        heap.pop();
        t.fire();
      }
    } finally {
      NodeTimer.#schedule();
    }
  }

  /** @internal Pending timers of the process (for tests). */
  static get pending(): number {
    return NodeTimer.#heap.size;
  }
}

/** @internal Callback timers pending in the process, every Node runtime's (for tests). */
export function pendingNodeTimers(): number {
  return NodeTimer.pending;
}

/**
 * A zero sleep: one `setImmediate` (the check phase of this loop iteration, after its I/O), not
 * a timer (Node clamps a 0 ms timeout to 1 ms, so a task yielding by `sleep(0)` would idle up
 * to a millisecond per yield).
 */
class ImmediateSleeper {
  readonly #resolve: () => void;
  readonly #reject: (reason: unknown) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #immediate: ReturnType<typeof setImmediate>;

  constructor(resolve: () => void, reject: (reason: unknown) => void, signal?: AbortSignal) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
    this.#immediate = setImmediate(ImmediateSleeper.#fire, this);
    signal?.addEventListener('abort', this);
  }

  static #fire(self: ImmediateSleeper): void {
    self.#signal?.removeEventListener('abort', self);
    self.#resolve();
  }

  /** The abort listener (EventTarget calls `handleEvent` on listener objects). */
  handleEvent(): void {
    clearImmediate(this.#immediate);
    this.#signal?.removeEventListener('abort', this);
    this.#reject(this.#signal?.reason);
  }
}

/**
 * The Node runtime's clock: `Date.now()` and real timers; a sleep of 0 ms (or less, or a
 * `sleepUntil` of a time already passed) resolves after one `setImmediate`.
 */
export const nodeClock: Clock & TimerClock = {
  timer(t: number, fn: Wake): Timer {
    return new NodeTimer(t, fn);
  },
  now(): number {
    return Date.now();
  },
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!(ms > 0)) {
      return new Promise((resolve, reject) => {
        new ImmediateSleeper(resolve, reject, signal);
      });
    }
    return new Promise((resolve, reject) => {
      new Sleeper(ms, resolve, reject, signal);
    });
  },
  sleepUntil(t: number, signal?: AbortSignal): Promise<void> {
    return nodeClock.sleep(t - Date.now(), signal);
  },
};
