/**
 * The end of a turn: callbacks that run once the current burst of synchronous code and promise
 * continuations is over, before the runtime handles the next I/O event, timer or delivery. The
 * encrypted stream uses it to coalesce the frames of one turn into one socket write.
 *
 * @module
 */

/**
 * A queue of end-of-turn callbacks, one per runtime (see {@link Context.endOfTurn}). Callbacks run
 * in registration order; one registered while the queue runs waits for the next round, after the
 * promise continuations that round started. Holds only what is registered: empty when idle.
 */
export class TurnQueue {
  #fns: (() => void)[] = [];
  #spare: (() => void)[] = [];
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

  /** Runs `fn` at the end of the current turn. */
  defer(fn: () => void): void {
    if (this.#fns.length === 0) this.#schedule(this.#drain);
    this.#fns.push(fn);
  }

  readonly #drain = (): void => {
    const fns = this.#fns;
    // Registrations made while these run go to the other array and schedule the next round.
    this.#fns = this.#spare;
    this.#onDrain?.(fns.length);
    for (let i = 0; i < fns.length; i++) {
      try {
        (fns[i] as () => void)();
      } catch (error) {
        this.#onError(error);
      }
    }
    fns.length = 0;
    this.#spare = fns;
  };
}
