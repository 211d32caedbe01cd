// The few Node facilities the deterministic runtime needs for its own machinery. They live
// here because lint confines node:net and real timers to src/runtime/node.
import { isIP } from 'node:net';

/**
 * One turn of the real event loop. The deterministic runtime awaits this to let every pending
 * promise continuation run before it advances virtual time; it is scheduling, never timing.
 */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Whether `s` is an IPv4 or IPv6 literal. */
export function isIpLiteral(s: string): boolean {
  return isIP(s) !== 0;
}

/**
 * The local IP a dial to `target` should leave from, given the caller's preferred `local` (the
 * dialing network's listen IP): `local` when it is a literal of the same family as `target` and
 * not a wildcard (`0.0.0.0`, `::`), otherwise `undefined` (let the network choose).
 */
export function dialSource(local: string | undefined, target: string): string | undefined {
  if (local === undefined || local === '0.0.0.0' || local === '::') return undefined;
  const family = isIP(local);
  return family !== 0 && family === isIP(target) ? local : undefined;
}

/**
 * Runs `fn` once the current burst of synchronous code and promise continuations is over
 * (`process.nextTick` from a promise continuation runs after the microtask queue has drained),
 * before the event loop polls for I/O or fires a timer. Scheduling, never timing: the same
 * order on every run, so the deterministic runtime uses it too.
 */
export function afterMicrotasks(fn: () => void): void {
  process.nextTick(fn);
}
