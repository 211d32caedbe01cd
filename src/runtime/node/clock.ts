import type { Clock } from '../context.js';
import type { Timer, TimerClock } from '../stop.js';

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
 * A callback timer (see `timerAt`): one Timeout, chained past setTimeout's longest delay. A
 * {@link NodeTimer.reset} for the delay the Timeout was made with (a periodic timer's) refreshes
 * that Timeout rather than making another, also once it has fired.
 */
class NodeTimer implements Timer {
  readonly #fn: () => void;
  #deadline: number;
  /** The Timeout, pending or fired (cleared ones are dropped: a cleared Timeout cannot be refreshed). */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The delay `#timer` was made with (what `refresh` re-arms it for). */
  #delay = 0;
  #pending = false;

  constructor(t: number, fn: () => void) {
    this.#fn = fn;
    this.#deadline = t;
    this.#arm(t);
  }

  #arm(t: number): void {
    let ms = t - Date.now();
    if (!(ms > 0)) ms = 0;
    ms = Math.min(Math.trunc(ms), MAX_DELAY);
    this.#pending = true;
    const timer = this.#timer;
    // A refresh fires `#delay` from now: for `ms` one less than that, at most 1 ms late (a
    // deadline read a millisecond ago), never early.
    if (timer !== undefined && (ms === this.#delay || ms + 1 === this.#delay)) {
      timer.refresh();
      return;
    }
    if (timer !== undefined) clearTimeout(timer);
    this.#delay = ms;
    this.#timer = setTimeout(NodeTimer.#fire, ms, this);
  }

  static #fire(self: NodeTimer): void {
    if (!self.#pending) return;
    const left = self.#deadline - Date.now();
    if (left > 0) {
      self.#arm(self.#deadline);
      return;
    }
    self.#pending = false;
    self.#fn();
  }

  cancel(): void {
    if (!this.#pending) return;
    this.#pending = false;
    const timer = this.#timer;
    this.#timer = undefined;
    if (timer !== undefined) clearTimeout(timer);
  }

  reset(t: number): void {
    this.#deadline = t;
    this.#arm(t);
  }
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
  timer(t: number, fn: () => void): Timer {
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
