/**
 * Waiting on real-time tests without sleeping: deadlines that fail a test, a recorder of a
 * network's connection events with waits on them, a watch for unhandled rejections, and counts
 * of the process's open resources.
 *
 * @module
 */

import { readdirSync } from 'node:fs';
import type { PublicKey } from '../../src/crypto/ed25519.js';
import type { ConnectionEvent } from '../../src/p2p/events.js';

/** Rejects after `ms` of wall time unless `promise` settles first (the timer is always cleared). */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`deadline of ${ms} ms exceeded: ${what}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Counts of the process's active TCP sockets, servers and timers. */
export function openResources(): Record<string, number> {
  const counts: Record<string, number> = { TCPSocketWrap: 0, TCPServerWrap: 0, Timeout: 0 };
  for (const r of process.getActiveResourcesInfo()) if (r in counts) counts[r]!++;
  return counts;
}

/** Open file descriptors of this process (Linux `/proc/self/fd`; `undefined` elsewhere). */
export function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

/** Anything with connection events (lookup and discovery networks). */
export interface EventSource {
  events(): AsyncIterableIterator<ConnectionEvent>;
}

/**
 * Records every connection event of a network from its creation until it stops, and lets a test
 * wait for the next one matching a predicate. Start it right after `start()`.
 */
export class EventLog {
  readonly all: ConnectionEvent[] = [];
  readonly #waiters: {
    from: number;
    pred: (e: ConnectionEvent) => boolean;
    resolve: (e: ConnectionEvent) => void;
  }[] = [];
  /** Resolves when the network's event stream ends (the network stopped). */
  readonly ended: Promise<void>;

  constructor(source: EventSource) {
    const stream = source.events();
    this.ended = (async () => {
      for await (const e of stream) {
        this.all.push(e);
        for (const w of this.#waiters.splice(0)) {
          if (this.all.length > w.from && w.pred(e)) w.resolve(e);
          else this.#waiters.push(w);
        }
      }
    })();
  }

  /** Resolves at the next event (or when the stream ends). */
  changed(): Promise<void> {
    return new Promise<void>((resolve) =>
      this.#waiters.push({ from: this.all.length, pred: () => true, resolve: () => resolve() }),
    ).finally(() => {});
  }

  /** A mark for {@link next}: events after it count. */
  get mark(): number {
    return this.all.length;
  }

  /** Events after `mark` of `kind` about `peer`. */
  since(mark: number, kind: ConnectionEvent['kind'], peer: PublicKey): ConnectionEvent[] {
    return this.all.slice(mark).filter((e) => e.kind === kind && e.peer.equals(peer));
  }

  /** The first event after `mark` of `kind` about `peer`, waited for up to `ms`. */
  next(
    mark: number,
    kind: ConnectionEvent['kind'],
    peer: PublicKey,
    ms: number,
  ): Promise<ConnectionEvent> {
    const pred = (e: ConnectionEvent) => e.kind === kind && e.peer.equals(peer);
    const seen = this.all.slice(mark).find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    const p = new Promise<ConnectionEvent>((resolve) =>
      this.#waiters.push({ from: mark, pred, resolve }),
    );
    return deadline(p, ms, `${kind} ${peer.toHex().slice(0, 8)}`);
  }
}

/**
 * Records unhandled promise rejections from now until `stop()`, which returns them (a test
 * asserts the list is empty).
 */
export function watchRejections(): { stop(): unknown[] } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onRejection);
  return {
    stop() {
      process.off('unhandledRejection', onRejection);
      return seen;
    },
  };
}
