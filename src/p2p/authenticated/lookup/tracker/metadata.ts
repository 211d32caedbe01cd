/**
 * Who holds a reservation: the dialer (outbound) or the listener (inbound), and for which peer.
 * Mirrors commonware `lookup/actors/tracker/metadata.rs`; travels back to the tracker in a
 * `release` message when the reservation ends.
 *
 * @module
 */

import type { PublicKey } from '../../../../crypto/ed25519.js';

/** The holder of a reservation and the peer it reserves. */
export type Metadata =
  | { readonly kind: 'dialer'; readonly publicKey: PublicKey }
  | { readonly kind: 'listener'; readonly publicKey: PublicKey };

/** Constructors for {@link Metadata}. */
export const Metadata = {
  /** A reservation taken by the dialer for an outbound connection to `publicKey`. */
  dialer(publicKey: PublicKey): Metadata {
    return { kind: 'dialer', publicKey };
  },
  /** A reservation taken by the listener for an inbound connection from `publicKey`. */
  listener(publicKey: PublicKey): Metadata {
    return { kind: 'listener', publicKey };
  },
} as const;
