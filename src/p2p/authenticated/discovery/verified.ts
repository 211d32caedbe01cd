/**
 * A bounded memory of signed records whose signature has already verified, so that the same
 * record gossiped again (by every neighbour, every gossip period) costs a few byte comparisons
 * instead of an ed25519 verification (~40 us each; a 100-peer mesh verified ~37 records per peer
 * per second, nearly all of them records its tracker already held).
 *
 * An entry is the whole signed tuple: key, timestamp, signature bytes and the encoded ingress
 * (the signed message is the ingress encoding and the timestamp). A record is taken as verified
 * only if all four are equal to an entry's, and ed25519 verification is deterministic, so the
 * answer is the one verification would give: a record with a cached key and timestamp but
 * another signature or another ingress is verified afresh (and refused if forged).
 *
 * One entry per key (the latest record verified for it); at most `capacity` keys, the least
 * recently verified or matched evicted first. Owned by one network's `InfoVerifier`, used only
 * synchronously from its peer actors' handlers (one event loop: no interleaving inside a call).
 *
 * @module
 */

/** The parts of a signed record the memory compares. */
export interface SignedTuple {
  /** Lowercase hex of the signer's public key. */
  readonly keyHex: string;
  readonly timestampMs: number;
  readonly signature: Uint8Array;
  /** The canonical encoding of the ingress (what the signature covers with the timestamp). */
  readonly ingressBytes: Uint8Array;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A bounded set of verified signed tuples, one per key, least recently used evicted. */
export class VerifiedTuples {
  readonly #capacity: number;
  // Insertion order is recency: a hit or an add moves the key to the end.
  readonly #entries = new Map<string, SignedTuple>();

  /** @param capacity - most keys remembered (a positive safe integer). */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `VerifiedTuples: capacity must be a positive safe integer, got ${capacity}`,
      );
    }
    this.#capacity = capacity;
  }

  /** Number of keys remembered (at most the capacity). */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether exactly `tuple` (key, timestamp, signature and ingress) was verified. */
  has(tuple: SignedTuple): boolean {
    const e = this.#entries.get(tuple.keyHex);
    if (
      e === undefined ||
      e.timestampMs !== tuple.timestampMs ||
      !bytesEqual(e.signature, tuple.signature) ||
      !bytesEqual(e.ingressBytes, tuple.ingressBytes)
    ) {
      return false;
    }
    this.#entries.delete(tuple.keyHex);
    this.#entries.set(tuple.keyHex, e);
    return true;
  }

  /** Remembers `tuple`, whose signature verified, in place of any entry for its key. */
  add(tuple: SignedTuple): void {
    this.#entries.delete(tuple.keyHex);
    this.#entries.set(tuple.keyHex, tuple);
    if (this.#entries.size > this.#capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }
}
