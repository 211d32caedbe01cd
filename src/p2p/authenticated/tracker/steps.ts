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

/** A stepwise computation of a `T`. */
export type Steps<T> = Generator<void, T, void>;

/**
 * Units of work between two yields. At about a microsecond per peer this keeps a step well
 * under 10 ms.
 */
export const CHUNK = 1024;

/** Runs `steps` to completion and returns its result. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}
