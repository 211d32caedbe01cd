/**
 * The metrics both trackers' directories keep (commonware `tracker/metrics.rs`).
 *
 * @module
 */

import type { Counter, Gauge, Metrics } from '../../../runtime/context.js';

/**
 * The directory's metrics. Label `peer` is the peer's key in hex; its cardinality is bounded by
 * the tracked sets (plus blocked keys).
 */
export interface DirectoryMetrics {
  /** Gauge: peers with a record, excluding ourselves. */
  readonly tracked: Gauge;
  /** Gauge `{peer}`: block expiry, ms since the epoch. */
  readonly blocked: Gauge;
  /** Gauge: reservations outstanding. */
  readonly reserved: Gauge;
  /** Gauge `{peer}`: when the peer became active, ms since the epoch. */
  readonly connected: Gauge;
  /** Counter `{peer}`: reservations refused by the connection cooldown. */
  readonly limits: Counter;
  /**
   * Counter `{peer}`: address changes (lookup: applied by `track` or `overwrite`; discovery: a
   * newer `Info` accepted).
   */
  readonly updates: Counter;
  /** Counter: tracker messages kept in the mailbox's overflow because it was full. */
  readonly mailboxBackoff: Counter;
  /**
   * Removes every series labelled with `peer` (hex) under the network: the peer left every
   * tracked set and holds nothing, so churn does not grow the registry.
   */
  forget(peer: string): void;
}

/** Constructors for {@link DirectoryMetrics}. */
export const DirectoryMetrics = {
  /**
   * Registers the directory's metrics in `metrics` (typically `ctx.child('tracker').metrics`);
   * `scope` is where a forgotten peer's series are removed (the whole network's metrics).
   */
  register(metrics: Metrics, scope: Metrics = metrics): DirectoryMetrics {
    return {
      forget: (peer) => scope.forget({ peer }),
      tracked: metrics.gauge('tracked', 'Number of tracked peers (excluding self)'),
      blocked: metrics.gauge('blocked', 'Blocked peers, valued at block expiry (epoch ms)', [
        'peer',
      ]),
      reserved: metrics.gauge('reserved', 'Number of outstanding reservations'),
      connected: metrics.gauge('connected', 'Connected peers, valued at connect time (epoch ms)', [
        'peer',
      ]),
      limits: metrics.counter('limits', 'Reservations refused by the connection cooldown', [
        'peer',
      ]),
      updates: metrics.counter('updates', 'Peer address updates', ['peer']),
      mailboxBackoff: metrics.counter(
        'mailbox_backoff',
        'Tracker messages held in overflow because the mailbox was full',
      ),
    };
  },
  /** Metrics that record nothing. */
  noop(): DirectoryMetrics {
    const gauge: Gauge = {
      set() {},
      inc() {},
      dec() {},
      get: () => 0,
      remove() {},
    };
    const counter: Counter = { inc() {}, get: () => 0 };
    return {
      forget() {},
      tracked: gauge,
      blocked: gauge,
      reserved: gauge,
      connected: gauge,
      limits: counter,
      updates: counter,
      mailboxBackoff: counter,
    };
  },
} as const;
