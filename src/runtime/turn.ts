/**
 * The end of a turn: callbacks that run once the current burst of synchronous code and promise
 * continuations is over, before the runtime handles the next I/O event, timer or delivery. The
 * encrypted stream uses it to coalesce the frames of one turn into one socket write.
 *
 * @module
 */

import type { Clock, Context } from './context.js';

/**
 * @internal The method {@link TurnQueue.deferCall} calls: an object registered for the end of a
 * turn without a closure (a connection's sender, kept by thousands of idle connections).
 */
export const AT_END_OF_TURN: unique symbol = Symbol('authp2p.atEndOfTurn');

/** @internal What {@link TurnQueue.deferCall} takes. */
export interface EndOfTurnCall {
  [AT_END_OF_TURN](): void;
}

/**
 * A queue of end-of-turn callbacks, one per runtime (see {@link Context.endOfTurn}). Callbacks run
 * in registration order; one registered while the queue runs waits for the next round, after the
 * promise continuations that round started. Holds only what is registered: empty when idle.
 */
export class TurnQueue {
  #fns: ((() => void) | EndOfTurnCall)[] = [];
  #spare: ((() => void) | EndOfTurnCall)[] = [];
  readonly #schedule: (drain: () => void) => void;
  readonly #onError: (error: unknown) => void;
  readonly #onDrain: ((count: number) => void) | undefined;

  /**
   * @param schedule runs its argument at the end of the current turn (once per round).
   * @param onError told of a callback that threw (the others still run).
   * @param onDrain told how many callbacks a round is about to run (the deterministic runtime
   *   records it in its digest).
   */
  constructor(
    schedule: (drain: () => void) => void,
    onError: (error: unknown) => void,
    onDrain?: (count: number) => void,
  ) {
    this.#schedule = schedule;
    this.#onError = onError;
    this.#onDrain = onDrain;
  }

  /** Callbacks waiting for the end of this turn. */
  get size(): number {
    return this.#fns.length;
  }

  /** Runs `fn` at the end of the current turn (the same as {@link defer}: a `Turns` itself). */
  endOfTurn(fn: () => void): void {
    this.defer(fn);
  }

  /** Calls `target[AT_END_OF_TURN]()` at the end of the current turn, as {@link defer} would. */
  deferCall(target: EndOfTurnCall): void {
    this.defer(target);
  }

  /** Runs `fn` at the end of the current turn. */
  defer(fn: (() => void) | EndOfTurnCall): void {
    if (this.#fns.length === 0) {
      // From inside a round, the next one is scheduled from a microtask, so that it follows the
      // continuations this round starts (a tick scheduled from a tick would run before them).
      if (this.#draining) queueMicrotask(this.#scheduleDrain);
      else this.#schedule(this.#drain);
    }
    this.#fns.push(fn);
  }

  #draining = false;
  readonly #scheduleDrain = (): void => this.#schedule(this.#drain);

  readonly #drain = (): void => {
    const fns = this.#fns;
    // Registrations made while these run go to the other array and schedule the next round.
    this.#fns = this.#spare;
    this.#draining = true;
    this.#onDrain?.(fns.length);
    for (let i = 0; i < fns.length; i++) {
      try {
        const f = fns[i] as (() => void) | EndOfTurnCall;
        if (typeof f === 'function') f();
        else f[AT_END_OF_TURN]();
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#draining = false;
    fns.length = 0;
    this.#spare = fns;
  };
}

/**
 * A reading of `clock` taken at its first use in a turn and kept until the turn ends (see
 * {@link Context.endOfTurn}): a loop handling a burst of messages reads the real clock once per
 * turn rather than once per message. Never ahead of the real clock, so a rate limiter reading
 * it can only be stricter, by at most the length of the turn.
 */
export class TurnClock {
  readonly #clock: Pick<Clock, 'now'>;
  readonly #turns: Pick<Context, 'endOfTurn'>;
  #t: number | undefined;
  readonly #clear = (): void => {
    this.#t = undefined;
  };

  constructor(clock: Pick<Clock, 'now'>, turns: Pick<Context, 'endOfTurn'>) {
    this.#clock = clock;
    this.#turns = turns;
  }

  /** The time at this turn's first reading, in ms since the Unix epoch. */
  now(): number {
    let t = this.#t;
    if (t === undefined) {
      t = this.#clock.now();
      this.#t = t;
      this.#turns.endOfTurn(this.#clear);
    }
    return t;
  }
}

/** What needs the end of a turn holds: the runtime's queue, not a context. */
export type Turns = Pick<Context, 'endOfTurn'>;

/**
 * The runtime's own turn queue behind `ctx` (the runtimes' contexts expose it as `turns`), else
 * `ctx` itself. A connection's sender or clock keeps this for the connection's life: holding the
 * queue rather than the short-lived context of a handshake lets that context (its scope and
 * abort signal) be collected once the handshake is over.
 */
export function turnsOf(ctx: Turns & { readonly turns?: Turns }): Turns {
  return ctx.turns ?? ctx;
}

/** One {@link TurnClock} per turn queue (per runtime): see {@link sharedTurnClock}. */
const turnClocks = new WeakMap<Turns, TurnClock>();

/**
 * The turn clock of `ctx`'s runtime, shared by every caller on it: a reading taken in a turn is
 * the same whoever takes it, so thousands of connections need not each hold one (with its
 * callback). Its clock is `ctx.clock` of the first caller (one clock per runtime).
 */
export function sharedTurnClock(ctx: Pick<Context, 'clock' | 'endOfTurn'>): TurnClock {
  const turns = turnsOf(ctx);
  let clock = turnClocks.get(turns);
  if (clock === undefined) {
    clock = new TurnClock(ctx.clock, turns);
    turnClocks.set(turns, clock);
  }
  return clock;
}

/**
 * @internal Calls `target[AT_END_OF_TURN]()` at the end of the current turn of `turns`: with no
 * closure on a runtime's own queue, through one on any other.
 */
export function deferCall(turns: Turns, target: EndOfTurnCall): void {
  if (turns instanceof TurnQueue) turns.deferCall(target);
  else turns.endOfTurn(() => target[AT_END_OF_TURN]());
}
