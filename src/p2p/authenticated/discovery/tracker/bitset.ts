/**
 * The knowledge bits of one retained peer set (commonware `discovery/actors/tracker/bit_set.rs`).
 *
 * A set's primaries, in key order, and one bit per primary: set iff we hold information about
 * that peer that does not need refreshing (the record's `want` is false). The tracker sends these
 * bits as a `BitVec`; a peer answers with the `Info`s of the primaries whose bit is clear.
 *
 * @module
 */

import { BitMap } from '../../../../codec/bitmap.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import { indexOfHex } from '../../tracker/peer-sets.js';

/** One set's primaries and our knowledge bit for each. */
export class BitSet {
  readonly #peers: readonly PublicKey[];
  readonly #bits: BitMap;

  /** @param peers - the set's primaries, sorted by key; every bit starts clear. */
  constructor(peers: readonly PublicKey[]) {
    this.#peers = peers;
    this.#bits = new BitMap(peers.length);
  }

  /** The primaries, in key order (bit `i` is about `peers[i]`). */
  get peers(): readonly PublicKey[] {
    return this.#peers;
  }

  /** Number of primaries (the bit length). */
  get size(): number {
    return this.#peers.length;
  }

  /** `key`'s position, or `undefined` if it is not a primary of this set (binary search). */
  position(key: PublicKey): number | undefined {
    const i = indexOfHex(this.#peers, key.toHex());
    return i < 0 ? undefined : i;
  }

  /** Whether we know the `i`-th primary. */
  get(i: number): boolean {
    return this.#bits.get(i);
  }

  /** Sets the `i`-th bit to `known`. */
  set(i: number, known: boolean): void {
    this.#bits.set(i, known);
  }

  /** Sets `key`'s bit to `known` if it is a primary here; returns whether it is. */
  update(key: PublicKey, known: boolean): boolean {
    const i = this.position(key);
    if (i === undefined) return false;
    this.#bits.set(i, known);
    return true;
  }

  /** A copy of the bits (the tracker keeps changing its own). */
  bits(): BitMap {
    return BitMap.fromBytes(this.#bits.length, this.#bits.toBytes());
  }
}
