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

import {
  OS_RANDOM,
  type RandomSource,
  type X25519Impl,
  type X25519Secret,
  x25519Agree,
  x25519Secret,
} from './backend.js';
import { CryptoError } from './errors.js';

/** X25519 public key size in bytes. */
export const PUBLIC_KEY_SIZE = 32;
/** Shared secret size in bytes. */
export const SHARED_SECRET_SIZE = 32;

/** A single-use X25519 secret. */
export class EphemeralSecret {
  // libsodium's scalar bytes or OpenSSL's KeyObject (backend.ts); dropped by the exchange.
  #key: X25519Secret | undefined;
  /** The raw 32-byte public key to send to the peer. */
  readonly publicKey: Uint8Array;

  private constructor(secret: Uint8Array, impl?: X25519Impl) {
    try {
      const pair = impl === undefined ? x25519Secret(secret) : x25519Secret(secret, impl);
      this.#key = pair.secret;
      this.publicKey = pair.publicKey;
    } finally {
      secret.fill(0);
    }
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

  /**
   * @internal As {@link EphemeralSecret.fromScalar}, on an explicit implementation, so tests can
   * run the RFC 7748 vectors against every backend.
   */
  static fromScalarWithImpl(scalar: Uint8Array, impl: X25519Impl): EphemeralSecret {
    if (scalar.length !== 32) throw new CryptoError('InvalidLength', 'scalar must be 32 bytes');
    return new EphemeralSecret(scalar.slice(), impl);
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
    return x25519Agree(key, peerPublic);
  }
}
