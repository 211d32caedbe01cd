/**
 * The application data frame shared by every p2p flavour (commonware
 * `p2p/src/authenticated/data.rs`).
 *
 * ```text
 * Data = 0x00 || varint_u64(channel) || varint_u32(len) || message
 * ```
 *
 * The leading `0x00` is the payload discriminant both flavours reserve for data (lookup adds
 * `0x01 Ping`, discovery its gossip payloads), so a frame built here is already a complete
 * payload: {@link encodeData} builds it once per send and the same bytes go to every recipient.
 *
 * Channels are commonware `u64`s. They are application-chosen identifiers, never arithmetic, so
 * this port keeps them as `number`: a non-negative safe integer. Decoding rejects a channel above
 * `Number.MAX_SAFE_INTEGER` with `CodecError('InvalidUsize')`.
 *
 * @module
 */

import {
  bytes,
  CodecError,
  type RangeCfg,
  Reader,
  readVarUint64Number,
  varintSize,
  varU64Number,
  Writer,
} from '../../codec/index.js';
import { ON_HEAP_MAX } from '../../crypto/backend.js';
import { P2PError } from '../errors.js';

/** The payload discriminant of a {@link Data} frame. */
export const DATA_TAG = 0x00;

/**
 * The largest header a data frame adds to its message: 1 tag byte, up to 10 varint bytes for the
 * channel and up to 5 for the length (upstream `MAX_PAYLOAD_OVERHEAD`).
 */
export const MAX_PAYLOAD_OVERHEAD = 16;

/** An application message on a channel. `message` is a view into the decoded frame (no copy). */
export interface Data {
  /** The channel, a non-negative safe integer. */
  readonly channel: number;
  /** The application bytes. */
  readonly message: Uint8Array;
}

/** Whether `channel` is a valid channel number (a non-negative safe integer). */
export function isChannel(channel: number): boolean {
  return Number.isSafeInteger(channel) && channel >= 0;
}

/**
 * Returns `channel` if it is a non-negative safe integer.
 *
 * @throws P2PError `InvalidChannel` otherwise.
 */
export function checkChannel(channel: number): number {
  if (!isChannel(channel)) {
    throw new P2PError(
      'InvalidChannel',
      `channel must be a non-negative safe integer, got ${channel}`,
    );
  }
  return channel;
}

/** Size of the body (channel, length, message) of a data frame, without the tag byte. */
export function dataBodySize(channel: number, messageLength: number): number {
  return varintSize(channel) + varintSize(messageLength) + messageLength;
}

/** Writes the body of a data frame (channel, length-prefixed message), without the tag byte. */
export function writeDataBody(data: Data, w: Writer): void {
  varU64Number.write(data.channel, w);
  bytes.write(data.message, w);
}

/**
 * Reads the body of a data frame (after its tag). The message length is checked against
 * `limit` before anything is sliced; the message is a view into the input.
 *
 * @throws CodecError `InvalidVarint`/`InvalidUsize` for a bad channel, `InvalidLength` if the
 *   length exceeds `limit`, `EndOfBuffer` if the input is short.
 */
export function readDataBody(r: Reader, limit: RangeCfg): Data {
  const channel = readVarUint64Number(r);
  const message = bytes.read(r, limit);
  return { channel, message };
}

/**
 * A buffer for a locally encoded frame of `n` bytes that the caller overwrites entirely. Up to
 * `ON_HEAP_MAX` bytes a plain array (V8 keeps it on its heap: the cheapest); above, Node's
 * uninitialised allocation (a slice of its shared pool below 4 KiB), sparing a zeroed backing
 * store of its own per message. Safe because such a frame never reaches an application: it
 * only waits in the relay queues and is sealed by the stream (a delivered message is decrypted
 * into memory of its own).
 */
function frameBuffer(n: number): Uint8Array {
  if (n <= ON_HEAP_MAX) return new Uint8Array(n);
  const b = Buffer.allocUnsafe(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/**
 * Encodes a complete data frame (tag included): allocated once, shared by every recipient.
 *
 * @throws P2PError `InvalidChannel` if `channel` is not a non-negative safe integer.
 * @throws RangeError if `message` is longer than 2^32 - 1 bytes.
 */
export function encodeData(channel: number, message: Uint8Array): Uint8Array {
  const len = message.length;
  // `>>> 0` keeps only integers in [0, 2^32): a valid low channel needs no further check.
  if (channel >>> 0 === channel && channel < 0x80 && len < 0x4000) {
    // The common case (a low channel, a message under 16 KiB) without a Writer: the same bytes.
    const head = len < 0x80 ? 3 : 4;
    const out = frameBuffer(head + len);
    out[0] = DATA_TAG;
    out[1] = channel;
    if (head === 3) out[2] = len;
    else {
      out[2] = (len & 0x7f) | 0x80;
      out[3] = len >>> 7;
    }
    out.set(message, head);
    return out;
  }
  checkChannel(channel);
  // Larger messages and channels: the same uninitialised buffer, written through a Writer (a
  // zeroed one would clear 64 KiB per bulk message only for it to be overwritten).
  const size = 1 + dataBodySize(channel, len);
  const w = Writer.wrap(frameBuffer(size));
  w.u8(DATA_TAG);
  writeDataBody({ channel, message }, w);
  return w.finish();
}

/**
 * Reads the channel of an encoded data frame without decoding the rest, or `undefined` if
 * `frame` is not a well-formed data frame header. Used to label metrics on the send path, where
 * the frame was built locally by {@link encodeData}.
 */
export function peekDataChannel(frame: Uint8Array): number | undefined {
  if (frame.length === 0 || frame[0] !== DATA_TAG) return undefined;
  // A one-byte channel varint (every channel below 128) needs no Reader.
  if (frame.length > 1 && (frame[1] as number) < 0x80) return frame[1];
  try {
    const r = new Reader(frame);
    r.skip(1);
    return readVarUint64Number(r);
  } catch (err) {
    if (err instanceof CodecError) return undefined;
    throw err;
  }
}

/**
 * The offset of the message in `frame` if it is a data frame with a one-byte channel (below 128),
 * a canonical one- or two-byte length of at most `max`, and exactly that many bytes after the
 * header; -1 otherwise (the caller then decodes in full, which also reports any error). The
 * channel is then `frame[1]`. A fast path for the receive loop: no Reader, no allocation.
 */
export function smallDataStart(frame: Uint8Array, max: number): number {
  const n = frame.length;
  if (n < 3 || frame[0] !== DATA_TAG || (frame[1] as number) >= 0x80) return -1;
  const b2 = frame[2] as number;
  let len: number;
  let start: number;
  if (b2 < 0x80) {
    len = b2;
    start = 3;
  } else {
    if (n < 4) return -1;
    const b3 = frame[3] as number;
    // Canonical two-byte varint only: a zero (or continued) last byte goes the slow way.
    if (b3 === 0 || b3 >= 0x80) return -1;
    len = (b2 & 0x7f) | (b3 << 7);
    start = 4;
  }
  return len <= max && start + len === n ? start : -1;
}

/**
 * The message of a data frame whose message starts at `start` and runs to its end (see
 * {@link smallDataStart}), in memory it shares with nothing but its own frame. A small frame (a
 * plaintext V8 keeps on its heap, see `ON_HEAP_MAX` in the crypto backend) gives a copy, which
 * is cheaper than the view (a view makes V8 move the frame off its heap); a larger one a view.
 */
export function dataMessage(frame: Uint8Array, start: number): Uint8Array {
  return frame.length <= ON_HEAP_MAX ? frame.slice(start) : frame.subarray(start);
}
