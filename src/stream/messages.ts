/**
 * The fixed-size handshake messages (commonware `cryptography/src/handshake.rs`), for ed25519
 * identities (32-byte keys, 64-byte signatures) and X25519 ephemeral keys (32 bytes).
 *
 * ```
 * Syn    = time_ms u64 BE (8) || dialer_epk (32) || sig (64)                       = 104 bytes
 * SynAck = time_ms u64 BE (8) || listener_epk (32) || sig (64) || confirmation (32) = 136 bytes
 * Ack    = confirmation (32)                                                        =  32 bytes
 * ```
 *
 * Decoding requires the exact size (upstream decodes with no trailing bytes allowed), and the
 * frame reader's limit is that same size, so no message can make us buffer more.
 *
 * @module
 */

import { StreamError } from './errors.js';

/** Ed25519 public key size. */
export const PUBLIC_KEY_SIZE = 32;
/** Ed25519 signature size. */
export const SIGNATURE_SIZE = 64;
/** X25519 public key size. */
export const EPHEMERAL_KEY_SIZE = 32;
/** Key-confirmation tag size (a transcript summary). */
export const CONFIRMATION_SIZE = 32;
/** Timestamp size (u64 big-endian milliseconds since the Unix epoch). */
export const TIMESTAMP_SIZE = 8;

/** Size of a Syn. */
export const SYN_SIZE = TIMESTAMP_SIZE + EPHEMERAL_KEY_SIZE + SIGNATURE_SIZE;
/** Size of a SynAck. */
export const SYN_ACK_SIZE = SYN_SIZE + CONFIRMATION_SIZE;
/** Size of an Ack. */
export const ACK_SIZE = CONFIRMATION_SIZE;

/** The dialer's opening (and, with a confirmation, the listener's reply). */
export interface Syn {
  /** Milliseconds since the Unix epoch on the sender's clock (u64 on the wire). */
  readonly timestamp: bigint;
  readonly ephemeral: Uint8Array;
  readonly signature: Uint8Array;
}

/** The listener's reply: a Syn plus its key confirmation `conf_l2d`. */
export interface SynAck extends Syn {
  readonly confirmation: Uint8Array;
}

/** Encodes a timestamp as the 8 big-endian bytes that go on the wire and into the transcript. */
export function encodeTimestamp(t: bigint): Uint8Array {
  const out = new Uint8Array(TIMESTAMP_SIZE);
  new DataView(out.buffer).setBigUint64(0, t, false);
  return out;
}

function writeSyn(out: Uint8Array, syn: Syn): void {
  if (syn.ephemeral.length !== EPHEMERAL_KEY_SIZE || syn.signature.length !== SIGNATURE_SIZE) {
    throw new StreamError('HandshakeFailed', 'malformed handshake field');
  }
  new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(0, syn.timestamp, false);
  out.set(syn.ephemeral, TIMESTAMP_SIZE);
  out.set(syn.signature, TIMESTAMP_SIZE + EPHEMERAL_KEY_SIZE);
}

function readSyn(buf: Uint8Array): Syn {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    timestamp: view.getBigUint64(0, false),
    ephemeral: buf.slice(TIMESTAMP_SIZE, TIMESTAMP_SIZE + EPHEMERAL_KEY_SIZE),
    signature: buf.slice(TIMESTAMP_SIZE + EPHEMERAL_KEY_SIZE, SYN_SIZE),
  };
}

function expectSize(buf: Uint8Array, size: number, what: string): void {
  if (buf.length !== size) {
    throw new StreamError('HandshakeFailed', `${what} is ${buf.length} bytes, expected ${size}`);
  }
}

/** Encodes a Syn (104 bytes). */
export function encodeSyn(syn: Syn): Uint8Array {
  const out = new Uint8Array(SYN_SIZE);
  writeSyn(out, syn);
  return out;
}

/** Decodes a Syn; anything but exactly 104 bytes is `HandshakeFailed`. */
export function decodeSyn(buf: Uint8Array): Syn {
  expectSize(buf, SYN_SIZE, 'Syn');
  return readSyn(buf);
}

/** Encodes a SynAck (136 bytes). */
export function encodeSynAck(synAck: SynAck): Uint8Array {
  if (synAck.confirmation.length !== CONFIRMATION_SIZE) {
    throw new StreamError('HandshakeFailed', 'malformed handshake field');
  }
  const out = new Uint8Array(SYN_ACK_SIZE);
  writeSyn(out, synAck);
  out.set(synAck.confirmation, SYN_SIZE);
  return out;
}

/** Decodes a SynAck; anything but exactly 136 bytes is `HandshakeFailed`. */
export function decodeSynAck(buf: Uint8Array): SynAck {
  expectSize(buf, SYN_ACK_SIZE, 'SynAck');
  return { ...readSyn(buf), confirmation: buf.slice(SYN_SIZE, SYN_ACK_SIZE) };
}

/** Decodes an Ack (the 32-byte confirmation); anything but exactly 32 bytes is `HandshakeFailed`. */
export function decodeAck(buf: Uint8Array): Uint8Array {
  expectSize(buf, ACK_SIZE, 'Ack');
  return buf.slice();
}
