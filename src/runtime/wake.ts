/**
 * What is told of an event without a closure of its own: a function, or an object whose
 * `wake()` is called. Thousands of idle connections each keep their watchers on their queues,
 * their stop and their timer; an object that handles its own wake-ups needs no closure (and no
 * closure context) per registration.
 *
 * @internal
 * @module
 */

/**
 * What a watcher, stop callback or timer callback is: a function, or an object whose `wake()`
 * is called (`WatchedInbox.watch` takes one).
 */
export type Wake =
  | (() => void)
  | {
      /** Called for each event the object is told of. */
      wake(): void;
    };

/** Calls `w`: the function itself, or its object's `wake()`. */
export function wake(w: Wake): void {
  if (typeof w === 'function') w();
  else w.wake();
}
