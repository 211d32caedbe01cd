/**
 * The encrypted transport's receiving half, {@link Receiver} (the sending half is
 * `transport.ts`'s `Sender`).
 *
 * @module
 */

import type { Cipher } from '../crypto/index.js';
import type { Connection, Stream } from '../runtime/context.js';
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
export class Receiver {
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
  /** The pool buffer the runtime took for the large frame being read (see `frame-pool.ts`). */
  #lent: Uint8Array | undefined;
  /** The scratch of a large frame's `recv`: a pool buffer, remembered to be returned. */
  readonly #lend = (n: number): Uint8Array => {
    const buffer = borrowFrame(n);
    this.#lent = buffer;
    return buffer;
  };
  /** Opens a large frame read alone (`head`: bytes of prefix before it), then returns its buffer. */
  readonly #openLarge = (frame: Uint8Array, head: number): Uint8Array => {
    const lent = this.#lent;
    this.#lent = undefined;
    try {
      return this.#open(head > 0 ? frame.subarray(head) : frame);
    } finally {
      // The plaintext is in a buffer of its own: nothing refers to the ciphertext any more.
      if (lent !== undefined) returnFrame(lent);
    }
  };

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
    if (this.#failure !== undefined) return Promise.reject(this.#closed());
    if (this.#offset < this.#batch.length) {
      try {
        return Promise.resolve(this.#nextBuffered());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#read();
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
   * Reads the next frame from the runtime, with the complete small frames buffered behind it as
   * the new batch. A chain of the runtime's promises, no async function: an idle connection
   * parks here (waiting for the next prefix byte) as one reaction, not a suspended generator,
   * and no nested async step costs a turn of the microtask queue on every round trip.
   */
  #read(): Promise<Uint8Array> {
    const stream = this.#stream;
    try {
      const prefix = parsePrefix(stream.peek(MAX_VARINT_SIZE), 0);
      // Not buffered yet (an idle connection, each leg of a round trip): read and check it byte
      // by byte. A short frame's one-byte prefix usually arrives with its body.
      if (prefix === undefined) return stream.recv(1).then(this.#onFirstByte, this.#readFailed);
      return this.#readFrame(prefix, prefix.length);
    } catch (err) {
      return Promise.reject(this.#failWith(err));
    }
  }

  /** The first byte of a prefix that was not buffered: the frame's length, or its first byte. */
  readonly #onFirstByte = (bytes: Uint8Array): Promise<Uint8Array> => {
    const first = bytes[0] as number;
    if (first < 0x80) return this.#readFrame({ value: first, length: 1 }, 0);
    return recvPrefix(this.#stream, first).then(
      (prefix) => this.#readFrame(prefix, 0),
      this.#readFailed,
    );
  };

  /** A read failed: the receiver fails (a StreamError as it is, anything else `RecvFailed`). */
  readonly #readFailed = (err: unknown): never => {
    throw this.#failWith(err);
  };

  #failWith(err: unknown): StreamError {
    return this.#fail(
      err instanceof StreamError ? err : new StreamError('RecvFailed', undefined, { cause: err }),
    );
  }

  /**
   * Reads the frame whose length is `prefix` (`head`: bytes of its prefix still on the stream, 0
   * when already read) and opens it. Never throws: every failure is a rejection.
   */
  #readFrame(prefix: { value: number; length: number }, head: number): Promise<Uint8Array> {
    try {
      checkRecvLimit(prefix.value, this.#limit);
      const end = head + prefix.value;
      const stream = this.#stream;
      if (prefix.value > this.#batchFrameMax) {
        // A large frame is read alone; when it spans socket reads the runtime merges it into a
        // pooled buffer rather than a fresh allocation.
        return stream
          .recv(end, this.#lend)
          .then((frame) => this.#openLarge(frame, head), this.#readFailed);
      }
      return stream.recv(this.#batchEnd(end)).then((got) => {
        if (head > 0) {
          this.#batch = got;
          this.#offset = 0;
          return this.#nextBuffered();
        }
        // The body came without its prefix: the batch is what follows it.
        if (got.length > end) {
          this.#batch = got;
          this.#offset = end;
        }
        return this.#open(got.subarray(0, end));
      }, this.#readFailed);
    } catch (err) {
      return Promise.reject(this.#failWith(err));
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
