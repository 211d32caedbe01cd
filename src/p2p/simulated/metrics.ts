/**
 * The simulated network's metrics (commonware `simulated/metrics.rs`): messages sent per origin
 * and channel, received per recipient and channel, and drops by reason. There is deliberately no
 * series per (origin, recipient) pair: at 1,000 peers that is a million series, which costs
 * seconds and hundreds of MB on its own.
 *
 * @module
 */

import type { BoundCounter, Counter, Metrics } from '../../runtime/context.js';

/** Why the network dropped a message it had accepted. */
export type DropReason = 'lost' | 'unreachable' | 'overloaded' | 'closed';

/** The counters, registered once per network. @internal */
export class SimMetrics {
  readonly #sent: Counter;
  readonly #received: Counter;
  readonly #dropped: Counter;

  constructor(metrics: Metrics) {
    this.#sent = metrics.counter(
      'messages_sent',
      'Messages sent (one per recipient attempted), by origin and channel',
      ['origin', 'channel'],
    );
    this.#received = metrics.counter(
      'messages_received',
      'Messages delivered to a receiver, by recipient and channel',
      ['recipient', 'channel'],
    );
    this.#dropped = metrics.counter(
      'messages_dropped',
      'Messages the network dropped after accepting them, by reason',
      ['reason'],
    );
  }

  /** A counter of messages `origin` sends on `channel`. */
  sent(origin: string, channel: number): BoundCounter {
    return bind(this.#sent, { origin, channel });
  }

  /** A counter of messages `recipient` receives on `channel`. */
  received(recipient: string, channel: number): BoundCounter {
    return bind(this.#received, { recipient, channel });
  }

  /** Counts `n` messages dropped for `reason`. */
  dropped(reason: DropReason, n = 1): void {
    this.#dropped.inc({ reason }, n);
  }
}

function bind(counter: Counter, labels: Readonly<Record<string, string | number>>): BoundCounter {
  if (counter.bind !== undefined) return counter.bind(labels);
  return { inc: (value?: number) => counter.inc(labels, value) };
}
