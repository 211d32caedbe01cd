/**
 * The inbound side shared by both runtimes' listeners: connections that arrived but were not
 * yet accepted (bounded by a backlog), and `accept` calls waiting for one.
 *
 * @module
 */
import { RuntimeError } from './errors.js';

interface Closable {
  close(): void;
}

interface Acceptor<C> {
  readonly resolve: (conn: C) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  handleEvent(): void;
}

/** Pairs arriving connections with `accept` calls, in arrival order on both sides. */
export class AcceptQueue<C extends Closable> {
  readonly #backlog: number;
  readonly #ready: C[] = [];
  #acceptors: Acceptor<C>[] = [];
  #closed = false;

  /** @param backlog - connections held before `accept` takes them; more are closed. */
  constructor(backlog: number) {
    this.#backlog = backlog;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** True when one more unaccepted connection would exceed the backlog. */
  get isFull(): boolean {
    return this.#ready.length >= this.#backlog;
  }

  /**
   * Hands `conn` to the oldest waiting `accept`, or queues it. Returns false, having closed
   * `conn`, when the queue is closed or its backlog is full.
   */
  push(conn: C): boolean {
    const acceptor = this.#acceptors.shift();
    if (acceptor !== undefined) {
      acceptor.signal?.removeEventListener('abort', acceptor);
      acceptor.resolve(conn);
      return true;
    }
    if (this.#closed || this.isFull) {
      conn.close();
      return false;
    }
    this.#ready.push(conn);
    return true;
  }

  /** The next connection; rejects with `signal.reason` on abort or `ListenerClosed` once closed. */
  accept(signal?: AbortSignal): Promise<C> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#closed) return Promise.reject(new RuntimeError('ListenerClosed'));
    return new Promise((resolve, reject) => {
      const acceptors = this.#acceptors;
      const acceptor: Acceptor<C> = {
        resolve,
        reject,
        signal,
        handleEvent(): void {
          const i = acceptors.indexOf(acceptor);
          if (i >= 0) acceptors.splice(i, 1);
          reject(signal?.reason);
        },
      };
      acceptors.push(acceptor);
      signal?.addEventListener('abort', acceptor, { once: true });
    });
  }

  /** Closes every queued connection and rejects every waiting `accept`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const conn of this.#ready.splice(0)) conn.close();
    const acceptors = this.#acceptors;
    this.#acceptors = [];
    for (const a of acceptors) {
      a.signal?.removeEventListener('abort', a);
      a.reject(new RuntimeError('ListenerClosed'));
    }
  }
}
