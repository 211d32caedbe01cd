import { READY_FALSE, READY_TRUE } from './waiters.js';

/**
 * Per-arm bookkeeping. Each arm promise gets exactly ONE reaction for its whole life (attached the
 * first time it is raced); individual `select` calls only add and remove a callback in `wake`.
 * A long-lived arm (say `connection.closed`) raced a million times therefore holds one reaction
 * and an empty set, not a million closures: this is repeater's `safeRace` fix for the
 * `Promise.race` leak.
 */
interface Record {
  settled: boolean;
  /**
   * The callbacks of the `select` calls now waiting on this arm: none, one held inline (the usual
   * case: one loop races its own arms), or a set. Thousands of idle peers each keep a handful of
   * records alive, so the common case allocates no Set.
   */
  wake: Waker | Set<Waker> | undefined;
}

/** What an arm's record wakes: a pending {@link select} call ({@link Race}). */
interface Waker {
  wake(): void;
}

const arms = new WeakMap<PromiseLike<unknown>, Record>();
/** The same idea for stop signals: one permanent `abort` listener per signal, ever. */
const signals = new WeakMap<AbortSignal, Record>();

// The mailboxes' shared settled `ready()` promises are known to be settled from the start. Their
// records say so at once: otherwise the first `select` of a process would see them pending (a
// reaction not run yet) and later ones settled, so a program's microtask order would depend on
// what ran before it in the process (two runs of one deterministic seed would differ).
arms.set(READY_TRUE, { settled: true, wake: undefined });
arms.set(READY_FALSE, { settled: true, wake: undefined });

function addWaker(rec: Record, waker: Waker): void {
  const w = rec.wake;
  if (w === undefined) rec.wake = waker;
  else if (w instanceof Set) w.add(waker);
  else rec.wake = new Set([w, waker]);
}

function removeWaker(rec: Record, waker: Waker): void {
  const w = rec.wake;
  if (w === waker) rec.wake = undefined;
  else if (w instanceof Set) w.delete(waker);
}

function settle(rec: Record): void {
  rec.settled = true;
  const w = rec.wake;
  rec.wake = undefined;
  if (w === undefined) return;
  if (w instanceof Set) for (const r of w) r.wake();
  else w.wake();
}

function armRecord(arm: PromiseLike<unknown>): Record {
  let rec = arms.get(arm);
  if (rec === undefined) {
    const r: Record = { settled: false, wake: undefined };
    const done = (): void => settle(r);
    // Handling rejection here also means a losing arm that later rejects (a sleep cancelled by
    // its AbortSignal) never surfaces as an unhandled rejection.
    arm.then(done, done);
    arms.set(arm, r);
    rec = r;
  }
  return rec;
}

function signalRecord(signal: AbortSignal): Record {
  let rec = signals.get(signal);
  if (rec === undefined) {
    const r: Record = { settled: false, wake: undefined };
    signal.addEventListener('abort', () => settle(r), { once: true });
    signals.set(signal, r);
    rec = r;
  }
  return rec;
}

/**
 * Waits for the first of several readiness promises and resolves with its index, or -1 if
 * `signal` aborts first (or is already aborted: shutdown is checked before any arm, as
 * `select_loop!` does). Rejected arms count as settled; their reason is the caller's business
 * (select handles it, so a losing arm that rejects is never an unhandled rejection).
 *
 * Biased like commonware's `select!`: when several arms are already settled, the lowest index
 * wins, so argument order encodes priority.
 *
 * No growth: each arm promise and each `signal` gets one reaction/listener for its whole life,
 * however many `select` calls race it; a call only adds and removes a callback in a set. Racing
 * the same long-lived promise (a `closed` promise, a timer kept across iterations) a million
 * times is therefore free of leaks, unlike a bare `Promise.race` in a loop.
 *
 * Rules (STYLE 2.5):
 * - Race only NON-consuming promises (`inbox.ready()`, `clock.sleepUntil(t, signal)`, a
 *   `closed` promise), then take messages synchronously with `tryRecv`/`drain`. A consuming
 *   promise (`recv()`) that loses would still eat a message later.
 * - A losing arm must not pile up work. `inbox.ready()` without a signal returns the SAME pending
 *   promise on every call until a message arrives, so a loop may call it every iteration. A timer
 *   must be cancelled when it loses for good; two ways:
 *
 * ```ts
 * // Simple: a per-iteration AbortController cancels the losing sleep (and ready waiter).
 * // Cost on Node 20: ~4 us per iteration (AbortSignal dispatch), fine for timer-driven loops.
 * for (;;) {
 *   const iteration = new AbortController();
 *   const arm = await select(
 *     ctx.signal,                                        // stop is checked first
 *     inbox.ready(iteration.signal),                     // 0: a message (false once closed)
 *     ctx.clock.sleepUntil(deadline, iteration.signal),  // 1: the timer
 *   );
 *   iteration.abort(DONE);      // pass a reason: a default DOMException is costly to build
 *   if (arm === -1 || inbox.isClosed) return;
 *   for (const m of inbox.drain(256)) handle(m);
 *   if (ctx.clock.now() >= deadline) deadline = onTimer();
 * }
 *
 * // Cheap (hot loops): keep the sleep while its deadline is unchanged; select attaches to it
 * // once. Cancel it only when the deadline moves or the loop ends.
 * let timer = new AbortController();
 * let sleep = ctx.clock.sleepUntil(deadline, timer.signal);
 * try {
 *   for (;;) {
 *     const arm = await select(ctx.signal, inbox.ready(), sleep);
 *     if (arm === -1 || inbox.isClosed) return;
 *     for (const m of inbox.drain(256)) handle(m);
 *     if (arm === 1 || newDeadline !== deadline) {
 *       timer.abort(DONE);
 *       timer = new AbortController();
 *       sleep = ctx.clock.sleepUntil((deadline = nextDeadline()), timer.signal);
 *     }
 *   }
 * } finally {
 *   timer.abort(DONE);
 * }
 * ```
 */
export function select(
  signal: AbortSignal | undefined,
  ...promises: PromiseLike<unknown>[]
): Promise<number> {
  if (signal?.aborted === true) return Promise.resolve(-1);
  const n = promises.length;
  const recs: Record[] = new Array(n);
  let anySettled = false;
  for (let i = 0; i < n; i++) {
    const rec = armRecord(promises[i] as PromiseLike<unknown>);
    if (i === 0 && rec.settled) {
      // The first arm is known to be settled: it wins outright (the common case of a ready
      // inbox listed first). Later arms still get their one reaction, so a losing arm that
      // rejects later (a cancelled sleep) is handled. Only index 0 can be decided this way: a
      // later arm's record may not have observed a settlement of an earlier arm yet.
      for (let k = 1; k < n; k++) armRecord(promises[k] as PromiseLike<unknown>);
      return Promise.resolve(0);
    }
    recs[i] = rec;
    if (rec.settled) anySettled = true;
  }
  return new Race(recs, signal === undefined ? undefined : signalRecord(signal), anySettled)
    .promise;
}

/**
 * One pending {@link select} call: an object rather than a set of closures (thousands of idle
 * peers each keep a call or two pending). The stop signal's record wakes it through
 * {@link Race.wake} too: a settled stop record means "aborted".
 */
class Race implements Waker {
  readonly promise: Promise<number>;
  readonly #recs: Record[];
  readonly #stop: Record | undefined;
  #resolve: ((index: number) => void) | undefined;

  constructor(recs: Record[], stop: Record | undefined, anySettled: boolean) {
    this.#recs = recs;
    this.#stop = stop;
    this.promise = new Promise<number>((resolve) => {
      this.#resolve = resolve;
    });
    if (anySettled) {
      // An earlier arm seen for the first time may be settled too; its reaction was queued when
      // it was attached above, so it runs before this microtask and the lowest index wins.
      queueMicrotask(() => this.wake());
    }
    for (const rec of recs) if (!rec.settled) addWaker(rec, this);
    if (stop !== undefined) addWaker(stop, this);
  }

  /**
   * Called by a record that settled (or by the microtask above): -1 if the stop signal aborted
   * (its record only settles by waking this), else the lowest settled arm.
   */
  wake(): void {
    if (this.#resolve === undefined) return;
    if (this.#stop?.settled === true) {
      this.#finish(-1);
      return;
    }
    const recs = this.#recs;
    for (let i = 0; i < recs.length; i++) {
      if ((recs[i] as Record).settled) {
        this.#finish(i);
        return;
      }
    }
  }

  #finish(index: number): void {
    const resolve = this.#resolve as (index: number) => void;
    this.#resolve = undefined;
    for (const rec of this.#recs) removeWaker(rec, this);
    if (this.#stop !== undefined) removeWaker(this.#stop, this);
    resolve(index);
  }
}
