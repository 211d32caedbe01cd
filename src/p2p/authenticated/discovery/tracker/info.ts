/**
 * The shapes of the discovery wire types the tracker handles, stated structurally so that the
 * tracker does not depend on their codecs (commonware `discovery/types.rs`: `Info`, `BitVec`).
 *
 * The signed `Info` and its verification live with the discovery types; whatever they define
 * satisfies {@link InfoLike}. The tracker never checks a signature: the peer actor validates
 * every `Info` (signature, not ourselves, not beyond the synchrony bound) before it reaches the
 * tracker, except our own, which the network signs.
 *
 * @module
 */

import type { BitMap } from '../../../../codec/bitmap.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import type { Ingress } from '../../../address.js';

/** A peer's signed self-attestation: where to dial it, as of when. */
export interface InfoLike {
  /** Where the peer says it can be dialed. */
  readonly ingress: Ingress;
  /** When the peer signed this (ms since the epoch); a newer one replaces an older one. */
  readonly timestampMs: number;
  /** The peer's key (the signer). */
  readonly publicKey: PublicKey;
  /** The peer's signature over the ingress and timestamp. */
  readonly signature: Uint8Array;
}

/**
 * Which primaries of the set at `index` a peer knows: bit `i` is set iff it has fresh
 * information about the `i`-th primary (in key order).
 */
export interface BitVec {
  /** The peer-set index. */
  readonly index: number;
  /** One bit per primary of that set. */
  readonly bits: BitMap;
}
