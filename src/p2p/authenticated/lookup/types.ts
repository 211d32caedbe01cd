/**
 * The lookup flavour's wire payloads (commonware `p2p/src/authenticated/lookup/types.rs`).
 *
 * Every encrypted frame of a lookup connection carries exactly one {@link Message}:
 *
 * ```text
 * 0x00 Data  = 0x00 || varint_u64(channel) || varint_u32(len) || message   (see ../data.ts)
 * 0x01 Ping  = 0x01                                                        (no body)
 * ```
 *
 * Data on channel 7 carrying `"ping"` is `00 07 04 70 69 6e 67`; a Ping is the single byte `01`.
 * Any other tag is `CodecError('InvalidEnum')`.
 *
 * @module
 */

import {
  type Codec,
  CodecError,
  decode,
  encode,
  type RangeCfg,
  type Reader,
  type Writer,
} from '../../../codec/index.js';
import { DATA_TAG, dataBodySize, readDataBody, writeDataBody } from '../data.js';

/** The payload discriminant of a {@link Message} of type `ping`. */
export const PING_TAG = 0x01;

/** One lookup payload: application data on a channel, or a keep-alive ping. */
export type Message =
  | { readonly type: 'data'; readonly channel: number; readonly message: Uint8Array }
  | { readonly type: 'ping' };

/** The encoded Ping payload (one byte, `01`). Shared; never mutate it. */
export const PING_FRAME: Uint8Array = Uint8Array.of(PING_TAG);

/**
 * The codec of {@link Message}. Decoding takes a {@link RangeCfg} bounding the data message length
 * (the peer actor passes the frame length, a loose bound: the stream already capped the frame at
 * `maxMessageSize` plus overhead).
 */
export const messageCodec: Codec<Message, RangeCfg> = {
  encodeSize(m: Message): number {
    return m.type === 'ping' ? 1 : 1 + dataBodySize(m.channel, m.message.length);
  },
  write(m: Message, w: Writer): void {
    if (m.type === 'ping') {
      w.u8(PING_TAG);
      return;
    }
    w.u8(DATA_TAG);
    writeDataBody(m, w);
  },
  read(r: Reader, cfg: RangeCfg): Message {
    const tag = r.u8();
    switch (tag) {
      case DATA_TAG: {
        const { channel, message } = readDataBody(r, cfg);
        return { type: 'data', channel, message };
      }
      case PING_TAG:
        return { type: 'ping' };
      default:
        throw new CodecError('InvalidEnum', `unknown lookup message tag ${tag}`, {
          context: 'lookup::Message',
        });
    }
  },
};

/** Encodes `m` into a fresh buffer. */
export function encodeMessage(m: Message): Uint8Array {
  return encode(messageCodec, m);
}

/**
 * Decodes one message spanning all of `frame`. The data message is bounded by `limit` (default:
 * the frame length). The message bytes are a view into `frame`.
 *
 * @throws CodecError on any malformed input (and only CodecError).
 */
export function decodeMessage(frame: Uint8Array, limit?: RangeCfg): Message {
  return decode(messageCodec, frame, limit ?? { max: frame.length });
}
