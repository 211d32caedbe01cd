/**
 * The optional native backend: libsodium through the `sodium-native` addon (an optional
 * dependency with prebuilt binaries and no install script).
 *
 * It is loaded lazily, on the first crypto call that could use it, with `createRequire` inside a
 * try/catch: an install without it (unsupported platform, `--omit=optional`, a bundler that drops
 * native addons) simply keeps the node:crypto backend. `AUTHP2P_CRYPTO_BACKEND` chooses
 * explicitly:
 *
 * - unset, empty or `auto`: sodium-native when it loads, node:crypto otherwise;
 * - `node`: node:crypto (plus the portable small-message AEAD) even when sodium-native is
 *   installed;
 * - `sodium-native`: sodium-native, and an error on first use if it cannot be loaded (for CI
 *   that must exercise the native path).
 *
 * Only the functions authp2p calls are typed here. sodium-native 5 accepts any typed array (it
 * checks `ArrayBuffer.isView`), so views over the caller's memory are passed without copies.
 *
 * @internal
 */

import { createRequire } from 'node:module';

/** The slice of the sodium-native API that the backend uses. */
export interface Sodium {
  /** Writes `ct || tag` into `c` (exactly `m.length + 16` bytes); returns bytes written. */
  crypto_aead_chacha20poly1305_ietf_encrypt(
    c: Uint8Array,
    m: Uint8Array,
    ad: Uint8Array | null,
    nsec: null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number;
  /** Writes the plaintext into `m` (exactly `c.length - 16` bytes); throws on a bad tag. */
  crypto_aead_chacha20poly1305_ietf_decrypt(
    m: Uint8Array,
    nsec: null,
    c: Uint8Array,
    ad: Uint8Array | null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number;
  /** Pure Ed25519 signature of `m` into `sig` (64 bytes) with the secret key `seed || pk`. */
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void;
  /** libsodium's (strict) Ed25519 verification. */
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
  /** X25519 public key of the scalar `n` (clamped) into `q`. */
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void;
  /**
   * X25519(`n`, `p`) into `q`; throws when libsodium refuses (a small-order `p`, or an all-zero
   * result).
   */
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
}

/** The backend names {@link loadSodium} understands in `AUTHP2P_CRYPTO_BACKEND`. */
const CHOICES = ['', 'auto', 'node', 'sodium-native'];

// undefined: not tried yet; null: tried, unavailable or disabled.
let loaded: Sodium | null | undefined;

/**
 * sodium-native, or `undefined` when it is unavailable or disabled by
 * `AUTHP2P_CRYPTO_BACKEND=node`. The first call decides; later calls return the same answer.
 *
 * @throws Error if `AUTHP2P_CRYPTO_BACKEND` names an unknown backend, or is `sodium-native` and
 *   the addon cannot be loaded
 */
export function loadSodium(): Sodium | undefined {
  if (loaded === undefined) loaded = tryLoad();
  return loaded ?? undefined;
}

function tryLoad(): Sodium | null {
  const choice = process.env.AUTHP2P_CRYPTO_BACKEND ?? '';
  if (!CHOICES.includes(choice)) {
    throw new Error(`AUTHP2P_CRYPTO_BACKEND=${choice}: expected one of auto, node, sodium-native`);
  }
  if (choice === 'node') return null;
  try {
    const sodium = createRequire(import.meta.url)('sodium-native') as Sodium;
    // A partial or mismatched module must not be half used: check what we call.
    if (
      typeof sodium.crypto_aead_chacha20poly1305_ietf_encrypt !== 'function' ||
      typeof sodium.crypto_sign_verify_detached !== 'function' ||
      typeof sodium.crypto_scalarmult !== 'function' ||
      typeof sodium.crypto_scalarmult_base !== 'function'
    ) {
      throw new Error('sodium-native lacks the expected functions');
    }
    return sodium;
  } catch (cause) {
    if (choice === 'sodium-native') {
      throw new Error('AUTHP2P_CRYPTO_BACKEND=sodium-native but it cannot be loaded', { cause });
    }
    return null;
  }
}
