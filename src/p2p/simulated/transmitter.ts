/**
 * When each message arrives (commonware `simulated/transmitter.rs`).
 *
 * Messages on one (origin, recipient) pair are transmitted one after another and arrive in the
 * order they were sent. Without a bandwidth cap on either end, a message "transmits" at once and
 * arrives after its sampled latency, but never before the previous message of its pair:
 * `arrival = max(now + latency, previous arrival)`. With caps, the message at the head of each
 * pair is a flow; all flows share the capped egress and ingress capacities max-min fairly
 * ({@link allocate}), re-shared whenever a flow starts or ends or a cap changes, and a message
 * arrives at the end of its transmission plus its latency (again never before its
 * predecessor). A message that the link loses still transmits through its origin's egress (it
 * was sent) but crosses no ingress and never arrives.
 *
 * Transmission state is exact ({@link Rational}): the transmitter keeps its own exact clock,
 * advanced to the exact instant of each event, and only the arrival time handed to the
 * {@link Timeline} is a double.
 *
 * @module
 */

import { Deque } from '../../actor/queue.js';
import { allocate, type FlowLike, type Resource } from './bandwidth.js';
import {
  add,
  cmp,
  div,
  fromClock,
  isZero,
  mul,
  type Rational,
  ratio,
  sub,
  toNumber,
  ZERO,
} from './rational.js';

/** One sent message, shared by all its recipients. */
export interface Envelope<P> {
  readonly origin: P;
  readonly channel: number;
  readonly message: Uint8Array;
}

/** One message to one recipient in capped transmission. */
export interface Transfer<P> {
  readonly envelope: Envelope<P>;
  readonly recipient: P;
  /** Sampled latency, ms. */
  readonly latency: number;
  /** Whether the link delivers it (sampled at the send). */
  readonly success: boolean;
}

/** The per-pair state the transmitter keeps (held by the origin, keyed by recipient). */
export interface Pair<P> {
  /** Arrival time (ms) of the pair's latest scheduled message. */
  lastArrival: number;
  /** Messages waiting behind the pair's flow (capped transmission only). */
  queue: Deque<Transfer<P>> | undefined;
  /** The pair's message being transmitted under a cap. */
  active: Flow<P> | undefined;
}

/** What the transmitter asks of a peer: its caps, as resources (undefined = unlimited). */
export interface Caps {
  readonly egress: Resource | undefined;
  readonly ingress: Resource | undefined;
}

/** A message in capped transmission. @internal */
export interface Flow<P> extends FlowLike {
  readonly pair: Pair<P>;
  readonly transfer: Transfer<P>;
  resources: Resource[];
  /** Bytes left, exactly. */
  remaining: Rational;
  rate: Rational;
}

/**
 * Deliveries ordered by arrival time: a bucket per distinct time (most runs have a few hundred
 * distinct whole-ms times), and a min-heap of the times. Within a bucket, insertion order. An
 * item is a pair `(a, b)` stored flat (a million deliveries allocate no million objects).
 */
export class Timeline<A, B> {
  readonly #buckets = new Map<number, (A | B)[]>();
  readonly #times: number[] = [];
  #size = 0;

  /** Items scheduled and not yet taken. */
  get size(): number {
    return this.#size;
  }

  /** Schedules the item `(a, b)` at `t`. */
  push(t: number, a: A, b: B): void {
    this.#size++;
    const bucket = this.#buckets.get(t);
    if (bucket !== undefined) {
      bucket.push(a, b);
      return;
    }
    this.#buckets.set(t, [a, b]);
    const h = this.#times;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((h[p] as number) <= t) break;
      h[i] = h[p] as number;
      i = p;
    }
    h[i] = t;
  }

  /** The earliest scheduled time, if any. */
  next(): number | undefined {
    return this.#times[0];
  }

  /**
   * Takes the items of the earliest bucket if its time is `<= now`, flat: `a0, b0, a1, b1, ...`.
   */
  takeDue(now: number): (A | B)[] | undefined {
    const h = this.#times;
    const t = h[0];
    if (t === undefined || t > now) return undefined;
    const last = h.pop() as number;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (h[r] as number) < (h[l] as number) ? r : l;
        if ((h[c] as number) >= last) break;
        h[i] = h[c] as number;
        i = c;
      }
      h[i] = last;
    }
    const bucket = this.#buckets.get(t) as (A | B)[];
    this.#buckets.delete(t);
    this.#size -= bucket.length / 2;
    return bucket;
  }

  /** Drops everything. */
  clear(): void {
    this.#buckets.clear();
    this.#times.length = 0;
    this.#size = 0;
  }
}

/** Where the transmitter sends finished transmissions. */
export interface Arrivals<P> {
  /** `envelope` is scheduled to arrive at `recipient` at `t` (ms). */
  arrive(t: number, envelope: Envelope<P>, recipient: P): void;
  /** A message was lost by its link (after using its origin's egress). */
  lost(): void;
}

/** Results keyed by a pair of rationals (by identity). */
class Memo {
  readonly #m = new Map<Rational, Map<Rational, Rational>>();
  get(a: Rational, b: Rational): Rational | undefined {
    return this.#m.get(a)?.get(b);
  }
  set(a: Rational, b: Rational, v: Rational): void {
    let inner = this.#m.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.#m.set(a, inner);
    }
    inner.set(b, v);
  }
}

/** Schedules transmissions; see the module comment. */
export class Transmitter<P extends Caps> {
  readonly #arrivals: Arrivals<P>;
  readonly #flows = new Set<Flow<P>>();
  /** The exact time the flows' `remaining` refer to. */
  #now: Rational = ZERO;
  #started = false;
  #dirty = false;
  /** The earliest exact completion time of a flow, after {@link settle}. */
  #next: Rational | undefined;
  readonly #sizes = new Map<number, Rational>();

  constructor(arrivals: Arrivals<P>) {
    this.#arrivals = arrivals;
  }

  /** Flows in capped transmission. */
  get flows(): number {
    return this.#flows.size;
  }

  /** The exact time for clock reading `now`: the last event's if it is that reading. */
  #exact(now: number): Rational {
    if (this.#started && toNumber(this.#now) === now) return this.#now;
    const t = fromClock(now);
    return this.#started && cmp(t, this.#now) < 0 ? this.#now : t;
  }

  /**
   * Hands `envelope` for `recipient` (over `pair`) to the transmitter at clock time `now`, with
   * its sampled `latency` (ms) and fate.
   */
  send(
    now: number,
    pair: Pair<P>,
    envelope: Envelope<P>,
    recipient: P,
    latency: number,
    success: boolean,
  ): void {
    const capped =
      envelope.origin.egress !== undefined || (success && recipient.ingress !== undefined);
    if (!capped && pair.active === undefined) {
      this.#finish(now, pair, envelope, recipient, latency, success);
      return;
    }
    const transfer: Transfer<P> = { envelope, recipient, latency, success };
    this.#advance(this.#exact(now));
    if (pair.active === undefined) this.#start(pair, transfer);
    else {
      pair.queue ??= new Deque<Transfer<P>>(4);
      pair.queue.push(transfer);
    }
  }

  /** Caps changed: re-share at clock time `now`. */
  recap(now: number): void {
    if (this.#flows.size === 0) return;
    this.#advance(this.#exact(now));
    this.#dirty = true;
  }

  /**
   * Completes every flow due by clock time `now`, re-shares if anything changed, and returns the
   * clock time of the next completion (undefined if none can complete: no flows, or all at
   * rate 0).
   */
  settle(now: number): number | undefined {
    while (this.#next !== undefined && toNumber(this.#next) <= now) {
      this.#advance(this.#next);
      this.#reshare();
    }
    if (this.#dirty) this.#reshare();
    return this.#next === undefined ? undefined : toNumber(this.#next);
  }

  /** Forgets every flow (the network stopped). */
  clear(): void {
    this.#flows.clear();
    this.#next = undefined;
  }

  /** One shared `Rational` per message length, so flows of equal size share their state. */
  #size(n: number): Rational {
    let r = this.#sizes.get(n);
    if (r === undefined) {
      if (this.#sizes.size >= 1024) this.#sizes.clear();
      r = ratio(BigInt(n));
      this.#sizes.set(n, r);
    }
    return r;
  }

  #start(pair: Pair<P>, transfer: Transfer<P>): void {
    const flow: Flow<P> = {
      pair,
      transfer,
      resources: [],
      remaining: this.#size(transfer.envelope.message.length),
      rate: ZERO,
    };
    pair.active = flow;
    this.#flows.add(flow);
    this.#dirty = true;
  }

  /** Moves the exact clock to `t`, progressing every flow at its rate. */
  #advance(t: Rational): void {
    if (!this.#started) {
      this.#started = true;
      this.#now = t;
      return;
    }
    if (cmp(t, this.#now) <= 0) return;
    const dt = sub(t, this.#now);
    this.#now = t;
    // Flows with the same remaining bytes and rate (the same objects: equal sizes, one share)
    // progress identically: compute each such group once.
    const memo = new Memo();
    for (const f of this.#flows) {
      if (isZero(f.rate)) continue;
      let left = memo.get(f.remaining, f.rate);
      if (left === undefined) {
        left = sub(f.remaining, mul(f.rate, dt));
        if (left.n < 0n) left = ZERO;
        memo.set(f.remaining, f.rate, left);
      }
      f.remaining = left;
    }
  }

  /**
   * Completes the flows with nothing left (and flows that no longer cross a cap), starts the
   * next message of their pairs, and re-shares until stable; then finds the next completion.
   */
  #reshare(): void {
    const nowMs = toNumber(this.#now);
    for (;;) {
      let finished = false;
      for (const f of [...this.#flows]) {
        const t = f.transfer;
        const egress = t.envelope.origin.egress;
        const ingress = t.success ? t.recipient.ingress : undefined;
        f.resources = egress === undefined ? [] : [egress];
        if (ingress !== undefined) f.resources.push(ingress);
        if (isZero(f.remaining) || f.resources.length === 0) {
          finished = true;
          this.#flows.delete(f);
          const pair = f.pair;
          pair.active = undefined;
          this.#finish(nowMs, pair, t.envelope, t.recipient, t.latency, t.success);
          const next = pair.queue?.shift();
          if (next !== undefined) this.#start(pair, next);
        }
      }
      if (!finished) break;
    }
    this.#dirty = false;
    const flows = [...this.#flows];
    allocate(flows);
    let next: Rational | undefined;
    const memo = new Memo();
    for (const f of flows) {
      if (isZero(f.rate) || memo.get(f.remaining, f.rate) !== undefined) continue;
      const end = add(this.#now, div(f.remaining, f.rate));
      memo.set(f.remaining, f.rate, end);
      if (next === undefined || cmp(end, next) < 0) next = end;
    }
    this.#next = next;
  }

  /** A transmission ended at clock time `now`. */
  #finish(
    now: number,
    pair: Pair<P>,
    envelope: Envelope<P>,
    recipient: P,
    latency: number,
    success: boolean,
  ): void {
    if (!success) {
      this.#arrivals.lost();
      return;
    }
    let t = now + latency;
    if (t < pair.lastArrival) t = pair.lastArrival;
    pair.lastArrival = t;
    this.#arrivals.arrive(t, envelope, recipient);
  }
}
