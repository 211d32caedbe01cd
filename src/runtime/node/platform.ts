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
