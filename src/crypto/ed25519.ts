/**
 * Ed25519 identities with namespaced signatures, as in commonware's
 * `cryptography/src/ed25519/scheme.rs`.
 *
 * - `sign(namespace, message)` signs `varint_u32(len(namespace)) || namespace || message`
 *   ({@link unionUnique}) with pure Ed25519 (RFC 8032).
 * - Public keys are validated on decoding: 32 bytes that decode to a curve point
 *   (curve25519-dalek's rule, see `_edwards.ts`).
 * - {@link PrivateKey.fromSeed} reproduces commonware's deterministic test keys bit for bit.
 *
 * Verification is OpenSSL's (RFC 8032, cofactorless, canonical `S`), whereas commonware verifies
 * with ZIP-215 rules. They agree on every honestly generated signature and differ only on crafted
 * edge cases (small-order components, non-canonical `R`/`A`); see PROTOCOL.md (Cryptography).
 *
 * @module
 */

import { Buffer } from 'node:buffer';
import type { KeyObject } from 'node:crypto';
import { isValidPoint } from './_edwards.js';
import {
  chacha20Keystream,
  cryptoBackend,
  ed25519FromSeed,
  ed25519PublicKeyObject,
  ed25519Sign,
  ed25519SodiumAccepts,
  ed25519Verify,
  OS_RANDOM,
  type RandomSource,
} from './backend.js';
import { CryptoError } from './errors.js';
import { unionUnique } from './namespace.js';

/** Public key size in bytes. */
export const PUBLIC_KEY_SIZE = 32;
/** Private key (secret seed) size in bytes. */
export const PRIVATE_KEY_SIZE = 32;
/** Signature size in bytes. */
export const SIGNATURE_SIZE = 64;

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * Lowercase hex of `bytes` as one flat string. (Appending 32 two-character pieces makes a rope
 * of 32 cons strings, ~1 KB of heap per key, and every hash, comparison and sort of it walks or
 * flattens the rope: the directories key their maps and sorts by this string.)
 */
function toHexString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

// ---------- Validated-key cache ----------

// Point validation costs ~55 us of BigInt arithmetic and the same peers' keys arrive again and
// again (every handshake, every gossiped record), so remember recent valid encodings. Only
// valid keys are cached; FIFO eviction bounds memory whatever peers send.
const VALID_CACHE_MAX = 4096;
const validCache = new Set<string>();

function checkPoint(hex: string, bytes: Uint8Array): boolean {
  if (validCache.has(hex)) return true;
  if (!isValidPoint(bytes)) return false;
  if (validCache.size >= VALID_CACHE_MAX) {
    const oldest = validCache.values().next();
    if (oldest.done !== true) validCache.delete(oldest.value);
  }
  validCache.add(hex);
  return true;
}

// ---------- PublicKey ----------

/** An ed25519 public key (32 bytes, validated). Immutable; total order = byte order. */
export class PublicKey {
  /** Encoded size in bytes. */
  static readonly SIZE = PUBLIC_KEY_SIZE;
  /** Signature size in bytes. */
  static readonly SIGNATURE_SIZE = SIGNATURE_SIZE;

  readonly #bytes: Uint8Array;
  readonly #hex: string;
  #key: KeyObject | undefined;

  // Instances come only from the validating factories.
  private constructor(bytes: Uint8Array, hex: string) {
    this.#bytes = bytes;
    this.#hex = hex;
  }

  /**
   * Decodes a public key.
   *
   * @param bytes - exactly 32 bytes; copied
   * @throws {@link CryptoError} `InvalidPublicKey` if the length is wrong or the bytes are not
   *   a curve point
   */
  static fromBytes(bytes: Uint8Array): PublicKey {
    if (bytes.length !== PUBLIC_KEY_SIZE) {
      throw new CryptoError('InvalidPublicKey', `public key must be 32 bytes, got ${bytes.length}`);
    }
    const copy = bytes.slice();
    const hex = toHexString(copy);
    if (!checkPoint(hex, copy)) {
      throw new CryptoError('InvalidPublicKey', 'public key is not a curve point');
    }
    return new PublicKey(copy, hex);
  }

  /**
   * Decodes a public key from 64 hex digits (either case).
   *
   * @throws {@link CryptoError} `InvalidPublicKey` on bad hex or an invalid key
   */
  static fromHex(hex: string): PublicKey {
    if (hex.length !== 2 * PUBLIC_KEY_SIZE || !/^[0-9a-fA-F]*$/.test(hex)) {
      throw new CryptoError('InvalidPublicKey', 'public key hex must be 64 hex digits');
    }
    return PublicKey.fromBytes(Uint8Array.from(Buffer.from(hex, 'hex')));
  }

  /** @internal For keys derived from a private key: known valid, skips the point check. */
  static fromTrusted(bytes: Uint8Array, key: KeyObject | undefined): PublicKey {
    const pk = new PublicKey(bytes, toHexString(bytes));
    pk.#key = key;
    return pk;
  }

  /** A copy of the 32 encoded bytes. */
  toBytes(): Uint8Array {
    return this.#bytes.slice();
  }

  /** @internal The encoded bytes without a copy; callers must not modify them. */
  get bytesView(): Uint8Array {
    return this.#bytes;
  }

  /** Lowercase hex of the 32 bytes (memoized). */
  toHex(): string {
    return this.#hex;
  }

  /** Same as {@link PublicKey.toHex}. */
  toString(): string {
    return this.#hex;
  }

  /**
   * Verifies a namespaced signature over `varint(len(namespace)) || namespace || message`.
   * Never throws for bad signature bytes: any malformed or wrong signature returns `false`.
   */
  verify(namespace: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== SIGNATURE_SIZE) return false;
    return this.#verify(unionUnique(namespace, message), signature);
  }

  /** @internal Verifies a raw (not namespaced) RFC 8032 signature; for test vectors. */
  verifyRaw(message: Uint8Array, signature: Uint8Array): boolean {
    return this.#verify(message, signature);
  }

  /** True iff both keys have the same bytes. */
  equals(other: PublicKey): boolean {
    return this === other || this.#hex === other.#hex;
  }

  /** Byte-order comparison: -1, 0 or 1 (the total order used for sorting peers). */
  compare(other: PublicKey): -1 | 0 | 1 {
    const a = this.#bytes;
    const b = other.#bytes;
    for (let i = 0; i < PUBLIC_KEY_SIZE; i++) {
      const d = a[i]! - b[i]!;
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    return 0;
  }

  /**
   * libsodium's acceptance is final and needs only the bytes; otherwise OpenSSL judges (see
   * backend.ts). With libsodium the OpenSSL KeyObject is made for that one call and not kept: a
   * refused signature is rare (it ends a handshake), while a KeyObject kept per key would hold
   * native memory for every connected peer. Without libsodium every verification needs it, so
   * it is imported once, on first use, and kept.
   */
  #verify(message: Uint8Array, signature: Uint8Array): boolean {
    if (ed25519SodiumAccepts(this.#bytes, message, signature)) return true;
    let key = this.#key;
    if (key === undefined) {
      key = ed25519PublicKeyObject(this.#bytes, 'node');
      if (cryptoBackend() === 'node') this.#key = key;
    }
    return ed25519Verify(key, message, signature);
  }

  /** Shows the hex in `console.log` and `util.inspect`. */
  [INSPECT](): string {
    return `ed25519.PublicKey(${this.#hex})`;
  }
}

// ---------- PrivateKey ----------

/**
 * Commonware's test-key seed expansion: rand_core's `SeedableRng::seed_from_u64`, a PCG32 stream
 * whose eight 32-bit outputs (little-endian) form the 32-byte ChaCha20 key of `ChaCha20Rng`.
 */
function seedFromU64(seed: bigint): Uint8Array {
  const MASK = (1n << 64n) - 1n;
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  let state = seed;
  for (let i = 0; i < 8; i++) {
    state = (state * 6364136223846793005n + 11634580027462260723n) & MASK;
    // PCG XSH-RR output of the new state.
    const xorshifted = Number((((state >> 18n) ^ state) >> 27n) & 0xffffffffn) >>> 0;
    const rot = Number(state >> 59n);
    const x = ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
    view.setUint32(i * 4, x, true);
  }
  return out;
}

/** An ed25519 private key (the 32-byte RFC 8032 secret seed) with its public key. */
export class PrivateKey {
  /** Encoded size in bytes. */
  static readonly SIZE = PRIVATE_KEY_SIZE;

  readonly #seed: Uint8Array;
  readonly #key: KeyObject;
  /** The matching public key. */
  readonly publicKey: PublicKey;

  // Instances come only from the factories; `seed` is owned (already copied).
  private constructor(seed: Uint8Array) {
    const pair = ed25519FromSeed(seed);
    this.#seed = seed;
    this.#key = pair.privateKey;
    this.publicKey = PublicKey.fromTrusted(pair.publicKey, undefined);
  }

  /**
   * A fresh key from `rng` (for example `ctx.rng`, which is seeded in the deterministic runtime)
   * or, by default, from the operating system's CSPRNG.
   */
  static generate(rng: RandomSource = OS_RANDOM): PrivateKey {
    const seed = rng.bytes(PRIVATE_KEY_SIZE);
    if (seed.length !== PRIVATE_KEY_SIZE) {
      throw new CryptoError('InvalidLength', 'rng returned the wrong number of bytes');
    }
    return new PrivateKey(seed.slice());
  }

  /**
   * Commonware's deterministic test key `PrivateKey::from_seed(seed)`: the first 32 bytes of
   * `ChaCha20Rng::seed_from_u64(seed)`. Never use these keys outside tests.
   *
   * @param seed - an integer in `[0, 2^64)`
   * @throws {@link CryptoError} `InvalidPrivateKey` if the seed is out of range
   */
  static fromSeed(seed: bigint): PrivateKey {
    if (seed < 0n || seed >= 1n << 64n) {
      throw new CryptoError('InvalidPrivateKey', 'seed must be a u64');
    }
    return new PrivateKey(chacha20Keystream(seedFromU64(seed), PRIVATE_KEY_SIZE).slice());
  }

  /**
   * Imports a 32-byte secret seed (the value {@link PrivateKey.toBytes} returns).
   *
   * @throws {@link CryptoError} `InvalidPrivateKey` if the length is wrong
   */
  static fromBytes(bytes: Uint8Array): PrivateKey {
    if (bytes.length !== PRIVATE_KEY_SIZE) {
      throw new CryptoError(
        'InvalidPrivateKey',
        `private key must be 32 bytes, got ${bytes.length}`,
      );
    }
    return new PrivateKey(bytes.slice());
  }

  /** A copy of the 32-byte secret seed. Treat it as a secret. */
  toBytes(): Uint8Array {
    return this.#seed.slice();
  }

  /** Signs `varint(len(namespace)) || namespace || message`; returns 64 bytes. */
  sign(namespace: Uint8Array, message: Uint8Array): Uint8Array {
    return ed25519Sign(this.#key, unionUnique(namespace, message));
  }

  /** @internal Raw RFC 8032 signature of `message` (no namespace); for test vectors. */
  signRaw(message: Uint8Array): Uint8Array {
    return ed25519Sign(this.#key, message);
  }

  /** Never prints the secret: shows the public key instead. */
  [INSPECT](): string {
    return `ed25519.PrivateKey(${this.publicKey.toHex()})`;
  }

  /** Never prints the secret. */
  toString(): string {
    return this[INSPECT]();
  }
}
