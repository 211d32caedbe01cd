/**
 * Work split into steps, so that the tracker can spread a large registration over several
 * event-loop turns.
 *
 * A step function is a generator that yields after about {@link CHUNK} units of work (peers
 * upserted, records visited) and returns its result. The tracker actor drives it, giving the
 * event loop a turn between steps and handling no other message until it is done, so messages
 * are still handled in order; pure callers (tests, the synchronous directory methods) run it to
 * completion with {@link runSteps}.
 *
 * @module
 */

/**
 * Yielded (instead of nothing) before a step known to be long on its own, such as the insertion
 * that makes a large hash table grow (see `RecordTable.mayGrowFor`): the driver ends the current
 * turn there, so that step starts a turn of its own instead of lengthening a full one.
 */
export const PAUSE: unique symbol = Symbol('steps.pause');

/** A stepwise computation of a `T`; a step ends at each `yield` (or `yield PAUSE`). */
export type Steps<T> = Generator<undefined | typeof PAUSE, T, void>;

/**
 * Units of work between two yields. At about a microsecond per peer this keeps a step well
 * under 10 ms.
 */
export const CHUNK = 1024;

/** Runs `steps` to completion and returns its result (a {@link PAUSE} is just a step). */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}
