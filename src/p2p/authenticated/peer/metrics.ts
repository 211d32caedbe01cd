import type { BoundCounter, Counter, Labels, Metrics } from '../../../runtime/context.js';
import { TrafficTable } from '../traffic.js';

export type { BoundCounter };

/**
 * The per-message counters of the lookup peer actors (upstream `lookup/metrics.rs`), registered
 * once by the spawner and shared by every peer. Labels are `{ peer, message }` where `peer` is the
 * peer's key in hex and `message` is `data_<channel>` (registered channels only), `ping`, or
 * `invalid`: never a value the remote chooses, so a peer cannot inflate metric cardinality.
 */
export class PeerMetrics {
  /** `messages_sent{peer, message}`: payloads written to peers. */
  readonly sent: Counter;
  /** `messages_received{peer, message}`: payloads read from peers (`invalid` for rejects). */
  readonly received: Counter;
  /** `messages_rate_limited{peer, message}`: inbound payloads that had to wait for quota. */
  readonly rateLimited: Counter;
  /** Per-peer and per-channel totals (messages, bytes, rate-limited, dropped) for status. */
  readonly traffic: TrafficTable;

  private constructor(
    sent: Counter,
    received: Counter,
    rateLimited: Counter,
    traffic: TrafficTable,
  ) {
    this.sent = sent;
    this.received = received;
    this.rateLimited = rateLimited;
    this.traffic = traffic;
  }

  /**
   * Registers (or looks up) the three counter families under `metrics`; the peers also count
   * into `traffic` (a new table if omitted).
   */
  static create(metrics: Metrics, traffic: TrafficTable = new TrafficTable()): PeerMetrics {
    const labels = ['peer', 'message'] as const;
    return new PeerMetrics(
      metrics.counter('messages_sent', 'Messages sent to peers', labels),
      metrics.counter('messages_received', 'Messages received from peers', labels),
      metrics.counter(
        'messages_rate_limited',
        'Messages from peers that were rate limited',
        labels,
      ),
      traffic,
    );
  }
}

/** The `message` label of data on `channel`. */
export function dataLabel(channel: number): string {
  return `data_${channel}`;
}

/** Label set for one peer and one message kind. */
export function peerLabels(peer: string, message: string): Labels {
  return Object.freeze({ peer, message });
}

/**
 * `counter` fixed to `labels`: the counter's own cheap handle when it has one (the runtime's
 * counters do; label hashing per message is measurable), else a closure over `inc(labels, v)`.
 */
export function bindCounter(counter: Counter, labels: Labels): BoundCounter {
  if (counter.bind !== undefined) return counter.bind(labels);
  return { inc: (value = 1) => counter.inc(labels, value) };
}
