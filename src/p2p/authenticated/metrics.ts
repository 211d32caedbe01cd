/**
 * Metrics of the lookup network's dialer and listener (commonware `lookup/metrics.rs` and the
 * counters registered by `dialer.rs` / `listener.rs`). The peer actors' message counters live in
 * `peer/metrics.ts`; the tracker's in `tracker/directory.ts`.
 *
 * Names are registered under the actor's context, so with a network spawned as `network` they
 * read `network_dialer_attempts{peer}` and `network_listener_handshakes_blocked`.
 *
 * @module
 */

import type { Counter, Metrics } from '../../runtime/context.js';

/** The dialer's counters. */
export interface DialerMetrics {
  /** `attempts{peer}`: dials started per peer (label: the peer's key in hex; tracked peers only). */
  readonly attempts: Counter;
}

/** Constructors for {@link DialerMetrics}. */
export const DialerMetrics = {
  /** Registers (or looks up) the dialer's counters under `metrics`. */
  register(metrics: Metrics): DialerMetrics {
    return {
      attempts: metrics.counter('attempts', 'The number of dial attempts made to each peer', [
        'peer',
      ]),
    };
  },
} as const;

/**
 * The listener's counters. None has a label: the remote chooses its address, so a per-IP label
 * would let it grow metric cardinality.
 */
export interface ListenerMetrics {
  /** `handshakes_blocked`: connections from a non-global IP (when private IPs are not allowed) or from an unregistered IP. */
  readonly handshakesBlocked: Counter;
  /** `handshake_concurrent_rate_limited`: connections refused because `maxConcurrentHandshakes` were in progress. */
  readonly concurrentRateLimited: Counter;
  /** `handshake_ip_rate_limited`: connections refused by the per-IP handshake rate. */
  readonly ipRateLimited: Counter;
  /** `handshake_subnet_rate_limited`: connections refused by the per-subnet handshake rate. */
  readonly subnetRateLimited: Counter;
  /**
   * `handshakes_failed`: admitted connections closed without a session: a failed, refused
   * (bouncer) or timed-out handshake, or no listener reservation. Not in upstream; it makes
   * garbage, oversized and silent connections visible.
   */
  readonly handshakesFailed: Counter;
}

/** Constructors for {@link ListenerMetrics}. */
export const ListenerMetrics = {
  /** Registers (or looks up) the listener's counters under `metrics`. */
  register(metrics: Metrics): ListenerMetrics {
    return {
      handshakesBlocked: metrics.counter(
        'handshakes_blocked',
        'Inbound connections closed because their source IP is not allowed',
      ),
      concurrentRateLimited: metrics.counter(
        'handshake_concurrent_rate_limited',
        'Inbound connections closed because too many handshakes were in progress',
      ),
      ipRateLimited: metrics.counter(
        'handshake_ip_rate_limited',
        'Inbound connections closed by the per-IP handshake rate limit',
      ),
      subnetRateLimited: metrics.counter(
        'handshake_subnet_rate_limited',
        'Inbound connections closed by the per-subnet handshake rate limit',
      ),
      handshakesFailed: metrics.counter(
        'handshakes_failed',
        'Admitted inbound connections closed without a session (handshake failed, refused or timed out)',
      ),
    };
  },
} as const;
