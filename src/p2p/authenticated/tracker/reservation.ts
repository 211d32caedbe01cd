/**
 * A peer's single connection slot, held by whoever is connecting to it.
 *
 * Mirrors commonware `tracker/reservation.rs` (both flavours), where dropping the value sends
 * `Release(metadata)` to the tracker. JavaScript has no destructors, so the holder calls
 * {@link Reservation.release} explicitly (in a `finally`); it is idempotent, so a release on
 * every exit path is safe.
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Metadata } from './metadata.js';

/** Called once when a reservation is released; the tracker actor turns it into a message. */
export type Releaser = (metadata: Metadata) => void;

/** An exclusive claim on one peer's connection slot. */
export class Reservation {
  readonly #metadata: Metadata;
  readonly #releaser: Releaser;
  #released = false;

  constructor(metadata: Metadata, releaser: Releaser) {
    this.#metadata = metadata;
    this.#releaser = releaser;
  }

  /** Who holds the reservation, and for which peer. */
  get metadata(): Metadata {
    return this.#metadata;
  }

  /** The reserved peer. */
  get publicKey(): PublicKey {
    return this.#metadata.publicKey;
  }

  /** Whether {@link release} has been called. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Gives the slot back: calls the releaser with the metadata the first time, does nothing after.
   * The releaser runs synchronously; if it throws, the reservation still counts as released.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#releaser(this.#metadata);
  }
}
