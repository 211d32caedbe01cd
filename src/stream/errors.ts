/**
 * The error class of the stream module.
 *
 * @module
 */

/**
 * Closed set of failure codes for {@link StreamError}.
 *
 * Handshake:
 * - `HandshakeFailed`: any handshake failure other than the three below: a malformed message, a bad
 *   signature, an invalid public key, a non-contributory key exchange, a confirmation mismatch, or
 *   the connection closing mid-handshake. Deliberately uninformative (details go to the debug log);
 *   the remote only ever sees the connection close.
 * - `HandshakeTimeout`: the whole handshake did not finish within `handshakeTimeoutMs`.
 * - `InvalidTimestamp`: the peer's handshake timestamp is outside
 *   `[now - maxHandshakeAgeMs, now + synchronyBoundMs)`.
 * - `PeerRejected`: the listener's bouncer refused the dialer's public key (before any crypto).
 *
 * Framing:
 * - `RecvTooLarge`: a received length prefix exceeds the receive limit (checked before allocating).
 * - `SendTooLarge`: a message exceeds `maxMessageSize`; nothing was sent and no nonce was used.
 * - `InvalidVarint`: a received length prefix is not a canonical varint-u32.
 *
 * Transport:
 * - `StreamClosed`: the sender or receiver was used after it (or its connection) failed or closed.
 * - `RecvFailed` / `SendFailed`: the underlying connection failed while reading / writing.
 * - `DecryptionFailed`: a frame did not authenticate (or is shorter than the 16-byte tag). Fatal.
 * - `EncryptionFailed`: the AEAD refused to seal. Fatal.
 * - `MessageLimitReached`: the 96-bit nonce counter of a direction is exhausted; reconnect.
 *
 * Configuration:
 * - `InvalidConfig`: a configuration field is out of range; the message names the field.
 */
export type StreamErrorCode =
  | 'HandshakeFailed'
  | 'HandshakeTimeout'
  | 'InvalidTimestamp'
  | 'PeerRejected'
  | 'RecvTooLarge'
  | 'SendTooLarge'
  | 'SendZeroSize'
  | 'InvalidVarint'
  | 'StreamClosed'
  | 'RecvFailed'
  | 'SendFailed'
  | 'DecryptionFailed'
  | 'EncryptionFailed'
  | 'MessageLimitReached'
  | 'InvalidConfig';

/**
 * Every error the stream module throws on purpose. Switch on `code`; a wrapped cause (a
 * `CodecError`, `CryptoError` or runtime error) is in `cause`.
 *
 * `SendZeroSize` mirrors upstream's enum and is never produced: an empty message is legal.
 */
export class StreamError extends Error {
  override readonly name = 'StreamError';
  /** Which failure this is; a closed union, so `switch (err.code)` is exhaustiveness-checked. */
  readonly code: StreamErrorCode;

  constructor(code: StreamErrorCode, message?: string, options?: ErrorOptions) {
    super(message ?? code, options);
    this.code = code;
  }
}
