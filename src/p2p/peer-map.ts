/**
 * A map keyed by public key.
 *
 * JavaScript `Map` compares object keys by identity, so two `PublicKey` objects holding the same
 * bytes would be two entries. `PeerMap` keys entries by the key's lowercase hex form instead and
 * keeps the key object alongside the value, so iteration hands back real keys (the TS stand-in for
 * Rust's `HashMap<PublicKey, V>`).
 *
 * @module
 */

import type { PublicKey } from '../crypto/ed25519.js';

/** What a {@link PeerMap} needs from a key: a canonical hex rendering of its bytes. */
export interface HexKey {
  /** Lowercase hex of the key's canonical bytes; equal keys give equal strings. */
  toHex(): string;
}

/**
 * A `Map` from public key to `V`, keyed by the key's hex form. Insertion-ordered. `K` defaults
 * to the ed25519 {@link PublicKey}; any key type with a canonical `toHex()` works.
 *
 * Two `Map`s with the same keys in the same order hold the values and the key objects, so an
 * entry allocates nothing of its own (no `{ key, value }` wrapper: a directory of 65,536 peers
 * would keep 65,536 of them alive, for the young generation to copy). Every change updates
 * both, so their iteration orders stay aligned.
 */
export class PeerMap<V, K extends HexKey = PublicKey> implements Iterable<[K, V]> {
  readonly #values = new Map<string, V>();
  readonly #keys = new Map<string, K>();

  /** Builds a map from `[key, value]` pairs; a later pair for the same key wins. */
  constructor(entries?: Iterable<readonly [K, V]>) {
    if (entries !== undefined) {
      for (const [key, value] of entries) this.set(key, value);
    }
  }

  /** Number of entries. */
  get size(): number {
    return this.#values.size;
  }

  /** The value stored for `key`, or `undefined`. */
  get(key: K): V | undefined {
    return this.#values.get(key.toHex());
  }

  /** The value stored under the hex form `hex`, or `undefined`. */
  getByHex(hex: string): V | undefined {
    return this.#values.get(hex);
  }

  /** Whether `key` has an entry. */
  has(key: K): boolean {
    return this.#values.has(key.toHex());
  }

  /**
   * Stores `value` for `key`. An existing entry keeps its position and its original key object
   * (the keys are equal by bytes), as `Map` does.
   */
  set(key: K, value: V): this {
    const hex = key.toHex();
    const size = this.#values.size;
    this.#values.set(hex, value);
    // A new entry (the size grew) gets its key object; an existing one keeps the first.
    if (this.#values.size !== size) this.#keys.set(hex, key);
    return this;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: K): boolean {
    const hex = key.toHex();
    this.#keys.delete(hex);
    return this.#values.delete(hex);
  }

  /** Removes every entry. */
  clear(): void {
    this.#values.clear();
    this.#keys.clear();
  }

  /** The stored key objects, in insertion order (a live `Map` iterator). */
  keys(): IterableIterator<K> {
    return this.#keys.values();
  }

  /** The values, in insertion order (a live `Map` iterator, aligned with {@link keys}). */
  values(): IterableIterator<V> {
    return this.#values.values();
  }

  /** `[key, value]` pairs, in insertion order. */
  *entries(): IterableIterator<[K, V]> {
    const values = this.#values.values();
    for (const key of this.#keys.values()) yield [key, values.next().value as V];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}

/**
 * Whether a `Map` of `size` entries may grow at its next new entry, which copies (rehashes)
 * every entry at once: V8's ordered hash tables double when they fill, at powers of two. A
 * caller spreading insertions over steps can yield before such an entry, so that the copy does
 * not add to a step that is already full. From 1,024 entries on (smaller copies are cheap). A
 * hint only: `false` promises nothing.
 */
export function mayGrowAfter(size: number): boolean {
  return size >= 1024 && (size & (size - 1)) === 0;
}

/** A value that carries its own key (a tracker record, say). */
export interface Keyed<K extends HexKey = PublicKey> {
  /** The key the value is stored under in a {@link KeyedMap}. */
  readonly key: K;
}

/**
 * A map of values that carry their own key ({@link Keyed}), keyed by the key's hex form.
 * Insertion-ordered, like {@link PeerMap}, but one `Map` of values only: the key object is read
 * from the value, so an entry costs one `Map` slot and nothing else. A directory of 65,536 peers
 * keeps 65,536 entries; the second `Map` a {@link PeerMap} would add is ~28 B per entry and, when
 * the table crosses a capacity, a second rehash of every entry in the same step.
 */
export class KeyedMap<V extends Keyed<K>, K extends HexKey = PublicKey> implements Iterable<V> {
  readonly #values = new Map<string, V>();

  /** Builds a map of `values`; a later value for the same key wins (in the first one's place). */
  constructor(values?: Iterable<V>) {
    if (values !== undefined) {
      for (const value of values) this.set(value);
    }
  }

  /** Number of entries. */
  get size(): number {
    return this.#values.size;
  }

  /** The value stored for `key`, or `undefined`. */
  get(key: K): V | undefined {
    return this.#values.get(key.toHex());
  }

  /** Whether `key` has an entry. */
  has(key: K): boolean {
    return this.#values.has(key.toHex());
  }

  /**
   * Stores `value` under `value.key`. A value replacing an existing entry (equal key bytes)
   * keeps that entry's position, as `Map` does.
   */
  set(value: V): this {
    this.#values.set(value.key.toHex(), value);
    return this;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: K): boolean {
    return this.#values.delete(key.toHex());
  }

  /** Removes every entry. */
  clear(): void {
    this.#values.clear();
  }

  /** {@link mayGrowAfter} this map's size. */
  mayGrowNext(): boolean {
    return mayGrowAfter(this.#values.size);
  }

  /** The values, in insertion order (a live `Map` iterator). */
  values(): IterableIterator<V> {
    return this.#values.values();
  }

  /** The values' keys, in insertion order. */
  *keys(): IterableIterator<K> {
    for (const value of this.#values.values()) yield value.key;
  }

  [Symbol.iterator](): IterableIterator<V> {
    return this.#values.values();
  }
}
