/**
 * Length-prefixed framing: `frame = varint_u32(len) || payload` (commonware
 * `stream/src/utils/codec.rs`). Used for the plaintext handshake messages and, with the limit
 * raised by the tag size, for encrypted frames.
 *
 * @module
 */

import { peekVarintU32, varintU32Size, writeVarintU32 } from '../codec/index.js';
import type { Stream } from '../runtime/context.js';
import { StreamError } from './errors.js';

/** The longest canonical varint-u32. */
export const MAX_VARINT_SIZE = 5;

/**
 * Parses a length prefix at `offset` of `buf`. Returns the prefix value and its size, or
 * `undefined` when `buf` ends before the varint does. Throws `StreamError('InvalidVarint')` once
 * the bytes cannot start a canonical varint-u32 (overlong, overflowing, or a 6th continuation).
 */
export function parsePrefix(
  buf: Uint8Array,
  offset: number,
): { value: number; length: number } | undefined {
  try {
    return peekVarintU32(buf, offset);
  } catch (err) {
    throw new StreamError('InvalidVarint', undefined, { cause: err });
  }
}

/** Throws `RecvTooLarge` when a frame length exceeds the receive limit. */
export function checkRecvLimit(len: number, limit: number): void {
  if (len > limit) throw new StreamError('RecvTooLarge', `frame of ${len} bytes exceeds ${limit}`);
}

/** Builds `varint(len(payload)) || payload` in one buffer, refusing a payload over `limit`. */
export function encodeFrame(payload: Uint8Array, limit: number): Uint8Array {
  if (payload.length > limit) {
    throw new StreamError('SendTooLarge', `frame of ${payload.length} bytes exceeds ${limit}`);
  }
  const prefix = varintU32Size(payload.length);
  const out = new Uint8Array(prefix + payload.length);
  writeVarintU32(payload.length, out, 0);
  out.set(payload, prefix);
  return out;
}

async function recvExact(stream: Stream, n: number): Promise<Uint8Array> {
  try {
    return await stream.recv(n);
  } catch (err) {
    throw new StreamError('RecvFailed', undefined, { cause: err });
  }
}

/**
 * Reads the length prefix byte by byte (the slow path, when it is not yet buffered). Each byte is
 * checked as it arrives, so an endless `0x80` continuation fails at the 5th byte rather than being
 * buffered. `first`: its first byte, when the caller has already read it.
 */
export async function recvPrefix(
  stream: Stream,
  first?: number,
): Promise<{ value: number; length: number }> {
  const bytes = new Uint8Array(MAX_VARINT_SIZE);
  let i = 0;
  if (first !== undefined) {
    bytes[0] = first;
    const parsed = parsePrefix(bytes.subarray(0, 1), 0);
    if (parsed !== undefined) return parsed;
    i = 1;
  }
  for (; i < MAX_VARINT_SIZE; i++) {
    const b = await recvExact(stream, 1);
    bytes[i] = b[0]!;
    const parsed = parsePrefix(bytes.subarray(0, i + 1), 0);
    if (parsed !== undefined) return parsed;
  }
  // Unreachable with a conforming codec (it rejects a 5th byte with the continuation bit set).
  throw new StreamError('InvalidVarint');
}

/**
 * Reads one frame whose payload is at most `limit` bytes, and returns the payload.
 *
 * The length is checked against `limit` before anything is allocated for the payload. Fast path:
 * when the prefix is already buffered it is parsed from `peek`, and prefix and payload are taken
 * with one `recv`. Slow path: the prefix is read byte by byte.
 */
export async function recvFrame(stream: Stream, limit: number): Promise<Uint8Array> {
  const head = stream.peek(MAX_VARINT_SIZE);
  const parsed = parsePrefix(head, 0);
  if (parsed !== undefined) {
    checkRecvLimit(parsed.value, limit);
    const frame = await recvExact(stream, parsed.length + parsed.value);
    return frame.subarray(parsed.length);
  }
  const prefix = await recvPrefix(stream);
  checkRecvLimit(prefix.value, limit);
  if (prefix.value === 0) return new Uint8Array(0);
  return recvExact(stream, prefix.value);
}
