/**
 * The error class of the p2p module.
 *
 * Mirrors commonware's `p2p::authenticated::Error` variants plus the conditions upstream turns
 * into panics (an oversized send, a duplicate channel, an invalid configuration), which here are
 * thrown as typed errors at call time.
 *
 * @module
 */

/**
 * Closed set of failure codes for {@link P2PError}.
 *
 * - `MessageTooLarge`: a payload longer than the network's `maxMessageSize` was handed to a sender.
 * - `NetworkClosed`: the network has shut down (receivers reject with this after shutdown).
 * - `InvalidConfig`: a configuration field is out of range; the message names the field.
 * - `InvalidAddress`: an address string or object is malformed.
 * - `DuplicateChannel`: `register` was called twice for the same channel.
 * - `InvalidChannel`: a channel number is not a non-negative safe integer, or unknown.
 * - `InvalidPeerSet`: a peer set is malformed (too many peers, index not increasing, ...).
 * - `DecodeFailed`: a peer sent bytes that do not decode.
 * - `ListenFailed`: the network could not bind its listen address (`cause`: the OS error); the
 *   network's handle rejects with it.
 * - `MissingGreeting`, `DuplicateGreeting`, `GreetingMismatch` (discovery): the first message of
 *   a connection was not a Greeting, a second Greeting came, or its key is not the handshake's.
 * - `PeerKilled`: the tracker asked the peer actor to stop.
 * - `PeerDisconnected`: the remote end closed the connection.
 * - `SendFailed` / `ReceiveFailed`: the underlying stream failed while writing / reading.
 * - `TooManyPeers`: a discovery peer sent more signed peer records in one message than
 *   `peerGossipMaxCount`.
 * - `ReceivedSelf`: a discovery peer sent a signed peer record about ourselves.
 * - `SynchronyBound`: a signed peer record is timestamped further in the future than
 *   `synchronyBoundMs` allows.
 * - `InvalidSignature`: a signed peer record's signature does not verify.
 * - `LinkingSelf`, `LinkExists`, `LinkMissing` (simulated): a link from a peer to itself, a link
 *   added twice, a link removed that does not exist.
 */
export type P2PErrorCode =
  | 'MessageTooLarge'
  | 'NetworkClosed'
  | 'InvalidConfig'
  | 'InvalidAddress'
  | 'DuplicateChannel'
  | 'InvalidChannel'
  | 'InvalidPeerSet'
  | 'DecodeFailed'
  | 'PeerKilled'
  | 'PeerDisconnected'
  | 'SendFailed'
  | 'ReceiveFailed'
  | 'ListenFailed'
  | 'MissingGreeting'
  | 'DuplicateGreeting'
  | 'GreetingMismatch'
  | 'TooManyPeers'
  | 'ReceivedSelf'
  | 'SynchronyBound'
  | 'InvalidSignature'
  | 'LinkingSelf'
  | 'LinkExists'
  | 'LinkMissing';

/** Every error the p2p module throws on purpose. Switch on `code`; wrapped causes are in `cause`. */
export class P2PError extends Error {
  override readonly name = 'P2PError';
  /** Which failure this is; a closed union, so `switch (err.code)` is exhaustiveness-checked. */
  readonly code: P2PErrorCode;

  constructor(code: P2PErrorCode, message?: string, options?: ErrorOptions) {
    super(message ?? code, options);
    this.code = code;
  }
}

/**
 * The `code` of a typed error (`P2PError`, `StreamError`, `RuntimeError`, `CryptoError`), for
 * log lines: the message alone does not always name it (`Ack confirmation mismatch` is a
 * `HandshakeFailed`). `undefined` for anything else.
 */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
