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
 */
export class PeerMap<V, K extends HexKey = PublicKey> implements Iterable<[K, V]> {
  readonly #entries = new Map<string, { key: K; value: V }>();

  /** Builds a map from `[key, value]` pairs; a later pair for the same key wins. */
  constructor(entries?: Iterable<readonly [K, V]>) {
    if (entries !== undefined) {
      for (const [key, value] of entries) this.set(key, value);
    }
  }

  /** Number of entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value stored for `key`, or `undefined`. */
  get(key: K): V | undefined {
    return this.#entries.get(key.toHex())?.value;
  }

  /** The value stored under the hex form `hex`, or `undefined`. */
  getByHex(hex: string): V | undefined {
    return this.#entries.get(hex)?.value;
  }

  /** Whether `key` has an entry. */
  has(key: K): boolean {
    return this.#entries.has(key.toHex());
  }

  /**
   * Stores `value` for `key`. An existing entry keeps its position and its original key object
   * (the keys are equal by bytes), as `Map` does.
   */
  set(key: K, value: V): this {
    const hex = key.toHex();
    const existing = this.#entries.get(hex);
    if (existing !== undefined) existing.value = value;
    else this.#entries.set(hex, { key, value });
    return this;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: K): boolean {
    return this.#entries.delete(key.toHex());
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
  }

  /** The stored key objects, in insertion order. */
  *keys(): IterableIterator<K> {
    for (const e of this.#entries.values()) yield e.key;
  }

  /** The values, in insertion order. */
  *values(): IterableIterator<V> {
    for (const e of this.#entries.values()) yield e.value;
  }

  /** `[key, value]` pairs, in insertion order. */
  *entries(): IterableIterator<[K, V]> {
    for (const e of this.#entries.values()) yield [e.key, e.value];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}
