/**
 * The discovery flavour's wire payloads (commonware `p2p/src/authenticated/discovery/types.rs`).
 *
 * Every encrypted frame of a discovery connection carries exactly one {@link Payload}:
 *
 * ```text
 * 0x00 Data      = 0x00 || varint_u64(channel) || varint_u32(len) || message   (see ../data.ts)
 * 0x01 Greeting  = 0x01 || Info                                               (see ./info.ts)
 * 0x02 BitVec    = 0x02 || varint_u64(index) || u64be(bits) || ceil(bits / 8) bytes, LSB first
 * 0x03 Peers     = 0x03 || varint_u32(count) || Info * count
 * ```
 *
 * A Greeting is each side's own signed record, sent once as the first message of a connection.
 * A BitVec says which peers of the peer set `index` the sender already has a record for (bit
 * `i` = the `i`-th key of the set in sorted order) and doubles as the keep-alive; the receiver
 * answers with Peers holding records for the positions the sender left clear.
 *
 * The BitVec for index 1 and bits `[1, 0, 1]` is `02 01 00 00 00 00 00 00 00 03 05`. Any other
 * tag is `CodecError('InvalidEnum')`. The bit length is checked against `maxBitVec` and the
 * record count against `maxPeers` before anything is allocated for them.
 *
 * @module
 */

import {
  type BitMap,
  bitMap,
  type Codec,
  CodecError,
  decode,
  encode,
  lengthSize,
  MAX_HOSTNAME_LEN,
  type Reader,
  readLength,
  readVarUint64Number,
  varintSize,
  varU64Number,
  Writer,
  writeLength,
} from '../../../codec/index.js';
import { DATA_TAG, dataBodySize, readDataBody, writeDataBody } from '../data.js';
import { type Info, infoCodec } from './info.js';

/** The payload discriminant of a `greeting`. */
export const GREETING_TAG = 0x01;
/** The payload discriminant of a `bitVec`. */
export const BIT_VEC_TAG = 0x02;
/** The payload discriminant of `peers`. */
export const PEERS_TAG = 0x03;

/** One discovery payload: the content of one encrypted frame. */
export type Payload =
  /** Application data on a channel; `message` is a view into the decoded frame. */
  | { readonly type: 'data'; readonly channel: number; readonly message: Uint8Array }
  /** The sender's own signed record; the first message on a connection, sent exactly once. */
  | { readonly type: 'greeting'; readonly info: Info }
  /** Which peers of set `index` the sender knows (also the keep-alive). */
  | { readonly type: 'bitVec'; readonly index: number; readonly bits: BitMap }
  /** Signed records the receiver of a BitVec lacked. */
  | { readonly type: 'peers'; readonly peers: readonly Info[] };

/**
 * Limits for decoding a {@link Payload} (upstream `PayloadConfig`). Each must be at least what
 * honest peers send, or their messages fail to decode and their connections end.
 */
export interface PayloadConfig {
  /** The longest BitVec, in bits (the network's `maxPeersPerSet`). */
  readonly maxBitVec: number;
  /** The most records in one Peers message (the network's `peerGossipMaxCount`). */
  readonly maxPeers: number;
  /**
   * The longest Data message, in bytes. The peer actor passes the frame length: a loose bound,
   * since the stream already capped the frame at `maxMessageSize` plus overhead.
   */
  readonly maxDataLength: number;
}

// ---------- Bodies (shared by the codec and the one-shot encoders) ----------

function bitVecBodySize(index: number, bits: BitMap): number {
  return varintSize(index) + bitMap.encodeSize(bits);
}

function writeBitVecBody(index: number, bits: BitMap, w: Writer): void {
  varU64Number.write(index, w);
  bitMap.write(bits, w);
}

function peersBodySize(peers: readonly Info[]): number {
  let size = lengthSize(peers.length);
  for (const info of peers) size += infoCodec.encodeSize(info);
  return size;
}

function writePeersBody(peers: readonly Info[], w: Writer): void {
  writeLength(peers.length, w);
  for (const info of peers) infoCodec.write(info, w);
}

function readPeersBody(r: Reader, maxPeers: number): Info[] {
  const count = readLength(r, { max: maxPeers }, 'Peers');
  // No preallocation: a large count over a short input fails with EndOfBuffer after reading
  // what is there, with memory proportional to the input.
  const peers: Info[] = [];
  for (let i = 0; i < count; i++) peers.push(infoCodec.read(r));
  return peers;
}

// ---------- Codec ----------

/**
 * The codec of {@link Payload}. Decoding fails with `CodecError` only: `InvalidEnum` for an
 * unknown tag, `InvalidLength` for a bit length above `maxBitVec`, a record count above
 * `maxPeers` or a data message above `maxDataLength`, and whatever the Data, BitMap and Info
 * decoders report (`EndOfBuffer`, `InvalidVarint`, `InvalidUsize`, `Invalid`).
 */
export const payloadCodec: Codec<Payload, PayloadConfig> = {
  encodeSize(p: Payload): number {
    switch (p.type) {
      case 'data':
        return 1 + dataBodySize(p.channel, p.message.length);
      case 'greeting':
        return 1 + infoCodec.encodeSize(p.info);
      case 'bitVec':
        return 1 + bitVecBodySize(p.index, p.bits);
      case 'peers':
        return 1 + peersBodySize(p.peers);
    }
  },
  write(p: Payload, w: Writer): void {
    switch (p.type) {
      case 'data':
        w.u8(DATA_TAG);
        writeDataBody(p, w);
        return;
      case 'greeting':
        w.u8(GREETING_TAG);
        infoCodec.write(p.info, w);
        return;
      case 'bitVec':
        w.u8(BIT_VEC_TAG);
        writeBitVecBody(p.index, p.bits, w);
        return;
      case 'peers':
        w.u8(PEERS_TAG);
        writePeersBody(p.peers, w);
        return;
    }
  },
  read(r: Reader, cfg: PayloadConfig): Payload {
    const tag = r.u8();
    switch (tag) {
      case DATA_TAG: {
        const { channel, message } = readDataBody(r, { max: cfg.maxDataLength });
        return { type: 'data', channel, message };
      }
      case GREETING_TAG:
        return { type: 'greeting', info: infoCodec.read(r) };
      case BIT_VEC_TAG: {
        const index = readVarUint64Number(r);
        return { type: 'bitVec', index, bits: bitMap.read(r, { max: cfg.maxBitVec }) };
      }
      case PEERS_TAG:
        return { type: 'peers', peers: readPeersBody(r, cfg.maxPeers) };
      default:
        throw new CodecError('InvalidEnum', `unknown discovery payload tag ${tag}`, {
          context: 'discovery::Payload',
        });
    }
  },
};

/**
 * Decodes one payload spanning all of `frame`. Data messages, and nothing else, are views into
 * `frame`; records and bitmaps are copies.
 *
 * @throws CodecError on any malformed input (and only CodecError), `ExtraData` for trailing bytes.
 */
export function decodePayload(frame: Uint8Array, cfg: PayloadConfig): Payload {
  return decode(payloadCodec, frame, cfg);
}

/** Encodes `p` into a fresh buffer of exactly its size. */
export function encodePayload(p: Payload): Uint8Array {
  return encode(payloadCodec, p);
}

// ---------- One-shot encoders for the peer actor ----------

/**
 * The Greeting frame for `info` (our own record). A node's record changes only when it re-signs,
 * so encode it once and send the same bytes on every connection (never mutate them).
 */
export function encodeGreeting(info: Info): Uint8Array {
  const w = new Writer(1 + infoCodec.encodeSize(info));
  w.u8(GREETING_TAG);
  infoCodec.write(info, w);
  return w.finish();
}

/**
 * The BitVec frame for set `index` and knowledge bits `bits`, in one exact-size buffer without
 * building a {@link Payload}.
 *
 * @throws RangeError if `index` is not a non-negative safe integer.
 */
export function encodeBitVec(index: number, bits: BitMap): Uint8Array {
  const w = new Writer(1 + bitVecBodySize(index, bits));
  w.u8(BIT_VEC_TAG);
  writeBitVecBody(index, bits, w);
  return w.finish();
}

/**
 * The Peers frame for `peers`, in one exact-size buffer: each record's ingress encoding is
 * reused, nothing is re-encoded. The caller caps the count (`peerGossipMaxCount`) beforehand.
 */
export function encodePeers(peers: readonly Info[]): Uint8Array {
  const w = new Writer(1 + peersBodySize(peers));
  w.u8(PEERS_TAG);
  writePeersBody(peers, w);
  return w.finish();
}

/**
 * The largest encoded {@link Info}: a DNS ingress (tag, host length varint, 253-byte host, u16
 * port) is the longest address, then the timestamp varint (at most 8 bytes below 2^53), the
 * 32-byte key and the 64-byte signature.
 */
export const MAX_INFO_SIZE = 1 + (2 + MAX_HOSTNAME_LEN + 2) + 8 + 32 + 64;

/**
 * The largest gossip frame a peer may send under these limits: a Peers message of
 * `peerGossipMaxCount` records of {@link MAX_INFO_SIZE}, or a BitVec of `maxPeersPerSet` bits
 * (tag, index varint, u64 bit length, bytes). The stream's frame limit must admit it even when
 * `maxMessageSize` is small, or an honest answer would end the connection.
 */
export function maxGossipFrame(maxPeersPerSet: number, peerGossipMaxCount: number): number {
  const peers = 1 + 5 + peerGossipMaxCount * MAX_INFO_SIZE;
  const bitVec = 1 + 9 + 8 + Math.ceil(maxPeersPerSet / 8);
  return Math.max(peers, bitVec);
}
