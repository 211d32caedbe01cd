/**
 * Who holds a reservation: the dialer (outbound) or the listener (inbound), and for which peer.
 * Mirrors commonware `tracker/metadata.rs` of both flavours; travels back to the tracker in a
 * `release` message when the reservation ends.
 *
 * Discovery's dialer also records the ingress it dialed, so that the release can count a dial
 * failure against that address only (a newer address learned meanwhile is not penalised).
 * Lookup's dialer carries no ingress.
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Ingress } from '../../address.js';

/** The holder of a reservation and the peer it reserves. */
export type Metadata =
  | {
      readonly kind: 'dialer';
      readonly publicKey: PublicKey;
      /** The ingress dialed (discovery only). */
      readonly ingress?: Ingress;
      /** Which reservation of the record this is (set by the directory when it grants it). */
      readonly generation?: number;
    }
  | {
      readonly kind: 'listener';
      readonly publicKey: PublicKey;
      /** Which reservation of the record this is (set by the directory when it grants it). */
      readonly generation?: number;
    };

/** Constructors for {@link Metadata}. */
export const Metadata = {
  /**
   * A reservation taken by the dialer for an outbound connection to `publicKey`, at `ingress`
   * when the flavour tracks it (discovery).
   */
  dialer(publicKey: PublicKey, ingress?: Ingress): Metadata {
    return ingress === undefined
      ? { kind: 'dialer', publicKey }
      : { kind: 'dialer', publicKey, ingress };
  },
  /** A reservation taken by the listener for an inbound connection from `publicKey`. */
  listener(publicKey: PublicKey): Metadata {
    return { kind: 'listener', publicKey };
  },
  /**
   * `metadata` stamped with the record generation its reservation holds, and with `publicKey`
   * (the tracker's record key: one key object per peer, not the handshake's copy) when given.
   * Built as literals of fixed shape: a spread copy got a hidden class of its own per object
   * (a Map, descriptors and a property array: ~200 B kept per connected peer).
   */
  withGeneration(metadata: Metadata, generation: number, publicKey?: PublicKey): Metadata {
    const key = publicKey ?? metadata.publicKey;
    if (metadata.kind === 'listener') return { kind: 'listener', publicKey: key, generation };
    return metadata.ingress === undefined
      ? { kind: 'dialer', publicKey: key, generation }
      : { kind: 'dialer', publicKey: key, ingress: metadata.ingress, generation };
  },
} as const;
