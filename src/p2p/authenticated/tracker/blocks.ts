/**
 * The block list shared by both trackers (commonware `tracker/directory.rs`: `blocked`).
 *
 * A block is keyed by public key, not by record: it applies to keys the directory has never
 * seen, and it outlives the deletion of a record (a peer that leaves every set and comes back
 * is still blocked). Entries expire `blockDurationMs` after they were made; an expired entry no
 * longer blocks even before {@link BlockList.unblockExpired} sweeps it, so a late sweep never
 * extends a block.
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Gauge } from '../../../runtime/context.js';

interface BlockEntry {
  readonly key: PublicKey;
  readonly hex: string;
  readonly until: number;
}

/** Orders block entries by expiry, then by key, so iteration is deterministic. */
function blockOrder(a: BlockEntry, b: BlockEntry): number {
  if (a.until !== b.until) return a.until - b.until;
  return a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0;
}

/** Blocked keys ordered by expiry. Pure: time is a parameter. */
export class BlockList {
  readonly #durationMs: number;
  /** Gauge `{peer}`: the block's expiry, ms since the epoch; removed when it is swept. */
  readonly #gauge: Gauge;
  // A map for lookup plus an array sorted by (until, hex) for expiry order.
  readonly #byHex = new Map<string, BlockEntry>();
  readonly #queue: BlockEntry[] = [];

  /**
   * @param durationMs - how long a block lasts (ms).
   * @param gauge - the `blocked{peer}` gauge.
   */
  constructor(durationMs: number, gauge: Gauge) {
    this.#durationMs = durationMs;
    this.#gauge = gauge;
  }

  /**
   * Blocks `key` until `now + durationMs`. No-op (returns false) while an unexpired block
   * exists: blocking again does not extend a block. An expired entry not yet swept is replaced.
   */
  block(key: PublicKey, now: number): boolean {
    if (this.isBlocked(key, now)) return false;
    const hex = key.toHex();
    const old = this.#byHex.get(hex);
    if (old !== undefined) this.#dequeue(old);
    const entry: BlockEntry = { key, hex, until: now + this.#durationMs };
    this.#byHex.set(hex, entry);
    this.#queue.splice(this.#search(entry), 0, entry);
    this.#gauge.set({ peer: hex }, entry.until);
    return true;
  }

  /** Sets `key`'s gauge again if it has an entry (after the peer's series were forgotten). */
  restoreGauge(key: PublicKey): void {
    if (this.#byHex.size === 0) return;
    const entry = this.#byHex.get(key.toHex());
    if (entry !== undefined) this.#gauge.set({ peer: entry.hex }, entry.until);
  }

  /** Whether `key` is blocked at `now` (an entry exists and has not expired). */
  isBlocked(key: PublicKey, now: number): boolean {
    return this.blockedUntil(key, now) !== undefined;
  }

  /** When `key`'s block expires (ms), or `undefined` if it is not blocked at `now`. */
  blockedUntil(key: PublicKey, now: number): number | undefined {
    const entry = this.#byHex.get(key.toHex());
    return entry !== undefined && entry.until > now ? entry.until : undefined;
  }

  /** Removes every block that has expired by `now`; returns the unblocked keys in expiry order. */
  unblockExpired(now: number): PublicKey[] {
    let n = 0;
    while (n < this.#queue.length && this.#queue[n]!.until <= now) n++;
    const expired = this.#queue.splice(0, n);
    for (const entry of expired) {
      this.#byHex.delete(entry.hex);
      this.#gauge.remove({ peer: entry.hex });
    }
    return expired.map((e) => e.key);
  }

  /** When the earliest block expires (ms), or `undefined` if nothing is blocked. */
  nextUnblockAt(): number | undefined {
    return this.#queue[0]?.until;
  }

  /** The unexpired blocks at `now`, in expiry order. */
  *entries(now: number): Generator<readonly [PublicKey, number]> {
    for (const e of this.#queue) if (e.until > now) yield [e.key, e.until];
  }

  /** Number of entries (including expired ones not yet swept). */
  get size(): number {
    return this.#queue.length;
  }

  #search(entry: BlockEntry): number {
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (blockOrder(this.#queue[mid]!, entry) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #dequeue(entry: BlockEntry): void {
    const i = this.#search(entry);
    if (this.#queue[i] === entry) this.#queue.splice(i, 1);
  }
}
