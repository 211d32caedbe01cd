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

function recvFailed(err: unknown): never {
  throw new StreamError('RecvFailed', undefined, { cause: err });
}

/**
 * `stream.recv(n)` continued with `next`; a failure of the read (not of `next`) becomes
 * `RecvFailed`. A promise chain rather than an async function: an idle connection parks here,
 * and one reaction costs a fraction of a suspended generator.
 */
function recvThen<T>(
  stream: Stream,
  n: number,
  next: (bytes: Uint8Array) => T | Promise<T>,
): Promise<T> {
  let read: Promise<Uint8Array>;
  try {
    read = stream.recv(n);
  } catch (err) {
    return Promise.reject(new StreamError('RecvFailed', undefined, { cause: err }));
  }
  return read.then(next, recvFailed);
}

function identity(bytes: Uint8Array): Uint8Array {
  return bytes;
}

/** A parsed length prefix: the payload length and the prefix's own size in bytes. */
interface Prefix {
  readonly value: number;
  readonly length: number;
}

/**
 * Reads the length prefix byte by byte (the slow path, when it is not yet buffered). Each byte is
 * checked as it arrives, so an endless `0x80` continuation fails at the 5th byte rather than being
 * buffered. The first byte alone usually is the whole prefix (frames under 128 bytes); only a
 * longer prefix gets a buffer. `first`: its first byte, when the caller has already read it.
 */
export function recvPrefix(stream: Stream, first?: number): Promise<Prefix> {
  let bytes: Uint8Array | undefined;
  let i = 0;
  const onByte = (b: Uint8Array): Prefix | Promise<Prefix> => {
    let parsed: Prefix | undefined;
    if (bytes === undefined) {
      parsed = parsePrefix(b, 0);
      if (parsed !== undefined) return parsed;
      bytes = new Uint8Array(MAX_VARINT_SIZE);
      bytes[0] = b[0]!;
      i = 1;
    } else {
      bytes[i++] = b[0]!;
      parsed = parsePrefix(bytes.subarray(0, i), 0);
      if (parsed !== undefined) return parsed;
    }
    // Unreachable with a conforming codec (it rejects a 5th byte with the continuation bit).
    if (i >= MAX_VARINT_SIZE) throw new StreamError('InvalidVarint');
    return recvThen(stream, 1, onByte);
  };
  if (first === undefined) return recvThen(stream, 1, onByte);
  try {
    return Promise.resolve(onByte(Uint8Array.of(first)));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The slow path of {@link recvFrame}: the prefix byte by byte, then the payload. */
function recvSlow(stream: Stream, limit: number): Promise<Uint8Array> {
  return recvPrefix(stream).then((parsed) => {
    checkRecvLimit(parsed.value, limit);
    if (parsed.value === 0) return new Uint8Array(0);
    return recvThen(stream, parsed.value, identity);
  });
}

/**
 * Reads one frame whose payload is at most `limit` bytes, and returns the payload.
 *
 * The length is checked against `limit` before anything is allocated for the payload. Fast path:
 * when the prefix is already buffered it is parsed from `peek`, and prefix and payload are taken
 * with one `recv`. Slow path: the prefix is read byte by byte. Every failure is a rejection.
 */
export function recvFrame(stream: Stream, limit: number): Promise<Uint8Array> {
  try {
    const head = stream.peek(MAX_VARINT_SIZE);
    const parsed = parsePrefix(head, 0);
    if (parsed === undefined) return recvSlow(stream, limit);
    checkRecvLimit(parsed.value, limit);
    const skip = parsed.length;
    return recvThen(stream, skip + parsed.value, (frame) => frame.subarray(skip));
  } catch (err) {
    return Promise.reject(err);
  }
}
