/**
 * Sorted key lists and the window of retained peer sets (commonware `tracker/directory.rs`:
 * `sets`), shared by both trackers.
 *
 * Keys are kept in byte order, the order of {@link TrackedPeers}. Because every key renders as
 * lowercase hex of the same length, comparing the hex strings gives the same order as comparing
 * the bytes, and hex is memoized on the key, so these helpers compare strings and never call
 * into the key's byte comparison. Registrations arrive already sorted (the oracle normalises
 * them), so the window only checks the order in one linear pass and merges: a large set is never
 * sorted twice.
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import type { TrackedPeers } from '../../types.js';

/** Whether `keys` is strictly increasing (sorted and free of duplicates). */
export function isSortedSet(keys: readonly PublicKey[]): boolean {
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]!.toHex() >= keys[i]!.toHex()) return false;
  }
  return true;
}

/** A new array of `keys` sorted by byte order, duplicates dropped. */
export function sortedUnique(keys: readonly PublicKey[]): PublicKey[] {
  const byHex = new Map<string, PublicKey>();
  for (const k of keys) if (!byHex.has(k.toHex())) byHex.set(k.toHex(), k);
  return [...byHex.keys()].sort().map((h) => byHex.get(h)!);
}

/** `keys` sorted and deduplicated; returned as is when already so (no copy, no sort). */
export function sortedSet(keys: readonly PublicKey[]): readonly PublicKey[] {
  return isSortedSet(keys) ? keys : sortedUnique(keys);
}

/** The sorted union of two sorted sets. */
export function union(a: readonly PublicKey[], b: readonly PublicKey[]): PublicKey[] {
  const out: PublicKey[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!.toHex();
    const y = b[j]!.toHex();
    if (x < y) out.push(a[i++]!);
    else if (y < x) out.push(b[j++]!);
    else {
      out.push(a[i++]!);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** The keys of sorted set `a` that are not in sorted set `b`, in order. */
export function difference(a: readonly PublicKey[], b: readonly PublicKey[]): PublicKey[] {
  const out: PublicKey[] = [];
  let j = 0;
  for (const k of a) {
    const x = k.toHex();
    while (j < b.length && b[j]!.toHex() < x) j++;
    if (j >= b.length || b[j]!.toHex() !== x) out.push(k);
  }
  return out;
}

/**
 * A frozen {@link TrackedPeers} from `primary` and `secondary` (each sorted if it is not
 * already), with secondaries that are also primaries dropped.
 */
export function trackedPeers(
  primary: readonly PublicKey[],
  secondary: readonly PublicKey[] = [],
): TrackedPeers {
  const p = sortedSet(primary);
  const s = difference(sortedSet(secondary), p);
  return Object.freeze({
    primary: Object.isFrozen(p) ? p : Object.freeze(p.slice()),
    secondary: Object.freeze(s),
  });
}

/** One retained peer set; a flavour may attach more (discovery's knowledge bits). */
export interface StoredSet {
  readonly index: number;
  readonly peers: TrackedPeers;
}

/**
 * The retained peer sets, ascending by index. Indices strictly increase, so appending keeps the
 * order; beyond `capacity` the lowest index is evicted.
 */
export class PeerSetWindow<S extends StoredSet> implements Iterable<S> {
  readonly #capacity: number;
  readonly #sets: S[] = [];

  /** @param capacity - how many sets are retained (`trackedPeerSets`); at least 1. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Whether a set at `index` would be accepted: greater than every retained index. */
  accepts(index: number): boolean {
    const last = this.#sets.at(-1);
    return last === undefined || index > last.index;
  }

  /** Appends `set` (its index must be {@link accepts}ed) and returns the evicted sets, oldest first. */
  push(set: S): S[] {
    this.#sets.push(set);
    const excess = this.#sets.length - this.#capacity;
    return excess > 0 ? this.#sets.splice(0, excess) : [];
  }

  /** The set at `index`, if retained. */
  get(index: number): S | undefined {
    return this.#sets.find((s) => s.index === index);
  }

  /** The set with the highest index, if any. */
  latest(): S | undefined {
    return this.#sets.at(-1);
  }

  /** Number of retained sets. */
  get size(): number {
    return this.#sets.length;
  }

  /** The set at position `i` (0 = lowest index). */
  at(i: number): S | undefined {
    return this.#sets[i];
  }

  /**
   * Every tracked key across the retained sets: primary if primary in any set, else secondary.
   * Linear merges of the sorted sets.
   */
  all(): TrackedPeers {
    let primary: PublicKey[] = [];
    let secondary: PublicKey[] = [];
    for (const s of this.#sets) {
      primary = union(primary, s.peers.primary);
      secondary = union(secondary, s.peers.secondary);
    }
    return Object.freeze({
      primary: Object.freeze(primary),
      secondary: Object.freeze(difference(secondary, primary)),
    });
  }

  [Symbol.iterator](): Iterator<S> {
    return this.#sets[Symbol.iterator]();
  }
}
