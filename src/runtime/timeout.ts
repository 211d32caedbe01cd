import type { Clock } from './context.js';
import { RuntimeError } from './errors.js';

function noop(): void {}

/**
 * Settles like `promise`, unless `ms` pass on `clock` first: then rejects with what `onTimeout`
 * returns (default: `RuntimeError('Timeout')`). The timer is cleared as soon as `promise`
 * settles, so nothing lingers.
 *
 * A timeout does not cancel the underlying operation (JS promises cannot be dropped): use
 * `onTimeout` to close the resource it waits on, or pass an AbortSignal to the operation itself.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  clock: Clock,
  onTimeout?: () => unknown,
): Promise<T> {
  const timer = new AbortController();
  return new Promise<T>((resolve, reject) => {
    clock.sleep(ms, timer.signal).then(() => {
      reject(
        onTimeout === undefined
          ? new RuntimeError('Timeout', `timed out after ${ms} ms`)
          : onTimeout(),
      );
    }, noop);
    promise.then(
      (value) => {
        timer.abort();
        resolve(value);
      },
      (error: unknown) => {
        timer.abort();
        reject(error);
      },
    );
  });
}
