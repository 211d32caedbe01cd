/**
 * Process metrics for the admin endpoint's `/metrics`: prom-client's default Node.js metrics
 * (CPU, memory, heap, event-loop lag, GC, handles), in one registry per process.
 *
 * prom-client also exposes `nodejs_active_handles_total`, `nodejs_active_requests_total` and
 * `nodejs_active_resources_total`: gauges whose names end in `_total`, which Prometheus reserves
 * for counters (`promtool check metrics` rejects them). They are dropped; the same values remain
 * as the sums of `nodejs_active_handles`, `nodejs_active_requests` and `nodejs_active_resources`
 * by type.
 *
 * The registry is made on first use and shared by every endpoint of the process (process metrics
 * describe the process, and prom-client's event-loop monitor is a process-wide timer that cannot
 * be disabled again).
 *
 * @module
 */

import * as prom from 'prom-client';

/** Default metrics that are gauges named like counters (see the module documentation). */
const MISNAMED = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

let registry: prom.Registry | undefined;

/** The process registry, made on first use. */
function processRegistry(): prom.Registry {
  if (registry === undefined) {
    registry = new prom.Registry();
    prom.collectDefaultMetrics({ register: registry });
    for (const name of MISNAMED) registry.removeSingleMetric(name);
  }
  return registry;
}

/** The Prometheus text exposition of the process metrics. */
export function processMetrics(): Promise<string> {
  return processRegistry().metrics();
}
