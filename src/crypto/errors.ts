/** Every way a crypto operation can fail, as a closed union (mirrors commonware's error enums). */
export type CryptoErrorCode =
  /** Public-key bytes have the wrong length or do not encode a curve point. */
  | 'InvalidPublicKey'
  /** Private-key bytes have the wrong length, or a seed is out of range. */
  | 'InvalidPrivateKey'
  /** Signature bytes have the wrong length (a bad signature itself is `verify() === false`). */
  | 'InvalidSignature'
  /** A byte argument has the wrong length (keys, nonces, labels). */
  | 'InvalidLength'
  /** An X25519 exchange produced the all-zero secret or used a low-order point. */
  | 'NonContributory'
  /** The AEAD could not encrypt (backend failure). */
  | 'EncryptionFailed'
  /** Authentication failed, the frame was too short, or the cipher is poisoned by an earlier failure. */
  | 'DecryptionFailed'
  /** The 96-bit nonce counter is exhausted; the connection must be re-established. */
  | 'MessageLimitReached'
  /** An ephemeral secret was used for a second exchange. */
  | 'SecretConsumed';

/**
 * The error class of `authp2p/crypto`. Switch on {@link CryptoError.code}; messages are for humans.
 */
export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  /** What went wrong. */
  readonly code: CryptoErrorCode;

  /**
   * @param code - the failure kind
   * @param message - optional detail (defaults to the code)
   * @param options - `cause` for a wrapped backend error
   */
  constructor(code: CryptoErrorCode, message?: string, options?: ErrorOptions) {
    super(message ?? code, options);
    this.code = code;
  }
}
