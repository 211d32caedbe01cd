/**
 * Links between simulated peers (commonware `simulated/ingress.rs` `Link`): one direction each,
 * with a latency drawn per message from Normal(latency, jitter) and a delivery probability.
 *
 * Every draw comes from the runtime's RNG, in a fixed order (per send, per recipient in the
 * order given), so a seeded run samples the same latencies and losses every time. A link with
 * no jitter draws nothing for its latency, and a success rate of 0 or 1 draws nothing for the
 * loss: such links leave the RNG stream untouched.
 *
 * @module
 */

import type { Rng } from '../../runtime/context.js';
import { P2PError } from '../errors.js';

/** How a link behaves: what `oracle.addLink(from, to, options)` takes. */
export interface LinkOptions {
  /** Mean one-way latency, in ms (>= 0). */
  readonly latency: number;
  /** Standard deviation of the latency, in ms (>= 0; 0 = always `latency`). */
  readonly jitter: number;
  /** Probability that a message is delivered, in [0, 1]. */
  readonly successRate: number;
}

/** A checked, frozen {@link LinkOptions}. @internal */
export type Link = Readonly<LinkOptions>;

/**
 * Checks `options` and returns a frozen copy.
 *
 * @throws P2PError `InvalidConfig` if a field is not a finite number in range.
 */
export function checkLink(options: LinkOptions): Link {
  const { latency, jitter, successRate } = options;
  for (const [name, v, max] of [
    ['latency', latency, Number.MAX_SAFE_INTEGER],
    ['jitter', jitter, Number.MAX_SAFE_INTEGER],
    ['successRate', successRate, 1],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) {
      throw new P2PError('InvalidConfig', `link ${name} must be a number in [0, ${max}], got ${v}`);
    }
  }
  return Object.freeze({ latency, jitter, successRate });
}

/**
 * A latency for one message, in whole ms: Normal(latency, jitter) by the Box-Muller transform
 * (two uniform draws), truncated to whole ms, negative samples taken as 0.
 */
export function sampleLatency(link: Link, rng: Rng): number {
  if (link.jitter === 0) return Math.trunc(link.latency);
  const u1 = 1 - rng.float(); // (0, 1]: the logarithm stays finite
  const u2 = rng.float();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  const ms = Math.trunc(link.latency + link.jitter * z);
  return Math.max(ms, 0);
}

/** Whether one message is delivered: one uniform draw unless the rate is 0 or 1. */
export function sampleSuccess(link: Link, rng: Rng): boolean {
  const p = link.successRate;
  if (p >= 1) return true;
  if (p <= 0) return false;
  return rng.float() < p;
}

/** @throws P2PError `LinkingSelf` if `from` and `to` are the same key. @internal */
export function checkNotSelf(fromHex: string, toHex: string): void {
  if (fromHex === toHex) throw new P2PError('LinkingSelf', `cannot link ${fromHex} to itself`);
}
