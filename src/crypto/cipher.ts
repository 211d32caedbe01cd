/**
 * The directional transport cipher of the encrypted stream, as commonware's
 * `cryptography/src/handshake/cipher.rs`: ChaCha20-Poly1305 (RFC 8439) with an implicit counter
 * nonce.
 *
 * - One `Cipher` per direction, keyed from the handshake transcript; keys are never reused
 *   across directions or connections.
 * - Nonce = the low 96 bits of a counter, as 12 little-endian bytes. The counter starts at 0 and
 *   advances after every seal and every open attempt, so both ends stay in lock step without
 *   sending nonces.
 * - When the counter reaches 2^96 every call throws `MessageLimitReached` before touching any
 *   data: a nonce is never reused.
 * - A failed open is fatal. The cipher is poisoned and every later call throws
 *   `DecryptionFailed`; the connection must be dropped (a desynchronised or tampered stream
 *   cannot recover, and refusing further work removes any oracle).
 * - AAD is empty; the 16-byte tag follows the ciphertext.
 *
 * @module
 */

import { Buffer } from 'node:buffer';
import {
  type AeadImpl,
  AeadKey,
  aeadOpen,
  aeadSeal,
  allocOwned,
  ON_HEAP_MAX,
  outputScratch,
  TAG_SIZE,
} from './backend.js';
import { CryptoError } from './errors.js';

/** Key size in bytes. */
export const KEY_SIZE = 32;
/** Authentication tag size in bytes, appended to every ciphertext. */
export { TAG_SIZE };

const TWO_32 = 0x1_0000_0000;
/** A cipher's state: a failed open poisoned it. */
const POISONED = 1;
/** A cipher's state: the nonce counter reached 2^96. */
const EXHAUSTED = 2;
const TWO_96 = 1n << 96n;

/** Options of {@link Cipher}. */
export interface CipherOptions {
  /**
   * Initial counter value, in `[0, 2^96]`. Default `0n`. For tests that need to reach the
   * message limit; a real connection always starts at 0.
   */
  readonly startCounter?: bigint;
}

// Set only for the duration of a constructor call made by cipherWithImpl (single-threaded).
let forcedImpl: AeadImpl | undefined;
// Set only for the duration of a constructor call made by cipherPair: where the key goes.
let keyStorage: Buffer | undefined;

/**
 * @internal The two directions of one session: `[Cipher(sendKey), Cipher(recvKey)]` whose keys
 * share one 64-byte allocation (a connection holds both for its life: one allocation and its
 * ArrayBuffer rather than two). The allocation holds nothing but these two keys.
 *
 * @throws {@link CryptoError} `InvalidLength` for a wrong key size
 */
export function cipherPair(sendKey: Uint8Array, recvKey: Uint8Array): [Cipher, Cipher] {
  const storage = Buffer.alloc(2 * KEY_SIZE);
  try {
    keyStorage = storage.subarray(0, KEY_SIZE);
    const send = new Cipher(sendKey);
    keyStorage = storage.subarray(KEY_SIZE);
    return [send, new Cipher(recvKey)];
  } finally {
    keyStorage = undefined;
  }
}

/**
 * @internal A {@link Cipher} on an explicit AEAD implementation, so tests and benchmarks can run
 * the same contract against every backend. Not exported from `authp2p/crypto`.
 *
 * @throws Error if `impl` is `sodium-native` and it is not available; as the constructor otherwise
 */
export function cipherWithImpl(
  key: Uint8Array,
  impl: AeadImpl,
  options: CipherOptions = {},
): Cipher {
  forcedImpl = impl;
  try {
    return new Cipher(key, options);
  } finally {
    forcedImpl = undefined;
  }
}

/** One direction of an encrypted stream. Not thread-safe (JS needs it not to be). */
export class Cipher {
  readonly #key: AeadKey;
  // The 96-bit counter as three u32 words, least significant first (n0 = nonce bytes 0..3).
  // Numbers, not a bigint: this sits on the per-message path.
  #n0 = 0;
  #n1 = 0;
  #n2 = 0;
  /** {@link POISONED} and {@link EXHAUSTED}: one field (a connection holds two ciphers). */
  #state = 0;

  /**
   * @param key - 32 bytes (copied)
   * @param options - see {@link CipherOptions}
   * @throws {@link CryptoError} `InvalidLength` for a wrong key size; `RangeError` for a bad
   *   start counter
   */
  constructor(key: Uint8Array, options: CipherOptions = {}) {
    const storage = keyStorage;
    keyStorage = undefined;
    this.#key =
      forcedImpl === undefined
        ? new AeadKey(key, undefined, storage)
        : new AeadKey(key, forcedImpl, storage);
    const start = options.startCounter ?? 0n;
    if (start < 0n || start > TWO_96) throw new RangeError('startCounter must be in [0, 2^96]');
    if (start === TWO_96) {
      this.#state = EXHAUSTED;
    } else {
      this.#n0 = Number(start & 0xffffffffn);
      this.#n1 = Number((start >> 32n) & 0xffffffffn);
      this.#n2 = Number(start >> 64n);
    }
  }

  /** The counter value the next seal or open will use (2^96 once exhausted). */
  get counter(): bigint {
    if ((this.#state & EXHAUSTED) !== 0) return TWO_96;
    return (BigInt(this.#n2) << 64n) | (BigInt(this.#n1) << 32n) | BigInt(this.#n0);
  }

  /** True after a failed open: the cipher refuses all further work. */
  get poisoned(): boolean {
    return (this.#state & POISONED) !== 0;
  }

  /**
   * Encrypts `plaintext` under the next nonce.
   *
   * @returns `ciphertext || tag` (`plaintext.length + 16` bytes), in a buffer of its own
   * @throws {@link CryptoError} `MessageLimitReached`, `DecryptionFailed` (poisoned),
   *   `EncryptionFailed`
   */
  seal(plaintext: Uint8Array): Uint8Array {
    const n = plaintext.length + TAG_SIZE;
    if (n > ON_HEAP_MAX) {
      const out = allocOwned(n);
      this.sealInto(plaintext, out, 0);
      return out;
    }
    // Small: sealed into the backend's scratch and copied out (see ON_HEAP_MAX).
    const scratch = outputScratch(n);
    this.sealInto(plaintext, scratch, 0);
    return scratch.slice();
  }

  /**
   * Encrypts `plaintext` under the next nonce and writes `ciphertext || tag` into `out` at
   * `offset`, so a caller can build many frames in one buffer. `out` must not overlap
   * `plaintext`.
   *
   * @returns bytes written: `plaintext.length + 16`
   * @throws {@link CryptoError} as {@link Cipher.seal}; `RangeError` if `out` is too small
   */
  sealInto(plaintext: Uint8Array, out: Uint8Array, offset: number): number {
    const n = plaintext.length + TAG_SIZE;
    this.#check();
    if (offset < 0 || offset + n > out.length) throw new RangeError('output buffer too small');
    aeadSeal(this.#key, this.#n0, this.#n1, this.#n2, plaintext, out, offset);
    this.#advance();
    return n;
  }

  /**
   * Authenticates and decrypts `ciphertextAndTag` under the next nonce. The nonce is consumed
   * whether or not it succeeds; on failure the cipher is poisoned.
   *
   * @returns the plaintext (`ciphertextAndTag.length - 16` bytes), in a buffer of its own: its
   *   `.buffer` holds nothing else
   * @throws {@link CryptoError} `DecryptionFailed` (bad tag, frame shorter than 16 bytes, or
   *   poisoned), `MessageLimitReached`
   */
  open(ciphertextAndTag: Uint8Array): Uint8Array {
    this.#check();
    const pt =
      ciphertextAndTag.length < TAG_SIZE
        ? undefined
        : aeadOpen(this.#key, this.#n0, this.#n1, this.#n2, ciphertextAndTag);
    this.#advance();
    if (pt === undefined) {
      this.#state |= POISONED;
      throw new CryptoError('DecryptionFailed', 'ChaCha20-Poly1305 authentication failed');
    }
    return pt;
  }

  #check(): void {
    const state = this.#state;
    if (state === 0) return;
    if ((state & POISONED) !== 0) {
      throw new CryptoError('DecryptionFailed', 'cipher poisoned by a failure');
    }
    throw new CryptoError('MessageLimitReached', 'nonce counter exhausted');
  }

  #advance(): void {
    if (++this.#n0 < TWO_32) return;
    this.#n0 = 0;
    if (++this.#n1 < TWO_32) return;
    this.#n1 = 0;
    if (++this.#n2 < TWO_32) return;
    this.#n2 = 0;
    this.#state |= EXHAUSTED;
  }
}
