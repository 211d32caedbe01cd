/**
 * The encrypted transport's receiving half, {@link Receiver} (the sending half is
 * `transport.ts`'s `Sender`).
 *
 * @module
 */

import type { Cipher } from '../crypto/index.js';
import type { ByteReader, Connection, Stream } from '../runtime/context.js';
import { promised, readFrom } from '../runtime/read.js';
import { TAG_SIZE } from './config.js';
import { StreamError } from './errors.js';
import { checkRecvLimit, MAX_VARINT_SIZE, parsePrefix, recvPrefix } from './frame.js';
import { borrowFrame, returnFrame } from './frame-pool.js';
import { cryptoCode } from './transport.js';

/**
 * Frames no longer than this are gathered from one `peek`; longer ones are read on their own, so a
 * partly buffered large frame is not copied twice.
 */
const BATCH_FRAME_MAX = 16 * 1024;

/** How many bytes one batched read takes at most (one socket read in the Node runtime). */
const BATCH_BYTES = 64 * 1024;

/** Phases of the receiver's pending read: none, a prefix's first byte, a small frame, a large one, a prefix byte by byte. */
const IDLE = 0;
const FIRST = 1;
const SMALL = 2;
const LARGE = 3;
const SLOW = 4;

/** The empty batch, shared by every receiver with nothing buffered. */
const NO_BATCH = new Uint8Array(0);

/**
 * The receiving half of an encrypted stream.
 *
 * `recv` reads one frame (limit `maxMessageSize + 16`, checked before allocating) and opens it
 * with the next nonce. When several small frames are already buffered they are taken with one
 * `recv` of the runtime and opened one per call. Any failure is fatal: the connection is closed,
 * nothing after it is delivered, and every later call throws `StreamClosed`.
 */
export class Receiver implements ByteReader {
  readonly #connection: Connection;
  readonly #stream: Stream;
  readonly #cipher: Cipher;
  readonly #limit: number;
  /** Frames up to this size join a batch; larger ones (and any over the limit) are read alone. */
  readonly #batchFrameMax: number;
  #failure: StreamError | undefined;
  // ---------- Batch of frames already read but not yet opened ----------
  #batch: Uint8Array = NO_BATCH;
  #offset = 0;
  // ---------- The pending read (see poll) ----------
  /** Who the pending {@link poll} tells. */
  #reader: ByteReader | undefined;
  /** What the runtime's pending read is for (IDLE: none, or a promise of the slow prefix path). */
  #phase = IDLE;
  /** Bytes of the frame's prefix still on the stream before its body (SMALL, LARGE). */
  #head = 0;
  /** `#head` plus the frame's length. */
  #end = 0;
  /** The pool buffer the runtime took for the large frame being read (see `frame-pool.ts`). */
  #lent: Uint8Array | undefined;
  /**
   * The scratch of a large frame's read: a pool buffer, remembered to be returned. Made at the
   * first large frame (a connection that never gets one holds no closure for it).
   */
  #lend: ((n: number) => Uint8Array) | undefined;
  /**
   * @internal Made by {@link dial} / {@link listen}; exposed for tests that need a cipher with a
   * chosen start counter.
   */
  constructor(connection: Connection, cipher: Cipher, maxMessageSize: number) {
    this.#connection = connection;
    this.#stream = connection.stream;
    this.#cipher = cipher;
    this.#limit = maxMessageSize + TAG_SIZE;
    this.#batchFrameMax = Math.min(BATCH_FRAME_MAX, this.#limit);
  }

  /**
   * Resolves with the next message, in order. At most one call may be pending at a time. The
   * message owns its memory: its `.buffer` holds that message's bytes and nothing else.
   *
   * @throws StreamError `RecvTooLarge`, `InvalidVarint`, `DecryptionFailed`, `MessageLimitReached`,
   *   `RecvFailed`, `StreamClosed`; all fatal.
   */
  recv(): Promise<Uint8Array> {
    return promised((reader) => this.poll(reader));
  }

  /**
   * The next message if its frame was already read from the runtime (frames batched by an
   * earlier {@link Receiver.recv}), opened as `recv` would; `undefined` when the next one needs a
   * read (then call `recv`). No promise: a receive loop takes a batch of small frames without a
   * turn per message. Not while a `recv` is pending.
   *
   * @throws StreamError as {@link Receiver.recv}; all fatal.
   */
  tryRecv(): Uint8Array | undefined {
    if (this.#failure !== undefined) throw this.#closed();
    return this.#offset < this.#batch.length ? this.#nextBuffered() : undefined;
  }

  /**
   * {@link recv} without a promise: the next message at once when its frame is buffered (in the
   * current batch or in the runtime), else `undefined`, and then `reader.onBytes(message)` or
   * `reader.onError(error)` is called exactly once, later (never from within this call). At most
   * one may be pending (as `recv`). An idle connection then waits on the runtime's callback,
   * holding no promise.
   *
   * @throws StreamError as {@link Receiver.recv}, at once; all fatal.
   */
  poll(reader: ByteReader): Uint8Array | undefined {
    if (this.#failure !== undefined) throw this.#closed();
    if (this.#offset < this.#batch.length) return this.#nextBuffered();
    if (this.#reader !== undefined) {
      throw this.#failWith(new TypeError('recv: another recv is pending'));
    }
    let out: Uint8Array | undefined;
    try {
      out = this.#readPrefix();
    } catch (err) {
      throw this.#failWith(err);
    }
    if (out === undefined) this.#reader = reader;
    return out;
  }

  /**
   * @internal The runtime's read finished (this is the {@link ByteReader} of the reads that
   * {@link poll} starts): goes on to the next step, and tells the poll's reader once a message
   * is open.
   */
  onBytes(bytes: Uint8Array): void {
    let out: Uint8Array | undefined;
    try {
      const phase = this.#phase;
      this.#phase = IDLE;
      if (phase === FIRST) out = this.#onFirstByte(bytes);
      else if (phase === SMALL) out = this.#openSmall(bytes);
      else out = this.#openLarge(bytes);
    } catch (err) {
      this.#settle(undefined, this.#failWith(err));
      return;
    }
    if (out !== undefined) this.#settle(out, undefined);
  }

  /** @internal The runtime's read failed: the receiver fails (see {@link onBytes}). */
  onError(error: unknown): void {
    this.#phase = IDLE;
    this.#settle(undefined, this.#failWith(error));
  }

  /** Tells the pending poll's reader (a message or an error). */
  #settle(message: Uint8Array | undefined, error: StreamError | undefined): void {
    const reader = this.#reader;
    this.#reader = undefined;
    if (reader === undefined) return;
    if (message !== undefined) reader.onBytes(message);
    else reader.onError(error);
  }

  /** Opens the next frame of the current batch (its prefix was validated when it was read). */
  #nextBuffered(): Uint8Array {
    const batch = this.#batch;
    const prefix = parsePrefix(batch, this.#offset)!;
    const start = this.#offset + prefix.length;
    const end = start + prefix.value;
    if (end === batch.length) {
      // The batch is a view of a socket read: drop it with its last frame, so an idle
      // connection does not keep its last read buffer (native memory) alive.
      this.#batch = NO_BATCH;
      this.#offset = 0;
    } else {
      this.#offset = end;
    }
    return this.#open(batch.subarray(start, end));
  }

  /**
   * Starts reading the next frame from the runtime: its message when the runtime has it whole,
   * else `undefined` with a read pending (whose callback is {@link onBytes}). Throws on failure.
   */
  #readPrefix(): Uint8Array | undefined {
    const stream = this.#stream;
    const prefix = parsePrefix(stream.peek(MAX_VARINT_SIZE), 0);
    if (prefix !== undefined) return this.#readFrame(prefix.value, prefix.length);
    // Not buffered yet (an idle connection, each leg of a round trip): read its first byte. A
    // short frame's one-byte prefix usually arrives with its body.
    this.#phase = FIRST;
    const first = readFrom(stream, 1, this);
    if (first === undefined) return undefined;
    this.#phase = IDLE;
    return this.#onFirstByte(first);
  }

  /** The first byte of a prefix that was not buffered: the frame's length, or its first byte. */
  #onFirstByte(bytes: Uint8Array): Uint8Array | undefined {
    const first = bytes[0] as number;
    if (first < 0x80) return this.#readFrame(first, 0);
    // A longer prefix: the rest of it usually arrived with its first byte.
    const rest = this.#stream.peek(MAX_VARINT_SIZE - 1);
    const whole = new Uint8Array(1 + rest.length);
    whole[0] = first;
    whole.set(rest, 1);
    const prefix = parsePrefix(whole, 0);
    if (prefix !== undefined) return this.#readFrame(prefix.value, prefix.length - 1);
    // Split from its first byte: read it byte by byte (rare, so as a promise chain).
    this.#phase = SLOW;
    recvPrefix(this.#stream, first).then(
      (prefix) => this.#onSlowPrefix(prefix),
      (err: unknown) => this.onError(err),
    );
    return undefined;
  }

  #onSlowPrefix(prefix: { value: number; length: number }): void {
    this.#phase = IDLE;
    let out: Uint8Array | undefined;
    try {
      out = this.#readFrame(prefix.value, 0);
    } catch (err) {
      this.#settle(undefined, this.#failWith(err));
      return;
    }
    if (out !== undefined) this.#settle(out, undefined);
  }

  #failWith(err: unknown): StreamError {
    return this.#fail(
      err instanceof StreamError ? err : new StreamError('RecvFailed', undefined, { cause: err }),
    );
  }

  /**
   * Reads the frame of `length` bytes (`head`: bytes of its prefix still on the stream before
   * it, 0 when the prefix was read) and opens it; `undefined` with a read pending when it is not
   * buffered yet. Throws on failure.
   */
  #readFrame(length: number, head: number): Uint8Array | undefined {
    checkRecvLimit(length, this.#limit);
    const end = head + length;
    this.#head = head;
    this.#end = end;
    const stream = this.#stream;
    if (length > this.#batchFrameMax) {
      // A large frame is read alone; when it spans socket reads the runtime merges it into a
      // pooled buffer rather than a fresh allocation.
      this.#phase = LARGE;
      this.#lend ??= (n: number): Uint8Array => {
        const buffer = borrowFrame(n);
        this.#lent = buffer;
        return buffer;
      };
      const frame = readFrom(stream, end, this, this.#lend);
      if (frame === undefined) return undefined;
      this.#phase = IDLE;
      return this.#openLarge(frame);
    }
    this.#phase = SMALL;
    const got = readFrom(stream, this.#batchEnd(end), this);
    if (got === undefined) return undefined;
    this.#phase = IDLE;
    return this.#openSmall(got);
  }

  /** A small frame read with the complete small frames behind it: those are the new batch. */
  #openSmall(got: Uint8Array): Uint8Array {
    const end = this.#end;
    if (got.length > end) {
      this.#batch = got;
      this.#offset = end;
    }
    const head = this.#head;
    // The usual case (one frame, its prefix read before it): the read is the frame.
    return this.#open(head === 0 && end === got.length ? got : got.subarray(head, end));
  }

  /** Opens a large frame read alone, then returns its pool buffer. */
  #openLarge(frame: Uint8Array): Uint8Array {
    const lent = this.#lent;
    const head = this.#head;
    this.#lent = undefined;
    try {
      return this.#open(head > 0 ? frame.subarray(head) : frame);
    } finally {
      // The plaintext is in a buffer of its own: nothing refers to the ciphertext any more.
      if (lent !== undefined) returnFrame(lent);
    }
  }

  /**
   * Where the batch starting with a first frame of `first` bytes ends: after every complete small
   * frame buffered behind it (up to 64 KiB in all).
   */
  #batchEnd(first: number): number {
    const view = this.#stream.peek(BATCH_BYTES);
    let end = first;
    if (view.length < first) return first;
    while (end < view.length) {
      let prefix: { value: number; length: number } | undefined;
      try {
        prefix = parsePrefix(view, end);
      } catch {
        break;
      }
      // A frame over the limit (or malformed) is left for a later read, where it fails.
      if (prefix === undefined || prefix.value > this.#batchFrameMax) break;
      const next = end + prefix.length + prefix.value;
      if (next > view.length) break;
      end = next;
    }
    return end;
  }

  #open(frame: Uint8Array): Uint8Array {
    if (frame.length < TAG_SIZE) {
      throw this.#fail(new StreamError('DecryptionFailed', 'frame shorter than the tag'));
    }
    try {
      return this.#cipher.open(frame);
    } catch (err) {
      throw this.#fail(
        new StreamError(cryptoCode(err, 'DecryptionFailed'), undefined, { cause: err }),
      );
    }
  }

  #closed(): StreamError {
    return new StreamError('StreamClosed', 'receiver failed earlier', { cause: this.#failure });
  }

  #fail(err: StreamError): StreamError {
    if (this.#failure === undefined) {
      this.#failure = err;
      this.#batch = NO_BATCH;
      this.#offset = 0;
      this.#connection.close();
    }
    return err;
  }
}
