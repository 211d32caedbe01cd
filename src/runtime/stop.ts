/**
 * Cheap stop notification and timers for long-lived per-connection state (internal): a task that
 * only needs to hear that its context stopped, or one timer it cancels itself, should not make
 * an AbortController (a Node AbortSignal is an EventTarget with two Maps, ~0.75 KB, per task).
 *
 * @internal
 * @module
 */

import type { Clock, Context, Handle } from './context.js';
import { RuntimeContext, type TaskEnd, type TaskStart } from './core.js';
import { type Wake, wake } from './wake.js';

export type { TaskEnd, TaskStart };

function noop(): void {}

/** Whether `ctx` was stopped, without creating its signal (for a runtime's own contexts). */
export function isStopped(ctx: Context): boolean {
  return ctx instanceof RuntimeContext ? ctx.scope.aborted : ctx.signal.aborted;
}

/** The abort listeners made for objects given to {@link onStop} on contexts of another kind. */
const stopListeners = new WeakMap<object, () => void>();

function listenerOf(fn: Wake): () => void {
  if (typeof fn === 'function') return fn;
  let l = stopListeners.get(fn);
  if (l === undefined) {
    l = () => wake(fn);
    stopListeners.set(fn, l);
  }
  return l;
}

/**
 * Calls `fn` (a function, or an object whose `wake()` is called) once when `ctx` stops
 * (synchronously, from the stop), or never if it already has (check {@link isStopped} first);
 * {@link offStop} unregisters it. On a runtime's own contexts no AbortSignal (and, for an
 * object, no closure) is created.
 */
export function onStop(ctx: Context, fn: Wake): void {
  if (ctx instanceof RuntimeContext) ctx.scope.onAbort(fn);
  else ctx.signal.addEventListener('abort', listenerOf(fn), { once: true });
}

/** Unregisters a callback of {@link onStop}. */
export function offStop(ctx: Context, fn: Wake): void {
  if (ctx instanceof RuntimeContext) ctx.scope.offAbort(fn);
  else ctx.signal.removeEventListener('abort', listenerOf(fn));
}

/** A pending {@link timerAt}. */
export interface Timer {
  /** Cancels the timer if it has not fired; idempotent. */
  cancel(): void;
  /**
   * Re-arms the timer for time `t` (ms since the epoch; at once if past), whether it is pending,
   * fired or cancelled: it then fires once, at `t`, as a new `timerAt(clock, t, fn)` made now
   * would (same firing order), without a new timer object on the runtimes' clocks. A periodic
   * task (a connection's keep-alive) re-arms one timer rather than making one per period.
   */
  reset(t: number): void;
}

/** A clock with cancellable callback timers (both runtimes' clocks are). */
export interface TimerClock {
  /**
   * Calls `fn` (a function, or an object whose `wake()` is called) at time `t` (ms since the
   * epoch; at once if past) unless cancelled first.
   */
  timer(t: number, fn: Wake): Timer;
}

/** The reason a fallback timer's sleep is cancelled with (never surfaces). */
const CANCELLED = new Error('timer cancelled');

/** A {@link Timer} on a clock without `timer`: a sleep with its own AbortController per arming. */
class SleepTimer implements Timer {
  readonly #clock: Clock;
  readonly #fn: Wake;
  #ac: AbortController | undefined;
  /** Counts armings: a sleep that settles after a later arming (or a cancel) does nothing. */
  #armed = 0;

  constructor(clock: Clock, t: number, fn: Wake) {
    this.#clock = clock;
    this.#fn = fn;
    this.reset(t);
  }

  cancel(): void {
    this.#armed++;
    this.#ac?.abort(CANCELLED);
    this.#ac = undefined;
  }

  reset(t: number): void {
    this.cancel();
    const armed = this.#armed;
    const ac = new AbortController();
    this.#ac = ac;
    this.#clock.sleepUntil(t, ac.signal).then(() => {
      if (armed !== this.#armed) return;
      this.#ac = undefined;
      wake(this.#fn);
    }, noop);
  }
}

/**
 * Calls `fn` at time `t` of `clock` unless cancelled first: one timer object and no promise on
 * the runtimes' clocks (same firing order as a `sleepUntil(t)` made at the same moment); any other
 * clock gets a sleep with its own AbortController.
 */
export function timerAt(clock: Clock, t: number, fn: Wake): Timer {
  const c = clock as Clock & Partial<TimerClock>;
  if (typeof c.timer === 'function') return c.timer(t, fn);
  return new SleepTimer(clock, t, fn);
}

/**
 * Spawns a task driven by callbacks: `start(ctx, end)` runs on a microtask and the task ends when
 * it calls `end.returned(value)` or `end.threw(error)` (or throws). On a runtime's own contexts
 * the task holds no promise while it runs (see `RuntimeContext.spawnCallback`); any other
 * context gets a `spawn` whose promise `end` settles.
 */
export function spawnCallback<T>(ctx: Context, label: string, start: TaskStart<T>): Handle<T> {
  if (ctx instanceof RuntimeContext) return ctx.spawnCallback(label, start);
  return ctx.spawn(
    label,
    (c) =>
      new Promise<T>((resolve, reject) => {
        start(c, { returned: resolve, threw: reject });
      }),
  );
}
