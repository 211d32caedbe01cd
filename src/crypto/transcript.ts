/**
 * The handshake transcript: a port of commonware's `cryptography/src/transcript.rs` (framing
 * `Version::V0`), byte-exact because both peers must derive the same keys and confirmations.
 *
 * A transcript is a BLAKE3 hasher plus a count of `pending` bytes. Data is absorbed in
 * packets: {@link Transcript.append} adds bytes to the current packet and
 * {@link Transcript.commit} adds its bytes and then closes the packet by absorbing the unsigned
 * LEB128 varint of the packet's total length. Because every packet carries its length, two
 * different packet sequences can never absorb the same byte string.
 *
 * Each hasher starts by absorbing one tag byte saying how it was made:
 * `New = 0` (fresh, unkeyed), `Resume = 1` (keyed with a summary), `Fork = 2` (a child keyed
 * with the parent's summary), `Noise = 3` (an XOF keyed with the summary, used as key material).
 *
 * - `Transcript.new(ns)`: unkeyed BLAKE3, absorb `00`, then `commit(ns)`.
 * - `summarize()`: the 32-byte BLAKE3 digest, computed on a copy that first closes any
 *   pending packet; the transcript itself is unchanged.
 * - `fork(label)`: BLAKE3 keyed with `summarize()`, absorb `02`, then `commit(label)`.
 * - `noise(label)`: BLAKE3 keyed with `summarize()`, absorb `03`, then `commit(label)`, then
 *   read the XOF output stream.
 *
 * @module
 */

import { blake3 } from '@noble/hashes/blake3.js';
import type { PrivateKey, PublicKey } from './ed25519.js';
import { CryptoError } from './errors.js';

/** The first byte absorbed by every transcript hasher, naming how it was started. */
export const TranscriptTag = { New: 0, Resume: 1, Fork: 2, Noise: 3 } as const;
/** One of {@link TranscriptTag}'s values. */
export type TranscriptTag = (typeof TranscriptTag)[keyof typeof TranscriptTag];

/** Size of a {@link Transcript.summarize} digest. */
export const SUMMARY_SIZE = 32;

type Hasher = ReturnType<typeof blake3.create>;

const EMPTY = new Uint8Array(0);

/** Unsigned LEB128 of a non-negative safe integer (u64 varint; lengths fit far below 2^53). */
function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

/** A reader over a BLAKE3 XOF stream (what {@link Transcript.noise} returns). */
export class NoiseReader {
  readonly #hasher: Hasher;

  /** @internal */
  constructor(hasher: Hasher) {
    this.#hasher = hasher;
  }

  /** The next `n` bytes of the stream. */
  bytes(n: number): Uint8Array {
    return this.#hasher.xof(n);
  }

  /** Fills `buf` with the next bytes of the stream and returns it. */
  fill(buf: Uint8Array): Uint8Array {
    this.#hasher.xofInto(buf);
    return buf;
  }
}

/** A BLAKE3 transcript (framing version V0). */
export class Transcript {
  readonly #hasher: Hasher;
  #pending = 0;
  /**
   * The summary of the current state, until the next append or commit: the handshake summarises
   * the same transcript several times (two `noise` and two `fork` key derivations, the signature)
   * and each summary clones and finalises a BLAKE3 hasher.
   */
  #summary: Uint8Array | undefined;

  private constructor(tag: TranscriptTag, key: Uint8Array | undefined) {
    this.#hasher = key === undefined ? blake3.create() : blake3.create({ key });
    this.#hasher.update(Uint8Array.of(tag));
  }

  /** A fresh transcript bound to `namespace`: absorbs `00`, then commits the namespace. */
  static new(namespace: Uint8Array): Transcript {
    const t = new Transcript(TranscriptTag.New, undefined);
    t.commit(namespace);
    return t;
  }

  /**
   * Continues from a summary: BLAKE3 keyed with `summary`, absorbing `01`.
   *
   * @throws {@link CryptoError} `InvalidLength` unless `summary` is 32 bytes
   */
  static resume(summary: Uint8Array): Transcript {
    if (summary.length !== SUMMARY_SIZE) {
      throw new CryptoError('InvalidLength', 'summary must be 32 bytes');
    }
    return new Transcript(TranscriptTag.Resume, summary);
  }

  /** Absorbs `data` into the current packet without closing it. Returns `this`. */
  append(data: Uint8Array): this {
    this.#summary = undefined;
    this.#hasher.update(data);
    this.#pending += data.length;
    return this;
  }

  /**
   * Absorbs `data`, then closes the packet by absorbing the varint of its total length
   * (everything appended since the last commit, plus `data`). Empty data still absorbs the
   * length, so `commit(empty)` with nothing pending absorbs `00`. Returns `this`.
   */
  commit(data: Uint8Array): this {
    this.append(data);
    Transcript.#flush(this.#hasher, this.#pending);
    this.#pending = 0;
    return this;
  }

  /**
   * The 32-byte digest of everything absorbed so far (a pending packet is closed on a copy).
   * Computed once per state and returned as a fresh copy each call.
   */
  summarize(): Uint8Array {
    return this.#summarized().slice();
  }

  /** The memoised summary; callers must not modify it. */
  #summarized(): Uint8Array {
    if (this.#summary === undefined) {
      const copy = this.#hasher.clone();
      if (this.#pending !== 0) Transcript.#flush(copy, this.#pending);
      this.#summary = copy.digest();
    }
    return this.#summary;
  }

  /** A child transcript keyed with this one's summary: absorbs `02`, then commits `label`. */
  fork(label: Uint8Array): Transcript {
    const child = new Transcript(TranscriptTag.Fork, this.#summarized());
    child.commit(label);
    return child;
  }

  /**
   * Key material bound to this transcript and `label`: BLAKE3 keyed with the summary, absorbing
   * `03` and then `commit(label)`, read as an XOF stream.
   */
  noise(label: Uint8Array): NoiseReader {
    const t = new Transcript(TranscriptTag.Noise, this.#summarized());
    t.commit(label);
    return new NoiseReader(t.#hasher);
  }

  static #flush(hasher: Hasher, pending: number): void {
    // V0 framing: the LEB128 bytes in order (V1 would absorb them reversed).
    hasher.update(varint(pending));
  }
}

/**
 * Signs a transcript summary as the handshake does (`Summary::sign`): with the empty namespace,
 * so the signed message is `00 || summary`.
 */
export function signSummary(signer: PrivateKey, summary: Uint8Array): Uint8Array {
  return signer.sign(EMPTY, summary);
}

/** Verifies a signature made by {@link signSummary}; `false` for any bad signature. */
export function verifySummary(
  publicKey: PublicKey,
  summary: Uint8Array,
  signature: Uint8Array,
): boolean {
  return publicKey.verify(EMPTY, summary, signature);
}
