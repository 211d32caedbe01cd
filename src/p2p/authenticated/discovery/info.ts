/**
 * Signed address records of the discovery flavour (commonware
 * `p2p/src/authenticated/discovery/types.rs`: `Info`, `InfoVerifier`).
 *
 * An {@link Info} is a peer's self-attestation: "I am `publicKey` and can be dialed at
 * `ingress`, as of `timestampMs`". Peers send their own in the `Greeting` and relay others' in
 * `Peers` gossip, so a record may reach us through any number of untrusted hands; the signature
 * is what makes it usable.
 *
 * ```text
 * wire:    Ingress || varint_u64(timestamp_ms) || public_key (32) || signature (64)
 * signed:  varint_u32(len(ns)) || ns || Ingress || u64be(timestamp_ms)
 *          where ns = app_namespace || "_TRACKER_IP"
 * ```
 *
 * The signed message is not the wire form: the timestamp is a fixed 8-byte big-endian integer
 * there (commonware encodes the tuple `(ingress, timestamp)`), a varint on the wire.
 *
 * Timestamps are ms since the Unix epoch, kept as `number`: decoding one above
 * `Number.MAX_SAFE_INTEGER` fails with `CodecError('InvalidUsize')` (such a timestamp would fail
 * the synchrony bound anyway).
 *
 * @module
 */

import {
  type Codec,
  CodecError,
  encode,
  type Reader,
  readVarUint64Number,
  varintSize,
  varU64Number,
  type Writer,
} from '../../../codec/index.js';
import {
  type PrivateKey,
  PUBLIC_KEY_SIZE,
  PublicKey,
  SIGNATURE_SIZE,
} from '../../../crypto/ed25519.js';
import type { BoundCounter, Clock } from '../../../runtime/context.js';
import { type Ingress, ingressCodec, ingressEquals } from '../../address.js';
import { P2PError } from '../../errors.js';

// ---------- Namespace ----------

/**
 * What the discovery tracker appends to the application namespace to sign and verify
 * {@link Info} records (upstream `TRACKER_SUFFIX` `"_TRACKER"` followed by `"_IP"`). A distinct
 * namespace keeps an Info signature from ever verifying as a handshake signature (`"_STREAM"`)
 * or as anything else the same key signs.
 */
export const INFO_NAMESPACE_SUFFIX: Uint8Array = new TextEncoder().encode('_TRACKER_IP');

/** The namespace Info signatures are made under: `appNamespace || "_TRACKER_IP"`. */
export function infoNamespace(appNamespace: Uint8Array): Uint8Array {
  const out = new Uint8Array(appNamespace.length + INFO_NAMESPACE_SUFFIX.length);
  out.set(appNamespace, 0);
  out.set(INFO_NAMESPACE_SUFFIX, appNamespace.length);
  return out;
}

// ---------- Info ----------

/** The fields of an {@link Info}, for {@link Info.from}. */
export interface InfoInit {
  /** Where the peer can be dialed. */
  readonly ingress: Ingress;
  /** When the record was signed, in ms since the Unix epoch (a non-negative safe integer). */
  readonly timestampMs: number;
  /** The peer the record is about, and the key that signed it. */
  readonly publicKey: PublicKey;
  /** The 64-byte ed25519 signature over {@link Info.signedMessage}. */
  readonly signature: Uint8Array;
}

function checkTimestamp(timestampMs: number): void {
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) {
    throw new RangeError(`Info timestamp must be a non-negative safe integer, got ${timestampMs}`);
  }
}

// `ingressBytes || u64be(timestampMs)` in one allocation, from an already encoded ingress.
function signedMessageOf(ingressBytes: Uint8Array, timestampMs: number): Uint8Array {
  const n = ingressBytes.length;
  const out = new Uint8Array(n + 8);
  out.set(ingressBytes, 0);
  const hi = Math.floor(timestampMs / 0x100000000);
  const lo = timestampMs >>> 0;
  out[n] = hi >>> 24;
  out[n + 1] = (hi >>> 16) & 0xff;
  out[n + 2] = (hi >>> 8) & 0xff;
  out[n + 3] = hi & 0xff;
  out[n + 4] = lo >>> 24;
  out[n + 5] = (lo >>> 16) & 0xff;
  out[n + 6] = (lo >>> 8) & 0xff;
  out[n + 7] = lo & 0xff;
  return out;
}

// Lets the codec below build an Info from decoded parts and read its ingress encoding, without
// making either public.
let fromParts: (
  ingress: Ingress,
  ingressBytes: Uint8Array,
  timestampMs: number,
  publicKey: PublicKey,
  signature: Uint8Array,
) => Info;
let ingressBytesOf: (info: Info) => Uint8Array;

/**
 * A peer's signed claim of where it can be dialed (upstream `Info`). Immutable.
 *
 * An Info keeps the encoding of its ingress, computed once (or taken from the received bytes),
 * so verifying its signature and relaying it in gossip never re-encode the ingress.
 *
 * An Info is not necessarily authentic: one that was decoded, or built with {@link Info.from},
 * is trusted only after `InfoVerifier.validate` accepted it.
 */
export class Info {
  /** Where the peer can be dialed. */
  readonly ingress: Ingress;
  /** When the peer signed the record, in ms since the Unix epoch. Newer records replace older. */
  readonly timestampMs: number;
  /** The peer the record is about, and the key that signed it. */
  readonly publicKey: PublicKey;
  /** The 64-byte ed25519 signature (never mutate it). */
  readonly signature: Uint8Array;
  readonly #ingressBytes: Uint8Array;

  static {
    fromParts = (ingress, ingressBytes, timestampMs, publicKey, signature) =>
      new Info(ingress, ingressBytes, timestampMs, publicKey, signature);
    ingressBytesOf = (info) => info.#ingressBytes;
  }

  // Instances come from the factories and the codec, which have checked every part.
  private constructor(
    ingress: Ingress,
    ingressBytes: Uint8Array,
    timestampMs: number,
    publicKey: PublicKey,
    signature: Uint8Array,
  ) {
    this.ingress = ingress;
    this.#ingressBytes = ingressBytes;
    this.timestampMs = timestampMs;
    this.publicKey = publicKey;
    this.signature = signature;
  }

  /**
   * Signs `ingress` at `timestampMs` with `signer` (upstream `Info::sign`). A node does this once
   * at startup for its own dialable ingress, with `timestampMs = ctx.clock.now()`.
   *
   * @param namespace - the application namespace; the signature is made under
   *   `infoNamespace`(namespace).
   * @throws RangeError if `timestampMs` is not a non-negative safe integer or the ingress port is
   *   out of range; TypeError if the ingress has an invalid hostname or IP.
   */
  static sign(
    signer: PrivateKey,
    namespace: Uint8Array,
    ingress: Ingress,
    timestampMs: number,
  ): Info {
    checkTimestamp(timestampMs);
    const ingressBytes = encode(ingressCodec, ingress);
    const signature = signer.sign(
      infoNamespace(namespace),
      signedMessageOf(ingressBytes, timestampMs),
    );
    return new Info(ingress, ingressBytes, timestampMs, signer.publicKey, signature);
  }

  /**
   * An Info from its fields, signature unchecked (for records kept elsewhere, and for tests).
   * The signature is copied.
   *
   * @throws RangeError if the timestamp is not a non-negative safe integer, the signature is not
   *   64 bytes or the ingress port is out of range; TypeError for an invalid ingress host or IP.
   */
  static from(init: InfoInit): Info {
    checkTimestamp(init.timestampMs);
    if (init.signature.length !== SIGNATURE_SIZE) {
      throw new RangeError(`Info signature must be 64 bytes, got ${init.signature.length}`);
    }
    return new Info(
      init.ingress,
      encode(ingressCodec, init.ingress),
      init.timestampMs,
      init.publicKey,
      init.signature.slice(),
    );
  }

  /**
   * The message the signature covers, before namespacing: the ingress encoding followed by the
   * timestamp as a u64 big-endian (8 bytes). A fresh buffer on each call.
   */
  get signedMessage(): Uint8Array {
    return signedMessageOf(this.#ingressBytes, this.timestampMs);
  }

  /** Whether `other` has the same ingress, timestamp, key and signature. */
  equals(other: Info): boolean {
    if (this === other) return true;
    if (this.timestampMs !== other.timestampMs || !this.publicKey.equals(other.publicKey)) {
      return false;
    }
    const a = this.signature;
    const b = other.signature;
    for (let i = 0; i < SIGNATURE_SIZE; i++) if (a[i] !== b[i]) return false;
    return ingressEquals(this.ingress, other.ingress);
  }
}

// ---------- Codec ----------

/**
 * Reads a 32-byte ed25519 public key, rejecting bytes that are not a curve point with
 * `CodecError('Invalid')` (context `'PublicKey'`, the CryptoError as `cause`), so a decoder
 * built on it throws only CodecError.
 */
export function readPublicKey(r: Reader): PublicKey {
  const bytes = r.readBytes(PUBLIC_KEY_SIZE);
  try {
    return PublicKey.fromBytes(bytes);
  } catch (err) {
    throw new CodecError('Invalid', 'PublicKey: not a valid ed25519 public key', {
      context: 'PublicKey',
      cause: err,
    });
  }
}

/**
 * `Info`: `Ingress || varint_u64(timestamp_ms) || public_key (32) || signature (64)`.
 *
 * Decoding copies the ingress encoding and the signature out of the input (an Info outlives the
 * frame it arrived in: the tracker keeps it and relays it), and fails with `CodecError` only:
 * `InvalidEnum` for an unknown ingress tag, `InvalidUsize` for a timestamp above 2^53 - 1,
 * `Invalid` for a bad IP tag, hostname or public key, `EndOfBuffer` if the input is short. The
 * signature is not checked here; {@link InfoVerifier} does that.
 */
export const infoCodec: Codec<Info> = {
  encodeSize(v: Info): number {
    return ingressBytesOf(v).length + varintSize(v.timestampMs) + PUBLIC_KEY_SIZE + SIGNATURE_SIZE;
  },
  write(v: Info, w: Writer): void {
    w.bytes(ingressBytesOf(v));
    varU64Number.write(v.timestampMs, w);
    w.bytes(v.publicKey.bytesView);
    w.bytes(v.signature);
  },
  read(r: Reader): Info {
    const start = r.offset;
    const ingress = ingressCodec.read(r);
    const ingressBytes = r.bytesSince(start).slice();
    const timestampMs = readVarUint64Number(r);
    const publicKey = readPublicKey(r);
    const signature = r.readBytes(SIGNATURE_SIZE).slice();
    return fromParts(ingress, ingressBytes, timestampMs, publicKey, signature);
  },
};

// ---------- Verifier ----------

/** Configuration of an {@link InfoVerifier}; the network fills it from its own config. */
export interface InfoVerifierConfig {
  /** Our own public key: a record about ourselves is refused (`ReceivedSelf`). */
  readonly myself: PublicKey;
  /** The application namespace (records are verified under `namespace || "_TRACKER_IP"`). */
  readonly namespace: Uint8Array;
  /**
   * How far in the future (ms) a record's timestamp may be, to allow for clock skew
   * (a non-negative safe integer; upstream default 5 s).
   */
  readonly synchronyBoundMs: number;
  /** The most records one message may carry (a positive safe integer; upstream default 32). */
  readonly peerGossipMaxCount: number;
}

/**
 * Checks the records a peer sends in a `Greeting` or a `Peers` message (upstream
 * `InfoVerifier`). Pure: the current time comes from the clock passed to
 * `InfoVerifier.validate`.
 */
export class InfoVerifier {
  readonly #myself: PublicKey;
  readonly #namespace: Uint8Array;
  readonly #synchronyBoundMs: number;
  readonly #peerGossipMaxCount: number;

  /** @throws P2PError `InvalidConfig` if a bound is not a safe integer in range. */
  constructor(config: InfoVerifierConfig) {
    const { synchronyBoundMs, peerGossipMaxCount } = config;
    if (!Number.isSafeInteger(synchronyBoundMs) || synchronyBoundMs < 0) {
      throw new P2PError(
        'InvalidConfig',
        `InfoVerifier: synchronyBoundMs must be a non-negative safe integer, got ${synchronyBoundMs}`,
      );
    }
    if (!Number.isSafeInteger(peerGossipMaxCount) || peerGossipMaxCount < 1) {
      throw new P2PError(
        'InvalidConfig',
        `InfoVerifier: peerGossipMaxCount must be a positive safe integer, got ${peerGossipMaxCount}`,
      );
    }
    this.#myself = config.myself;
    this.#namespace = infoNamespace(config.namespace);
    this.#synchronyBoundMs = synchronyBoundMs;
    this.#peerGossipMaxCount = peerGossipMaxCount;
  }

  /**
   * Accepts `infos` or throws, naming the first reason found. Any failure means the sender is
   * faulty and its connection must end.
   *
   * Duplicates and any order are accepted (a peer may answer with a random subset), and so are
   * old timestamps (the tracker keeps the newest record per peer). The cheap checks run over every
   * record before any signature is verified, so a message with a bad entry costs no signature
   * verification unless every entry passes them.
   *
   * @param clock - source of the current time (`ctx.clock`); read once.
   * @param verifications - if given, incremented once per signature verification, just before it
   *   runs (the `info_verifications` metric).
   * @throws P2PError `TooManyPeers` if there are more than `peerGossipMaxCount` records;
   *   `ReceivedSelf` if a record is about our own key; `SynchronyBound` if a timestamp is more
   *   than `synchronyBoundMs` ahead of `clock.now()`; `InvalidSignature` if a signature does not
   *   verify.
   */
  validate(
    clock: Pick<Clock, 'now'>,
    infos: readonly Info[],
    verifications?: Pick<BoundCounter, 'inc'>,
  ): void {
    if (infos.length > this.#peerGossipMaxCount) {
      throw new P2PError(
        'TooManyPeers',
        `${infos.length} peer records exceed the limit of ${this.#peerGossipMaxCount}`,
      );
    }
    const latest = clock.now() + this.#synchronyBoundMs;
    for (const info of infos) {
      if (info.publicKey.equals(this.#myself)) {
        throw new P2PError('ReceivedSelf', 'received a peer record about ourselves');
      }
      if (info.timestampMs > latest) {
        throw new P2PError(
          'SynchronyBound',
          `peer record timestamp ${info.timestampMs} is beyond now + synchrony bound (${latest})`,
        );
      }
    }
    for (const info of infos) {
      verifications?.inc();
      if (!info.publicKey.verify(this.#namespace, info.signedMessage, info.signature)) {
        throw new P2PError(
          'InvalidSignature',
          `invalid signature on the record of ${info.publicKey.toHex()}`,
        );
      }
    }
  }
}
