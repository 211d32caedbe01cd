/**
 * Readiness waiters shared by the mailbox and the ring channel (internal). Each pending
 * `ready(signal)` call owns one entry; the entry is removed, and its abort listener unregistered,
 * whichever of "woken", "closed" or "aborted" happens first. Nothing is left behind.
 *
 * @internal
 */

interface Waiter {
  resolve: (value: boolean) => void;
  signal: AbortSignal;
  onAbort: (() => void) | undefined;
}

/** Shared settled promises: `ready()` on the fast path allocates nothing. */
export const READY_TRUE: Promise<boolean> = Promise.resolve(true);
export const READY_FALSE: Promise<boolean> = Promise.resolve(false);

export class Waiters {
  /** Waiters with a signal; created on first use (most waits share `#shared`). */
  #list: Waiter[] | undefined;
  /**
   * The one pending promise handed to every signal-less `wait()`: repeated `ready()` calls from a
   * loop whose other arm keeps winning share it instead of piling up waiters.
   */
  #shared: Promise<boolean> | undefined;
  #resolveShared: ((value: boolean) => void) | undefined;

  get count(): number {
    return (this.#list?.length ?? 0) + (this.#shared === undefined ? 0 : 1);
  }

  /** A promise resolved by {@link settleAll}, or with false when `signal` aborts. */
  wait(signal: AbortSignal | undefined): Promise<boolean> {
    if (signal === undefined) {
      if (this.#shared === undefined) {
        this.#shared = new Promise<boolean>((resolve) => {
          this.#resolveShared = resolve;
        });
      }
      return this.#shared;
    }
    return new Promise<boolean>((resolve) => {
      const w: Waiter = { resolve, signal, onAbort: undefined };
      w.onAbort = () => {
        const list = this.#list;
        const i = list === undefined ? -1 : list.indexOf(w);
        if (i >= 0) list?.splice(i, 1);
        resolve(false);
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
      this.#list ??= [];
      this.#list.push(w);
    });
  }

  /** Resolves every waiter with `value` and forgets them. */
  settleAll(value: boolean): void {
    const shared = this.#resolveShared;
    if (shared !== undefined) {
      this.#shared = undefined;
      this.#resolveShared = undefined;
      shared(value);
    }
    const list = this.#list;
    if (list === undefined || list.length === 0) return;
    this.#list = undefined;
    for (const w of list) {
      if (w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
      w.resolve(value);
    }
  }
}
