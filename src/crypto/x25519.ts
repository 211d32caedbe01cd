/**
 * Ephemeral X25519 (RFC 7748) for the handshake, as x25519-dalek's `EphemeralSecret` is used in
 * commonware's `cryptography/src/handshake/key_exchange.rs`: a secret is generated, its public
 * key sent, and it is consumed by exactly one exchange.
 *
 * Non-contributory exchanges are refused: if the peer sends a low-order point (the all-zero
 * encoding, 1, the order-8 points, and their non-canonical aliases), OpenSSL refuses to derive
 * and we throw `NonContributory`; an all-zero result is refused too, whatever produced it.
 *
 * @module
 */

import type { KeyObject } from 'node:crypto';
import { OS_RANDOM, type RandomSource, x25519, x25519FromSecret } from './backend.js';
import { CryptoError } from './errors.js';

/** X25519 public key size in bytes. */
export const PUBLIC_KEY_SIZE = 32;
/** Shared secret size in bytes. */
export const SHARED_SECRET_SIZE = 32;

/** A single-use X25519 secret. */
export class EphemeralSecret {
  #key: KeyObject | undefined;
  /** The raw 32-byte public key to send to the peer. */
  readonly publicKey: Uint8Array;

  private constructor(secret: Uint8Array) {
    const pair = x25519FromSecret(secret);
    secret.fill(0);
    this.#key = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  /**
   * A fresh secret from `rng` (for example `ctx.rng`) or, by default, the OS CSPRNG.
   * The 32 drawn bytes are the RFC 7748 scalar (clamped on use).
   */
  static generate(rng: RandomSource = OS_RANDOM): EphemeralSecret {
    const bytes = rng.bytes(32);
    if (bytes.length !== 32) throw new CryptoError('InvalidLength', 'rng returned wrong length');
    return new EphemeralSecret(bytes.slice());
  }

  /**
   * @internal A secret from explicit scalar bytes; for RFC 7748 test vectors only (reusing a
   * scalar across sessions would break forward secrecy).
   */
  static fromScalar(scalar: Uint8Array): EphemeralSecret {
    if (scalar.length !== 32) throw new CryptoError('InvalidLength', 'scalar must be 32 bytes');
    return new EphemeralSecret(scalar.slice());
  }

  /** True once {@link EphemeralSecret.exchange} has been called. */
  get consumed(): boolean {
    return this.#key === undefined;
  }

  /**
   * Computes the 32-byte shared secret with the peer's raw public key. Consumes the secret
   * (even on failure: a retried exchange would reuse the scalar).
   *
   * @throws {@link CryptoError} `InvalidLength` (peer key not 32 bytes), `NonContributory`
   *   (low-order point or all-zero secret), `SecretConsumed` (second call)
   */
  exchange(peerPublic: Uint8Array): Uint8Array {
    const key = this.#key;
    if (key === undefined) throw new CryptoError('SecretConsumed', 'ephemeral secret already used');
    this.#key = undefined;
    if (peerPublic.length !== PUBLIC_KEY_SIZE) {
      throw new CryptoError('InvalidLength', 'X25519 public key must be 32 bytes');
    }
    return x25519(key, peerPublic);
  }
}
