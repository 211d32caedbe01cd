/**
 * The crypto backend: the one module that talks to node:crypto and to the optional native addon
 * sodium-native (and the only place in `src/crypto` allowed to draw OS randomness). Everything
 * above it deals in `Uint8Array`s and key classes, so the backend is a decision of this file
 * alone; {@link cryptoBackend} reports it.
 *
 * Two backends, both byte-identical on every output (RFC 8439, RFC 8032):
 *
 * - `sodium-native` (default when the optional dependency loads, see `_sodium.ts`): libsodium
 *   for ChaCha20-Poly1305 up to {@link SODIUM_AEAD_MAX} (~0.6 us per call against OpenSSL's
 *   ~5 us) and OpenSSL above it (faster per byte), libsodium for ed25519 signing (2x OpenSSL)
 *   and for verifying honest signatures (2x OpenSSL), with OpenSSL's rule kept exactly (see
 *   {@link ed25519Verify}).
 * - `node`: OpenSSL for everything, except ChaCha20-Poly1305 of short messages, which goes to
 *   the portable implementation in `_chacha20poly1305.ts` because OpenSSL's per-call overhead
 *   dwarfs the work; the threshold {@link PORTABLE_AEAD_MAX} was chosen by measurement (see
 *   bench/crypto.ts).
 *
 * X25519 is libsodium's in `sodium-native` and OpenSSL's in `node` (same outputs, same refusals).
 *
 * Memory: a connection must not keep native objects alive after its handshake. OpenSSL keys are
 * KeyObjects whose EVP_PKEY (and the allocations of importing it) live until V8 collects the
 * wrapper, which for an object promoted during a handshake means the next full GC; thousands of
 * handshakes then leave malloc holding scattered OpenSSL allocations. So with libsodium the
 * per-handshake X25519 keys are plain bytes (no KeyObject at all), and a peer's ed25519 public
 * key gets a KeyObject only when OpenSSL must judge a signature libsodium refused
 * ({@link ed25519SodiumAccepts}).
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
import { loadSodium, type Sodium } from './_sodium.js';
import { CryptoError } from './errors.js';

// ---------- Randomness ----------

/** A source of random bytes: `ctx.rng` from the runtime fits, as does `OS_RANDOM`. */
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

/** The implementations of ed25519 signing and verification. */
export type SignatureImpl = 'sodium-native' | 'node';

/** An imported ed25519 private key and its raw public key. */
export interface Ed25519KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
}

// libsodium works on raw bytes, the rest of the code holds KeyObjects: keys imported for
// libsodium remember their bytes here (weakly, so they go when the KeyObject goes). A KeyObject
// absent from these maps is served by OpenSSL.
const SODIUM_SECRET = new WeakMap<KeyObject, Uint8Array>();
const SODIUM_PUBLIC = new WeakMap<KeyObject, Uint8Array>();

/** The signature implementation used when none is named: libsodium when it is loaded. */
function defaultSignatureImpl(): SignatureImpl {
  return loadSodium() === undefined ? 'node' : 'sodium-native';
}

function requireSodium(): Sodium {
  const sodium = loadSodium();
  if (sodium === undefined) throw new Error('the sodium-native backend is not available');
  return sodium;
}

/**
 * Imports a 32-byte ed25519 secret seed (RFC 8032) and derives its public key. With
 * `sodium-native` the key also signs with libsodium (2x faster than OpenSSL, same bytes: RFC 8032
 * signatures are deterministic); the KeyObject is still made so that either backend can use it.
 */
export function ed25519FromSeed(
  seed: Uint8Array,
  impl: SignatureImpl = defaultSignatureImpl(),
): Ed25519KeyPair {
  const privateKey = privateFromRaw('Ed25519', ED25519_PKCS8_PREFIX, seed);
  const publicKey = rawPublicOf(privateKey);
  if (impl === 'sodium-native') {
    requireSodium();
    // libsodium's 64-byte secret key is `seed || publicKey` (what crypto_sign_seed_keypair
    // builds, 14 us slower than reusing the public key OpenSSL has just derived).
    const secret = new Uint8Array(64);
    secret.set(seed, 0);
    secret.set(publicKey, 32);
    SODIUM_SECRET.set(privateKey, secret);
  }
  return { privateKey, publicKey };
}

/**
 * Imports raw public-key bytes. JWK is used because it is ~15x cheaper than DER/SPKI import
 * (5 us against 75 us measured). OpenSSL does not validate the point here; callers validate.
 * With `sodium-native` the bytes are kept (not copied: callers pass immutable bytes) for
 * libsodium's verification.
 */
export function ed25519PublicKeyObject(
  raw: Uint8Array,
  impl: SignatureImpl = defaultSignatureImpl(),
): KeyObject {
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: b64url(raw) },
    format: 'jwk',
  });
  if (impl === 'sodium-native') {
    requireSodium();
    SODIUM_PUBLIC.set(key, raw);
  }
  return key;
}

/** Pure ed25519 (RFC 8032, no prehash, no context) over `message`. Returns the 64-byte signature. */
export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  const secret = SODIUM_SECRET.get(privateKey);
  if (secret !== undefined) {
    const sig = new Uint8Array(64);
    (loadSodium() as Sodium).crypto_sign_detached(sig, message, secret);
    return sig;
  }
  const sig = nodeSign(null, message, privateKey);
  return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
}

/**
 * Verifies a pure ed25519 signature; any backend complaint counts as "invalid".
 *
 * The rule is OpenSSL's whichever backend runs (RFC 8032, cofactorless, canonical `S`; the
 * documented rule of authp2p). libsodium accepts a strict subset of what OpenSSL accepts: it
 * also refuses small-order or non-canonical `A` and small-order `R`. So libsodium's "valid" is
 * final, and only its "invalid" is re-checked with OpenSSL. Honest signatures take the fast path;
 * a bad signature (which ends its handshake anyway) costs both.
 */
export function ed25519Verify(
  publicKey: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== 64) return false;
  const raw = SODIUM_PUBLIC.get(publicKey);
  if (
    raw !== undefined &&
    (loadSodium() as Sodium).crypto_sign_verify_detached(signature, message, raw)
  ) {
    return true;
  }
  try {
    return nodeVerify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}

/**
 * True when libsodium (the default backend) accepts the signature of `raw` over `message`; false
 * when libsodium is not the backend or refuses it, and the caller must ask {@link ed25519Verify}
 * (OpenSSL's rule is final, see there). Lets a public key skip importing a KeyObject for the
 * honest case: `raw` is 32 bytes, `signature` 64.
 */
export function ed25519SodiumAccepts(
  raw: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const sodium = loadSodium();
  return (
    sodium !== undefined &&
    signature.length === 64 &&
    sodium.crypto_sign_verify_detached(signature, message, raw)
  );
}

/** @internal libsodium's own verdict, without the OpenSSL re-check; for tests of the rule. */
export function ed25519VerifySodiumOnly(
  raw: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  return (
    signature.length === 64 && requireSodium().crypto_sign_verify_detached(signature, message, raw)
  );
}

// ---------- X25519 ----------

/** An imported X25519 private scalar and its raw public key. */
export interface X25519KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
}

/** Imports 32 raw secret bytes as an X25519 scalar in OpenSSL (clamped on use, RFC 7748). */
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

/** The implementations of X25519. */
export type X25519Impl = 'sodium-native' | 'node';

/** The X25519 implementations usable in this process (for tests and benchmarks). */
export function availableX25519Impls(): X25519Impl[] {
  return loadSodium() === undefined ? ['node'] : ['sodium-native', 'node'];
}

/**
 * An X25519 secret as its implementation holds it: the scalar bytes for libsodium (in an
 * ArrayBuffer of their own, off the V8 heap, so no GC ever copies them), a KeyObject for OpenSSL.
 */
export type X25519Secret = Uint8Array | KeyObject;

/**
 * Takes 32 secret bytes as an X25519 scalar (clamped on use, RFC 7748) and computes its public
 * key. With libsodium the scalar is copied; the caller wipes `secret` either way.
 */
export function x25519Secret(
  secret: Uint8Array,
  impl: X25519Impl = loadSodium() === undefined ? 'node' : 'sodium-native',
): { readonly secret: X25519Secret; readonly publicKey: Uint8Array } {
  if (impl === 'node') {
    const pair = x25519FromSecret(secret);
    return { secret: pair.privateKey, publicKey: pair.publicKey };
  }
  const sodium = requireSodium();
  if (secret.length !== 32) throw new CryptoError('InvalidLength', 'scalar must be 32 bytes');
  const scalar = new Uint8Array(new ArrayBuffer(32));
  scalar.set(secret);
  const publicKey = new Uint8Array(32);
  sodium.crypto_scalarmult_base(publicKey, scalar);
  return { secret: scalar, publicKey };
}

/**
 * X25519(secret, peer) with the secret's implementation; a libsodium scalar is wiped afterwards
 * (an ephemeral secret serves one exchange). Throws `NonContributory` for what either library
 * refuses (every low-order point, including non-canonical encodings) and for an all-zero result.
 */
export function x25519Agree(secret: X25519Secret, peer: Uint8Array): Uint8Array {
  if (!(secret instanceof Uint8Array)) return x25519(secret, peer);
  const shared = new Uint8Array(32);
  try {
    (loadSodium() as Sodium).crypto_scalarmult(shared, secret, peer);
  } catch (cause) {
    throw new CryptoError('NonContributory', 'X25519 rejected the peer point', { cause });
  } finally {
    secret.fill(0);
  }
  let acc = 0;
  for (let i = 0; i < 32; i++) acc |= shared[i]!;
  if (acc === 0) throw new CryptoError('NonContributory', 'X25519 shared secret is all zero');
  return shared;
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
 * The AEAD implementations. `node` is OpenSSL with the portable code below
 * {@link PORTABLE_AEAD_MAX}; `sodium-native` is libsodium up to {@link SODIUM_AEAD_MAX} and
 * OpenSSL above; `portable` (tests and benchmarks only) is the TypeScript code at every size.
 */
export type AeadImpl = 'sodium-native' | 'node' | 'portable';

/**
 * Largest message (plaintext or ciphertext without tag) sealed or opened by the portable code
 * in the `node` backend; above it OpenSSL is faster. Measured crossover on the reference machine:
 * ~600 bytes.
 */
export const PORTABLE_AEAD_MAX = 512;

/**
 * Largest message sealed or opened by libsodium in the `sodium-native` backend. libsodium costs
 * ~0.6 us per call against OpenSSL's ~5 us, but OpenSSL is faster per byte (AVX-512 / AVX2
 * ChaCha20 and Poly1305), so long messages still go to OpenSSL. Measured crossover on the
 * reference machine: see bench/crypto.ts.
 */
export const SODIUM_AEAD_MAX = 16 * 1024;

// The portable code writes keystream words through a Uint8Array view: little-endian only.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The AEAD implementation used when none is named: libsodium when it is loaded. */
function defaultAeadImpl(): AeadImpl {
  return loadSodium() === undefined ? 'node' : 'sodium-native';
}

/** The AEAD implementations usable in this process (for tests and benchmarks). */
export function availableAeadImpls(): AeadImpl[] {
  return loadSodium() === undefined ? ['node', 'portable'] : ['sodium-native', 'node', 'portable'];
}

/** The signature implementations usable in this process (for tests and benchmarks). */
export function availableSignatureImpls(): SignatureImpl[] {
  return loadSodium() === undefined ? ['node'] : ['sodium-native', 'node'];
}

/**
 * The backend that serves the AEAD and signatures by default: `'sodium-native'` when the
 * optional native addon is installed and not disabled with `AUTHP2P_CRYPTO_BACKEND=node`,
 * otherwise `'node'` (node:crypto plus the portable small-message AEAD). For diagnostics.
 */
export function cryptoBackend(): 'sodium-native' | 'node' {
  return loadSodium() === undefined ? 'node' : 'sodium-native';
}

/** An AEAD key prepared for its implementation. */
export class AeadKey {
  /**
   * The key for OpenSSL and libsodium. Its own allocation (or a 32-byte view of `storage` given
   * to the constructor: memory that only keys share), never a slice of Node's shared Buffer
   * pool, so no other buffer's `.buffer` can reach it.
   */
  readonly raw: Buffer;
  // The key as words for the portable code; made on first use, since a key that libsodium
  // serves never needs them and every connection holds two keys.
  #words: Int32Array | undefined;
  /** Which implementation serves this key. */
  readonly impl: AeadImpl;
  /** Messages up to this length go to the portable code (-1: none). */
  readonly portableMax: number;
  /** Messages longer than {@link AeadKey.portableMax} and up to this go to libsodium (-1: none). */
  readonly sodiumMax: number;

  /**
   * @param key - 32 bytes; copied
   * @param impl - default: libsodium when loaded, else node:crypto
   * @param storage - where to copy the key: 32 bytes of an allocation that holds nothing but
   *   keys (a session's two directions share one); default its own
   * @throws Error if `impl` is `sodium-native` and it is not available
   */
  constructor(key: Uint8Array, impl: AeadImpl = defaultAeadImpl(), storage?: Buffer) {
    if (key.length !== 32) throw new CryptoError('InvalidLength', 'AEAD key must be 32 bytes');
    if (storage !== undefined && storage.length !== 32) {
      throw new CryptoError('InvalidLength', 'AEAD key storage must be 32 bytes');
    }
    this.raw = storage ?? Buffer.alloc(32);
    this.raw.set(key);
    this.impl = impl;
    if (impl === 'sodium-native') requireSodium();
    this.portableMax = !LITTLE_ENDIAN
      ? -1
      : impl === 'portable'
        ? Number.MAX_SAFE_INTEGER
        : impl === 'node'
          ? PORTABLE_AEAD_MAX
          : -1;
    this.sodiumMax = impl === 'sodium-native' ? SODIUM_AEAD_MAX : -1;
  }

  /** The key as eight little-endian words for the portable code. */
  get words(): Int32Array {
    this.#words ??= portable.keyWords(this.raw);
    return this.#words;
  }
}

// Scratch nonce for OpenSSL and libsodium calls (single-threaded: no reentrancy). Written through
// a DataView: Buffer.writeUInt32LE range-checks every call, which showed in receive profiles.
const NONCE = new Uint8Array(new ArrayBuffer(12));
const NONCE_VIEW = new DataView(NONCE.buffer);
const EMPTY = new Uint8Array(0);

function setNonce(n0: number, n1: number, n2: number): Uint8Array {
  NONCE_VIEW.setUint32(0, n0, true);
  NONCE_VIEW.setUint32(4, n1, true);
  NONCE_VIEW.setUint32(8, n2, true);
  return NONCE;
}

// ---------- Output allocation ----------

/**
 * Every output handed to a caller owns its memory: its `.buffer` holds its own bytes and nothing
 * else, so no caller can reach another message's plaintext through it, and keeping one message
 * alive keeps only that message. (A shared slab, as Node's Buffer pool, would expose every other
 * output carved from it.)
 *
 * Outputs up to this size are made with `slice()` of a private scratch: V8 keeps a typed array of
 * at most 64 bytes inside its own heap object, which costs about as much as a slab slice, where a
 * fresh backing store costs ~0.5 us more (measured). Native code cannot write into such an array
 * without V8 first moving it off the heap (as costly again), so libsodium writes into the scratch
 * and the result is copied out. Callers that keep a view of part of a small output should copy
 * that part with `slice()` too: `subarray()` of an on-heap array makes V8 move it off the heap.
 */
export const ON_HEAP_MAX = 64;

// The scratch: an explicit ArrayBuffer (always off-heap), one view per length. Never handed out.
const OUT_BUFFER = new ArrayBuffer(ON_HEAP_MAX);
const OUT: Uint8Array[] = Array.from(
  { length: ON_HEAP_MAX + 1 },
  (_, n) => new Uint8Array(OUT_BUFFER, 0, n),
);

/**
 * A private scratch of `n <= ON_HEAP_MAX` bytes for an output that is then copied out with
 * `slice()`; overwritten by the next call. Single-threaded: valid until the next AEAD call.
 */
export function outputScratch(n: number): Uint8Array {
  const view = OUT[n];
  if (view === undefined) throw new RangeError(`scratch holds at most ${ON_HEAP_MAX} bytes`);
  return view;
}

/**
 * A `Uint8Array` of `n` bytes in an allocation of its own, off the V8 heap (so native code can
 * write into it at once) and uninitialised: the caller overwrites it entirely.
 */
export function allocOwned(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

// ---------- Per-implementation seal/open ----------

/**
 * Inputs up to this size are copied into {@link SMALL} before going to libsodium. V8 keeps a
 * `new Uint8Array(n)` of at most 64 bytes on its heap, and the first time native code asks for
 * its memory V8 moves it off-heap: ~0.5 us, as much as the whole seal. Short messages are often
 * such fresh arrays; the copy costs a few nanoseconds.
 */
const SMALL_MAX = 64;
// An explicit ArrayBuffer is always off-heap. One view per length, so no per-call subarray.
const SMALL_BUFFER = new ArrayBuffer(SMALL_MAX);
const SMALL: Uint8Array[] = Array.from(
  { length: SMALL_MAX + 1 },
  (_, n) => new Uint8Array(SMALL_BUFFER, 0, n),
);

/** `input`, or its copy in off-heap scratch if it is short (see {@link SMALL_MAX}). */
function offHeap(input: Uint8Array): Uint8Array {
  const n = input.length;
  if (n > SMALL_MAX) return input;
  const view = SMALL[n]!;
  view.set(input);
  return view;
}

/**
 * OpenSSL seal: writes `ct || tag` into `out` at `off`. Node's `Cipher.update` has no output
 * argument and always returns a new Buffer, so the ciphertext is copied once into `out` (~4% of
 * a 64 KiB seal, measured); `final()` returns nothing for a stream cipher and is not copied.
 */
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
    out.set(c.update(pt), off);
    c.final();
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

/**
 * libsodium seal: writes `ct || tag` straight into `out` at `off` (a view, no copy). Same
 * contract as {@link sealOpenSsl}.
 *
 * @throws Error if sodium-native is not available
 */
export function sealSodium(
  key: AeadKey,
  n0: number,
  n1: number,
  n2: number,
  aad: Uint8Array,
  pt: Uint8Array,
  out: Uint8Array,
  off: number,
): void {
  const sodium = requireSodium();
  const c = out.subarray(off, off + pt.length + TAG_SIZE);
  try {
    sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
      c,
      offHeap(pt),
      aad.length > 0 ? aad : null,
      null,
      setNonce(n0, n1, n2),
      key.raw,
    );
  } catch (cause) {
    throw new CryptoError('EncryptionFailed', 'ChaCha20-Poly1305 seal failed', { cause });
  }
}

/**
 * libsodium open into a buffer of the plaintext's own (see {@link ON_HEAP_MAX}). Same contract
 * as {@link openOpenSsl}.
 *
 * @throws Error if sodium-native is not available
 */
export function openSodium(
  key: AeadKey,
  n0: number,
  n1: number,
  n2: number,
  aad: Uint8Array,
  ctAndTag: Uint8Array,
): Uint8Array | undefined {
  const sodium = requireSodium();
  const len = ctAndTag.length - TAG_SIZE;
  if (len < 0) return undefined;
  const small = len <= ON_HEAP_MAX;
  const pt = small ? OUT[len]! : allocOwned(len);
  try {
    // libsodium checks the tag before decrypting and writes nothing on failure.
    sodium.crypto_aead_chacha20poly1305_ietf_decrypt(
      pt,
      null,
      offHeap(ctAndTag),
      aad.length > 0 ? aad : null,
      setNonce(n0, n1, n2),
      key.raw,
    );
  } catch {
    return undefined;
  }
  return small ? pt.slice() : pt;
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

// ---------- Dispatch ----------

/**
 * ChaCha20-Poly1305 seal with the 96-bit nonce given as three little-endian u32 words
 * (`n0` holds nonce bytes 0..3), by the key's implementation and the message size. Writes
 * `ct || tag` (`pt.length + 16` bytes) into `out` at `off`; `out` must not overlap `pt`.
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
  const len = pt.length;
  if (len <= key.portableMax) {
    portable.seal(key.words, n0, n1, n2, pt, aad, out, off);
  } else if (len <= key.sodiumMax) {
    sealSodium(key, n0, n1, n2, aad, pt, out, off);
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
  const len = ctAndTag.length - TAG_SIZE;
  if (len < 0) return undefined;
  if (len <= key.portableMax) return portable.open(key.words, n0, n1, n2, ctAndTag, aad);
  if (len <= key.sodiumMax) return openSodium(key, n0, n1, n2, aad, ctAndTag);
  return openOpenSsl(key, n0, n1, n2, aad, ctAndTag);
}

/** Splits a 12-byte nonce into the three little-endian words the AEAD functions take. */
export function nonceWords(nonce: Uint8Array): [number, number, number] {
  if (nonce.length !== 12) throw new CryptoError('InvalidLength', 'nonce must be 12 bytes');
  const w = (i: number): number =>
    (nonce[i]! | (nonce[i + 1]! << 8) | (nonce[i + 2]! << 16) | (nonce[i + 3]! << 24)) >>> 0;
  return [w(0), w(4), w(8)];
}
