import type { ed25519 } from '../crypto/index.js';
import { StreamError } from './errors.js';

/** Length of the AEAD tag (ChaCha20-Poly1305) appended to every encrypted frame. */
export const TAG_SIZE = 16;

/** The largest `maxMessageSize`: the encrypted frame (plaintext + tag) must fit a varint-u32 length. */
export const MAX_MESSAGE_SIZE = 0xffff_ffff - TAG_SIZE;

/**
 * The identity a peer authenticates with. `ed25519.PrivateKey` satisfies it.
 *
 * Upstream is generic over the signature scheme; this port fixes ed25519 (32-byte keys,
 * 64-byte signatures), which fixes the sizes of every handshake message.
 */
export interface Signer {
  /** The static public key the remote end authenticates. */
  readonly publicKey: ed25519.PublicKey;
  /** Signs `varint(len(namespace)) || namespace || message` (commonware `union_unique`). */
  sign(namespace: Uint8Array, message: Uint8Array): Uint8Array;
}

/** The fields of a stream {@link Config}. All durations are milliseconds. */
export interface ConfigFields {
  /** This peer's static identity. */
  readonly signer: Signer;
  /**
   * Binds every handshake to one application: a Syn made for another namespace never verifies.
   * p2p passes `app_namespace || "_STREAM"`.
   *
   * @remarks Warning: must be identical on every peer, and unique to the application.
   */
  readonly namespace: Uint8Array;
  /**
   * The largest plaintext message, in bytes, this peer sends or accepts; at most
   * {@link MAX_MESSAGE_SIZE}. The receive limit on an encrypted frame is this plus the 16-byte tag.
   *
   * @remarks Warning: should be the same on every peer; a larger message from a peer kills the stream.
   */
  readonly maxMessageSize: number;
  /**
   * How far in the future (by our clock) a peer's handshake timestamp may be: the tolerated clock
   * skew. Upstream's recommended value is 5 000.
   *
   * @remarks Warning: peer clocks must agree within this bound.
   */
  readonly synchronyBoundMs: number;
  /**
   * How old a peer's handshake timestamp may be. It bounds how long a recorded Syn can be replayed
   * (a replay still cannot complete the handshake). Upstream's recommended value is 10 000.
   */
  readonly maxHandshakeAgeMs: number;
  /** Deadline for the whole handshake on either side; must be > 0. Upstream's recommended value is 5 000. */
  readonly handshakeTimeoutMs: number;
}

function check(ok: boolean, field: string, rule: string): void {
  if (!ok) throw new StreamError('InvalidConfig', `${field} ${rule}`);
}

function isMs(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

/**
 * A validated stream configuration.
 *
 * Construction validates every field and throws `StreamError('InvalidConfig')` naming the first
 * field out of range (this module never throws `RangeError` for configuration). The namespace is
 * copied, so later changes to the caller's array have no effect.
 *
 * @example
 * ```ts
 * const config = new Config({
 *   signer: ed25519.PrivateKey.fromSeed(1n),
 *   namespace: new TextEncoder().encode('my-app_STREAM'),
 *   maxMessageSize: 1 << 20,
 *   synchronyBoundMs: 5_000,
 *   maxHandshakeAgeMs: 10_000,
 *   handshakeTimeoutMs: 5_000,
 * });
 * ```
 */
export class Config implements ConfigFields {
  readonly signer: Signer;
  readonly namespace: Uint8Array;
  readonly maxMessageSize: number;
  readonly synchronyBoundMs: number;
  readonly maxHandshakeAgeMs: number;
  readonly handshakeTimeoutMs: number;
  // Brands the class so that only validated instances type-check where a Config is required.
  readonly #validated = true;

  constructor(fields: ConfigFields) {
    check(
      typeof fields.signer === 'object' &&
        fields.signer !== null &&
        typeof fields.signer.sign === 'function' &&
        typeof fields.signer.publicKey === 'object',
      'signer',
      'must have a publicKey and a sign method',
    );
    check(fields.namespace instanceof Uint8Array, 'namespace', 'must be a Uint8Array');
    check(
      Number.isSafeInteger(fields.maxMessageSize) &&
        fields.maxMessageSize >= 0 &&
        fields.maxMessageSize <= MAX_MESSAGE_SIZE,
      'maxMessageSize',
      `must be an integer in [0, ${MAX_MESSAGE_SIZE}]`,
    );
    check(isMs(fields.synchronyBoundMs), 'synchronyBoundMs', 'must be a non-negative integer');
    check(isMs(fields.maxHandshakeAgeMs), 'maxHandshakeAgeMs', 'must be a non-negative integer');
    check(
      isMs(fields.handshakeTimeoutMs) && fields.handshakeTimeoutMs > 0,
      'handshakeTimeoutMs',
      'must be a positive integer',
    );
    this.signer = fields.signer;
    this.namespace = fields.namespace.slice();
    this.maxMessageSize = fields.maxMessageSize;
    this.synchronyBoundMs = fields.synchronyBoundMs;
    this.maxHandshakeAgeMs = fields.maxHandshakeAgeMs;
    this.handshakeTimeoutMs = fields.handshakeTimeoutMs;
  }

  /** True for every constructed Config (the constructor throws otherwise). */
  get validated(): boolean {
    return this.#validated;
  }
}
