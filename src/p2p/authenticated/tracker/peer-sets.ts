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
import { CHUNK, runSteps, type Steps } from './steps.js';

/** A new array of `keys` sorted by byte order, duplicates dropped. */
export function sortedUnique(keys: readonly PublicKey[]): PublicKey[] {
  const byHex = new Map<string, PublicKey>();
  for (const k of keys) if (!byHex.has(k.toHex())) byHex.set(k.toHex(), k);
  return [...byHex.keys()].sort().map((h) => byHex.get(h)!);
}

/**
 * {@link sortedUnique} in steps: runs of {@link CHUNK} keys sorted natively by hex, then merged
 * pairwise, a step per {@link CHUNK} keys merged, so that no step sorts more than a chunk.
 */
export function* sortedUniqueSteps(keys: readonly PublicKey[]): Steps<PublicKey[]> {
  if (keys.length <= CHUNK) return sortedUnique(keys);
  // Keys often come in order already (a directory's records are inserted as registered, in
  // byte order): one pass to check, and no sort then.
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) {
    sorted = keys[i - 1]!.toHex() < keys[i]!.toHex();
    if (i % CHUNK === 0) yield;
  }
  if (sorted) return keys.slice();
  let runs: PublicKey[][] = [];
  for (let i = 0; i < keys.length; i += CHUNK) {
    runs.push(sortedUnique(keys.slice(i, i + CHUNK)));
    yield;
  }
  while (runs.length > 1) {
    const next: PublicKey[][] = [];
    for (let i = 0; i < runs.length; i += 2) {
      const a = runs[i]!;
      const b = runs[i + 1];
      next.push(b === undefined ? a : yield* unionSteps(a, b));
    }
    runs = next;
  }
  return runs[0] ?? [];
}

/** The position of the key whose hex is `hex` in sorted set `keys`, or -1 (binary search). */
export function indexOfHex(keys: readonly PublicKey[], hex: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]!.toHex() < hex) lo = mid + 1;
    else hi = mid;
  }
  return lo < keys.length && keys[lo]!.toHex() === hex ? lo : -1;
}

/** Whether sorted set `keys` holds the key whose hex is `hex`. */
export function containsHex(keys: readonly PublicKey[], hex: string): boolean {
  return indexOfHex(keys, hex) >= 0;
}

/** The sorted union of two sorted sets, in steps. */
export function* unionSteps(a: readonly PublicKey[], b: readonly PublicKey[]): Steps<PublicKey[]> {
  const out: PublicKey[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x.toHex() < y.toHex()) {
      out.push(x);
      i++;
    } else if (y.toHex() < x.toHex()) {
      out.push(y);
      j++;
    } else {
      out.push(x);
      i++;
      j++;
    }
    if (out.length % CHUNK === 0) yield;
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** The sorted union of two sorted sets. */
export function union(a: readonly PublicKey[], b: readonly PublicKey[]): PublicKey[] {
  return runSteps(unionSteps(a, b));
}

/** The keys of sorted set `a` that are not in sorted set `b`, in order, in steps. */
export function* differenceSteps(
  a: readonly PublicKey[],
  b: readonly PublicKey[],
): Steps<PublicKey[]> {
  const out: PublicKey[] = [];
  if (b.length === 0) return a.slice();
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const k = a[i]!;
    const x = k.toHex();
    while (j < b.length && b[j]!.toHex() < x) j++;
    if (j >= b.length || b[j]!.toHex() !== x) out.push(k);
    if ((i + 1) % CHUNK === 0) yield;
  }
  return out;
}

/** The keys of sorted set `a` that are not in sorted set `b`, in order. */
export function difference(a: readonly PublicKey[], b: readonly PublicKey[]): PublicKey[] {
  return runSteps(differenceSteps(a, b));
}

/**
 * The keys of `items` (taken by `key`) as a frozen sorted set, in steps: one pass that also
 * checks the order, and a sort only if the items were not already sorted and unique.
 */
export function* sortedKeysSteps<T>(
  items: readonly T[],
  key: (item: T) => PublicKey,
): Steps<readonly PublicKey[]> {
  const out: PublicKey[] = new Array(items.length);
  let sorted = true;
  let prev = '';
  for (let i = 0; i < items.length; i++) {
    const k = key(items[i]!);
    out[i] = k;
    const h = k.toHex();
    if (i > 0 && h <= prev) sorted = false;
    prev = h;
    if ((i + 1) % CHUNK === 0) yield;
  }
  return Object.freeze(sorted ? out : yield* sortedUniqueSteps(out));
}

/**
 * {@link trackedPeers} in steps, over any items carrying a key (lookup's `[key, address]`
 * pairs).
 */
export function* trackedPeersSteps<T>(
  primary: readonly T[],
  secondary: readonly T[],
  key: (item: T) => PublicKey,
): Steps<TrackedPeers> {
  const p = yield* sortedKeysSteps(primary, key);
  const s = yield* sortedKeysSteps(secondary, key);
  const rest = s.length === 0 ? s : Object.freeze(yield* differenceSteps(s, p));
  return Object.freeze({ primary: p, secondary: rest });
}

const self = (k: PublicKey): PublicKey => k;

/**
 * A frozen {@link TrackedPeers} from `primary` and `secondary` (each sorted if it is not
 * already), with secondaries that are also primaries dropped.
 */
export function trackedPeers(
  primary: readonly PublicKey[],
  secondary: readonly PublicKey[] = [],
): TrackedPeers {
  return runSteps(trackedPeersSteps(primary, secondary, self));
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
  // The union of the retained sets, computed on first use after a change.
  #all: TrackedPeers | undefined;

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
    this.#all = undefined;
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
   * Linear merges of the sorted sets, cached until the next {@link push}.
   */
  all(): TrackedPeers {
    return runSteps(this.allSteps());
  }

  /** {@link all} in steps (a merge over every retained set). */
  *allSteps(): Steps<TrackedPeers> {
    if (this.#all !== undefined) return this.#all;
    let primary: readonly PublicKey[] = [];
    let secondary: readonly PublicKey[] = [];
    for (const s of this.#sets) {
      primary =
        primary.length === 0 ? s.peers.primary : yield* unionSteps(primary, s.peers.primary);
      secondary =
        secondary.length === 0
          ? s.peers.secondary
          : yield* unionSteps(secondary, s.peers.secondary);
    }
    const rest = yield* differenceSteps(secondary, primary);
    this.#all = Object.freeze({
      primary: Object.isFrozen(primary) ? primary : Object.freeze(primary.slice()),
      secondary: Object.freeze(rest),
    });
    return this.#all;
  }

  [Symbol.iterator](): Iterator<S> {
    return this.#sets[Symbol.iterator]();
  }
}
