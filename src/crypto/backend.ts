/**
 * The crypto backend: the one module that talks to node:crypto (and the only place in `src/crypto`
 * allowed to draw OS randomness). Everything above it deals in `Uint8Array`s and key classes, so
 * swapping the backend (for a native addon, say) is a change to this file alone.
 *
 * AEAD dispatch: ChaCha20-Poly1305 goes to OpenSSL for large messages and to the portable
 * implementation in `_chacha20poly1305.ts` for small ones, because OpenSSL's per-call overhead
 * (~5 us on the reference machine) dwarfs the work for short frames. Both are byte-identical;
 * the threshold {@link PORTABLE_AEAD_MAX} was chosen by measurement (see bench/crypto.ts).
 *
 * @internal
 */

import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  randomBytes as osRandomBytes,
} from 'node:crypto';
import * as portable from './_chacha20poly1305.js';
import { CryptoError } from './errors.js';

// ---------- Randomness ----------

/** A source of random bytes: `ctx.rng` from the runtime fits, as does {@link OS_RANDOM}. */
export interface RandomSource {
  /** `n` fresh random bytes. */
  bytes(n: number): Uint8Array;
}

/** The operating system's CSPRNG. */
export const OS_RANDOM: RandomSource = {
  bytes(n: number): Uint8Array {
    const b = osRandomBytes(n);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
};

// ---------- Key import helpers ----------

// PKCS#8 DER prefixes for a raw 32-byte private key (RFC 8410), the fallback import path.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
// JWK requires an `x` member, but Node builds the key from `d` alone (OpenSSL derives the public
// point itself), so a placeholder is enough; the real public key is read back from the KeyObject.
const PLACEHOLDER_X = Buffer.alloc(32).toString('base64url');

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function fromB64url(s: string): Uint8Array {
  const b = Buffer.from(s, 'base64url');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Imports a raw private key. JWK import costs ~80 us against ~1 ms for PKCS#8 DER (OpenSSL 3's
 * decoder machinery), which matters for the per-handshake ephemeral X25519 key. Should a Node
 * version ever insist that `x` match `d`, the DER path keeps working.
 */
function privateFromRaw(crv: 'Ed25519' | 'X25519', prefix: Buffer, secret: Uint8Array): KeyObject {
  try {
    return createPrivateKey({
      key: { kty: 'OKP', crv, d: b64url(secret), x: PLACEHOLDER_X },
      format: 'jwk',
    });
  } catch {
    const der = Buffer.allocUnsafe(prefix.length + 32);
    prefix.copy(der, 0);
    der.set(secret, prefix.length);
    try {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0);
    }
  }
}

function rawPublicOf(key: KeyObject): Uint8Array {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new CryptoError('InvalidPrivateKey', 'no public point');
  return fromB64url(jwk.x);
}

// ---------- Ed25519 ----------

/** An imported ed25519 private key and its raw public key. */
export interface Ed25519KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
}

/** Imports a 32-byte ed25519 secret seed (RFC 8032) and derives its public key. */
export function ed25519FromSeed(seed: Uint8Array): Ed25519KeyPair {
  const privateKey = privateFromRaw('Ed25519', ED25519_PKCS8_PREFIX, seed);
  return { privateKey, publicKey: rawPublicOf(privateKey) };
}

/**
 * Imports raw public-key bytes. JWK is used because it is ~15x cheaper than DER/SPKI import
 * (5 us against 75 us measured). OpenSSL does not validate the point here; callers validate.
 */
export function ed25519PublicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(raw) }, format: 'jwk' });
}

/** Pure ed25519 (RFC 8032, no prehash, no context) over `message`. Returns the 64-byte signature. */
export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  const sig = nodeSign(null, message, privateKey);
  return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
}

/** Verifies a pure ed25519 signature; any backend complaint counts as "invalid". */
export function ed25519Verify(
  publicKey: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== 64) return false;
  try {
    return nodeVerify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}

// ---------- X25519 ----------

/** An imported X25519 private scalar and its raw public key. */
export interface X25519KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
}

/** Imports 32 raw secret bytes as an X25519 scalar (clamped by OpenSSL, RFC 7748). */
export function x25519FromSecret(secret: Uint8Array): X25519KeyPair {
  const privateKey = privateFromRaw('X25519', X25519_PKCS8_PREFIX, secret);
  return { privateKey, publicKey: rawPublicOf(privateKey) };
}

/**
 * X25519(privateKey, peer). Throws `NonContributory` if OpenSSL refuses the point (it does for
 * every low-order input, ERR_OSSL_FAILED_DURING_DERIVATION) or the result is all zero.
 */
export function x25519(privateKey: KeyObject, peer: Uint8Array): Uint8Array {
  let shared: Buffer;
  try {
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: b64url(peer) },
      format: 'jwk',
    });
    shared = diffieHellman({ privateKey, publicKey });
  } catch (cause) {
    throw new CryptoError('NonContributory', 'X25519 rejected the peer point', { cause });
  }
  let acc = 0;
  for (let i = 0; i < shared.length; i++) acc |= shared[i]!;
  if (acc === 0) throw new CryptoError('NonContributory', 'X25519 shared secret is all zero');
  return new Uint8Array(shared.buffer, shared.byteOffset, shared.byteLength);
}

// ---------- ChaCha20 (test-key derivation) ----------

/** The first `n` bytes of the ChaCha20 keystream for `key` with block counter 0 and zero nonce. */
export function chacha20Keystream(key: Uint8Array, n: number): Uint8Array {
  // OpenSSL's 16-byte chacha20 IV is counter (4 bytes LE) || nonce (12 bytes): all zero here.
  const c = createCipheriv('chacha20', key, Buffer.alloc(16));
  const out = c.update(Buffer.alloc(n));
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

// ---------- ChaCha20-Poly1305 ----------

/** The AEAD tag length in bytes. */
export const TAG_SIZE = 16;

/**
 * Largest message (plaintext or ciphertext without tag) sealed or opened by the portable code;
 * above it OpenSSL is faster. Measured crossover on the reference machine: ~600 bytes.
 */
export const PORTABLE_AEAD_MAX = 512;

// The portable code writes keystream words through a Uint8Array view: little-endian only.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** An AEAD key prepared for both implementations. */
export class AeadKey {
  /** The key for OpenSSL. */
  readonly raw: Buffer;
  /** The key as eight little-endian words for the portable code. */
  readonly words: Int32Array;

  /** @param key - 32 bytes; copied */
  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new CryptoError('InvalidLength', 'AEAD key must be 32 bytes');
    this.raw = Buffer.from(key);
    this.words = portable.keyWords(key);
  }
}

// Scratch nonce for OpenSSL calls (single-threaded: no reentrancy).
const NONCE = Buffer.alloc(12);
const EMPTY = new Uint8Array(0);

function setNonce(n0: number, n1: number, n2: number): Buffer {
  NONCE.writeUInt32LE(n0 >>> 0, 0);
  NONCE.writeUInt32LE(n1 >>> 0, 4);
  NONCE.writeUInt32LE(n2 >>> 0, 8);
  return NONCE;
}

/** OpenSSL seal: writes `ct || tag` into `out` at `off`. */
export function sealOpenSsl(
  key: AeadKey,
  n0: number,
  n1: number,
  n2: number,
  aad: Uint8Array,
  pt: Uint8Array,
  out: Uint8Array,
  off: number,
): void {
  try {
    const c = createCipheriv('chacha20-poly1305', key.raw, setNonce(n0, n1, n2), {
      authTagLength: TAG_SIZE,
    });
    if (aad.length > 0) c.setAAD(aad, { plaintextLength: pt.length });
    const ct = c.update(pt);
    out.set(ct, off);
    const rest = c.final();
    if (rest.length > 0) out.set(rest, off + ct.length);
    out.set(c.getAuthTag(), off + pt.length);
  } catch (cause) {
    throw new CryptoError('EncryptionFailed', 'ChaCha20-Poly1305 seal failed', { cause });
  }
}

/** OpenSSL open: the plaintext, or `undefined` if authentication fails. */
export function openOpenSsl(
  key: AeadKey,
  n0: number,
  n1: number,
  n2: number,
  aad: Uint8Array,
  ctAndTag: Uint8Array,
): Uint8Array | undefined {
  const len = ctAndTag.length - TAG_SIZE;
  if (len < 0) return undefined;
  try {
    const d = createDecipheriv('chacha20-poly1305', key.raw, setNonce(n0, n1, n2), {
      authTagLength: TAG_SIZE,
    });
    d.setAuthTag(ctAndTag.subarray(len));
    if (aad.length > 0) d.setAAD(aad, { plaintextLength: len });
    const pt = d.update(ctAndTag.subarray(0, len));
    d.final(); // throws on a bad tag
    return new Uint8Array(pt.buffer, pt.byteOffset, pt.byteLength);
  } catch {
    return undefined;
  }
}

/** Portable seal (any size; meant for short messages). Same contract as {@link sealOpenSsl}. */
export function sealPortable(
  key: AeadKey,
  n0: number,
  n1: number,
  n2: number,
  aad: Uint8Array,
  pt: Uint8Array,
  out: Uint8Array,
  off: number,
): void {
  portable.seal(key.words, n0, n1, n2, pt, aad, out, off);
}

/** Portable open (any size; meant for short messages). Same contract as {@link openOpenSsl}. */
export function openPortable(
  key: AeadKey,
  n0: number,
  n1: number,
  n2: number,
  aad: Uint8Array,
  ctAndTag: Uint8Array,
): Uint8Array | undefined {
  if (ctAndTag.length < TAG_SIZE) return undefined;
  return portable.open(key.words, n0, n1, n2, ctAndTag, aad);
}

/**
 * ChaCha20-Poly1305 seal with the 96-bit nonce given as three little-endian u32 words
 * (`n0` holds nonce bytes 0..3). Writes `ct || tag` (`pt.length + 16` bytes) into `out` at `off`.
 */
export function aeadSeal(
  key: AeadKey,
  n0: number,
  n1: number,
  n2: number,
  pt: Uint8Array,
  out: Uint8Array,
  off: number,
  aad: Uint8Array = EMPTY,
): void {
  if (LITTLE_ENDIAN && pt.length <= PORTABLE_AEAD_MAX) {
    portable.seal(key.words, n0, n1, n2, pt, aad, out, off);
  } else {
    sealOpenSsl(key, n0, n1, n2, aad, pt, out, off);
  }
}

/** ChaCha20-Poly1305 open; the plaintext, or `undefined` when authentication fails. */
export function aeadOpen(
  key: AeadKey,
  n0: number,
  n1: number,
  n2: number,
  ctAndTag: Uint8Array,
  aad: Uint8Array = EMPTY,
): Uint8Array | undefined {
  if (ctAndTag.length < TAG_SIZE) return undefined;
  if (LITTLE_ENDIAN && ctAndTag.length - TAG_SIZE <= PORTABLE_AEAD_MAX) {
    return portable.open(key.words, n0, n1, n2, ctAndTag, aad);
  }
  return openOpenSsl(key, n0, n1, n2, aad, ctAndTag);
}

/** Splits a 12-byte nonce into the three little-endian words the AEAD functions take. */
export function nonceWords(nonce: Uint8Array): [number, number, number] {
  if (nonce.length !== 12) throw new CryptoError('InvalidLength', 'nonce must be 12 bytes');
  const w = (i: number): number =>
    (nonce[i]! | (nonce[i + 1]! << 8) | (nonce[i + 2]! << 16) | (nonce[i + 3]! << 24)) >>> 0;
  return [w(0), w(4), w(8)];
}
