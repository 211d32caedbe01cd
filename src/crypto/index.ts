/**
 * Cryptography for authp2p: identities, the handshake's building blocks and the transport
 * cipher, ported byte for byte from commonware's `cryptography` crate so that the wire formats
 * match.
 *
 * # Design
 *
 * - {@link ed25519}: identities. `PrivateKey.generate(ctx.rng)`, `PrivateKey.fromSeed(1n)`
 *   (commonware's deterministic test keys), namespaced `sign(namespace, message)` /
 *   `verify(namespace, message, signature)` over `varint(len(ns)) || ns || message`.
 * - {@link x25519}: single-use ephemeral Diffie-Hellman that refuses non-contributory
 *   (low-order) peer points.
 * - {@link Cipher}: ChaCha20-Poly1305 with a little-endian 96-bit counter nonce, fatal on the
 *   first authentication failure, refusing to wrap at 2^96.
 * - {@link Transcript}: the BLAKE3 transcript that binds the handshake and yields its keys.
 *
 * All primitives sit behind one small backend module. By default they come from node:crypto
 * (OpenSSL), except BLAKE3 (@noble/hashes; Node has none) and a portable ChaCha20-Poly1305 used
 * for short messages because it is several times cheaper per call than OpenSSL's for them. When
 * the optional dependency `sodium-native` is installed (prebuilt binaries, no install script),
 * libsodium takes ChaCha20-Poly1305 up to 16 KiB (~0.6 us per call) and ed25519 signing and
 * verification (2x OpenSSL); outputs are byte-identical and the verification rule stays
 * OpenSSL's (below). `AUTHP2P_CRYPTO_BACKEND=node` keeps node:crypto even when it is installed.
 * Library code never reads ambient randomness: generators take a `{ bytes(n) }` source such as
 * `ctx.rng`, defaulting to the OS CSPRNG only when none is given.
 *
 * # Security
 *
 * Ed25519 verification is OpenSSL's RFC 8032 check (cofactorless, canonical S), where commonware
 * applies ZIP-215. With sodium-native, libsodium verifies first and only its refusals are
 * re-checked by OpenSSL (libsodium also refuses small-order keys and `R`), so the verdict is the
 * same whichever backend is installed. Both accept every honestly produced signature; they can disagree only on
 * crafted signatures with small-order or non-canonical components, which matters for consensus
 * between many verifiers but not for authenticating a peer to one listener.
 *
 * @example
 * ```ts
 * import { ed25519 } from 'authp2p/crypto';
 * const key = ed25519.PrivateKey.fromSeed(1n);
 * const ns = new TextEncoder().encode('my-app');
 * const msg = new TextEncoder().encode('hello');
 * const sig = key.sign(ns, msg);
 * key.publicKey.verify(ns, msg, sig); // true
 * key.publicKey.toHex(); // '478b8e50...'
 * ```
 *
 * @module authp2p/crypto
 */

export { cryptoBackend, type RandomSource } from './backend.js';
export { Cipher, type CipherOptions, KEY_SIZE, TAG_SIZE } from './cipher.js';
export * as ed25519 from './ed25519.js';
export { CryptoError, type CryptoErrorCode } from './errors.js';
export { unionUnique } from './namespace.js';
export {
  NoiseReader,
  SUMMARY_SIZE,
  signSummary,
  Transcript,
  TranscriptTag,
  verifySummary,
} from './transcript.js';
export * as x25519 from './x25519.js';
