/**
 * Max-min fair sharing of bandwidth by progressive filling (commonware
 * `simulated/bandwidth.rs`), in exact rational arithmetic.
 *
 * Every flow crosses at most two capped resources: its origin's egress and its recipient's
 * ingress (a dropped message crosses only the egress: it is sent but never received). All flows
 * start at rate 0 and rise together; when a resource is full, its flows stop rising (they are
 * "frozen" at its fair share) and the others keep rising, until every flow is frozen. The
 * result is the unique max-min fair allocation: no flow can go faster without slowing one that
 * is no faster than it.
 *
 * @module
 */

import { add, cmp, type Rational, ratio, sub, ZERO } from './rational.js';

/** A capped resource (one peer's egress or ingress). */
export interface Resource {
  /** Capacity in bytes per ms. */
  readonly capacity: Rational;
}

/** What {@link allocate} needs of a flow; it writes `rate` (bytes per ms). */
export interface FlowLike {
  /** The capped resources this flow crosses (zero, one or two, distinct). */
  readonly resources: readonly Resource[];
  rate: Rational;
}

interface Fill {
  readonly resource: Resource;
  /** Capacity not yet given to frozen flows. */
  left: Rational;
  /** Flows crossing it that are not frozen yet. */
  readonly open: FlowLike[];
  openCount: number;
}

/**
 * Sets `rate` of every flow to its max-min fair share. A flow crossing no capped resource is
 * left untouched (the caller treats it as instantaneous). Deterministic: ties between resources
 * are broken by their order of first appearance in `flows`.
 */
export function allocate(flows: readonly FlowLike[]): void {
  const fills = new Map<Resource, Fill>();
  const order: Fill[] = [];
  const frozen = new Set<FlowLike>();
  for (const f of flows) {
    for (const r of f.resources) {
      let fill = fills.get(r);
      if (fill === undefined) {
        fill = { resource: r, left: r.capacity, open: [], openCount: 0 };
        fills.set(r, fill);
        order.push(fill);
      }
      fill.open.push(f);
      fill.openCount++;
    }
  }
  for (;;) {
    // The resource whose equal share of what is left is smallest fills first. Shares are
    // compared by cross-multiplication (left.n / (left.d * open)): only the winner's is reduced.
    let best: Fill | undefined;
    let bestN = 0n;
    let bestD = 1n;
    for (const fill of order) {
      if (fill.openCount === 0) continue;
      const n = fill.left.n;
      const d = fill.left.d * BigInt(fill.openCount);
      if (best === undefined || n * bestD < bestN * d) {
        best = fill;
        bestN = n;
        bestD = d;
      }
    }
    if (best === undefined) return;
    const bestShare = ratio(bestN, bestD);
    for (const f of best.open) {
      if (frozen.has(f)) continue;
      frozen.add(f);
      f.rate = bestShare;
      for (const r of f.resources) {
        const fill = fills.get(r) as Fill;
        fill.openCount--;
        fill.left = sub(fill.left, bestShare);
        if (cmp(fill.left, ZERO) < 0) fill.left = ZERO;
      }
    }
  }
}

/** The sum of the rates of `flows` (for checks and tests). */
export function totalRate(flows: readonly FlowLike[]): Rational {
  let t: Rational = ZERO;
  for (const f of flows) t = add(t, f.rate);
  return t;
}
