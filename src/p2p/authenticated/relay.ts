/**
 * The per-peer outbound queues (commonware `p2p/src/authenticated/relay.rs`).
 *
 * A {@link Relay} is what the router holds for one connected peer: two bounded queues, `high`
 * and `low`, each of capacity `mailboxSize`, drained by that peer's sender loop (control first,
 * then high, then low). {@link Relay.send} never waits: when the chosen queue is full the message
 * is dropped for this peer only and counted, so a slow peer can never stall the router or delay
 * delivery to anyone else.
 *
 * @module
 */

import { mailbox, type Sender, unreliable, type WatchedInbox } from '../../actor/index.js';
import type { Counter, Metrics } from '../../runtime/context.js';
import type { Traffic } from './traffic.js';

/** The counters a relay increments when it drops a message because a queue is full. */
export interface RelayMetrics {
  /** `relay_high_backoff`: high-priority messages dropped because the peer's high queue was full. */
  readonly highBackoff: Counter;
  /** `relay_low_backoff`: low-priority messages dropped because the peer's low queue was full. */
  readonly lowBackoff: Counter;
}

/**
 * Registers (or looks up: registering a name twice returns the first registration) the relay
 * counters under `metrics`.
 */
export function relayMetrics(metrics: Metrics): RelayMetrics {
  return {
    highBackoff: metrics.counter(
      'relay_high_backoff',
      'High-priority messages dropped because a peer queue was full',
    ),
    lowBackoff: metrics.counter(
      'relay_low_backoff',
      'Low-priority messages dropped because a peer queue was full',
    ),
  };
}

/** The consumer halves of a relay, owned by the peer's sender loop. */
export interface RelayInboxes {
  /** Encoded payloads sent with `priority = true`. */
  readonly high: WatchedInbox<Uint8Array>;
  /** Encoded payloads sent with `priority = false`. */
  readonly low: WatchedInbox<Uint8Array>;
}

/** Both halves of one queue: the same object (see `mailbox`). */
type Queue = Sender<Uint8Array> & WatchedInbox<Uint8Array>;

/**
 * The producer side of a peer's outbound queues, held by the router; also, as
 * {@link RelayInboxes}, what its peer's sender drains (one object per peer, not two).
 */
export class Relay implements RelayInboxes {
  readonly #high: Queue;
  readonly #low: Queue;
  readonly #metrics: RelayMetrics | undefined;
  /** The peer's traffic totals, once its actor runs: drops are counted there too. */
  traffic: Traffic | undefined;

  private constructor(high: Queue, low: Queue, metrics: RelayMetrics | undefined) {
    this.#high = high;
    this.#low = low;
    this.#metrics = metrics;
  }

  /**
   * Creates a relay whose queues each hold `mailboxSize` payloads (overflow rejected), and the
   * inboxes its peer actor drains.
   *
   * @throws RangeError if `mailboxSize` is not a positive safe integer.
   */
  static create(mailboxSize: number, metrics?: RelayMetrics): [Relay, RelayInboxes] {
    // A mailbox's two halves are one object: keep it once, typed as both.
    const [, high] = mailbox<Uint8Array>(mailboxSize, unreliable());
    const [, low] = mailbox<Uint8Array>(mailboxSize, unreliable());
    const relay = new Relay(high as Queue, low as Queue, metrics);
    return [relay, relay];
  }

  /** @internal The high queue's consumer half (for the peer's sender: see {@link RelayInboxes}). */
  get high(): WatchedInbox<Uint8Array> {
    return this.#high;
  }

  /** @internal The low queue's consumer half. */
  get low(): WatchedInbox<Uint8Array> {
    return this.#low;
  }

  /**
   * Queues `encoded` (a complete payload, shared across recipients: never mutated) on the high or
   * low queue. Never waits. Returns false if the message was not queued: the queue was full (the
   * message is dropped for this peer and counted) or the peer is gone.
   */
  send(encoded: Uint8Array, priority: boolean): boolean {
    const feedback = (priority ? this.#high : this.#low).enqueue(encoded);
    if (feedback === 'ok' || feedback === 'backoff') return true;
    if (feedback === 'dropped') {
      (priority ? this.#metrics?.highBackoff : this.#metrics?.lowBackoff)?.inc();
      if (this.traffic !== undefined) this.traffic.dropped++;
    }
    return false;
  }

  /** True once the peer actor has closed its queues (the connection ended). */
  get isClosed(): boolean {
    return this.#high.isClosed && this.#low.isClosed;
  }
}
