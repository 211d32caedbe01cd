/**
 * Reads driven by a callback ({@link Stream.read}): the pending read both runtimes keep, the
 * promise form `recv` built on it, and {@link readFrom} for streams that only have `recv`.
 *
 * An idle connection then waits on a field holding its reader, not on a promise with its
 * reaction: nothing is allocated per read, and the bytes that end the wait are handed over
 * without a turn of the microtask queue.
 *
 * @module
 */

import type { ByteQueue, Scratch } from './byte-queue.js';
import type { ByteReader, Stream } from './context.js';

/** What a promise-backed read resolves or rejects (the `recv` form of a `read`). */
class PromiseReader implements ByteReader {
  resolve: (bytes: Uint8Array) => void = noop;
  reject: (error: unknown) => void = noop;

  onBytes(bytes: Uint8Array): void {
    this.resolve(bytes);
  }

  onError(error: unknown): void {
    this.reject(error);
  }
}

function noop(): void {}

/**
 * The promise form of a read that calls back (`Stream.recv` of `Stream.read`, the stream
 * receiver's `recv` of its `poll`): what `start(reader)` returns at once, or later tells
 * `reader`, or throws. `start` must never call the reader from within itself.
 */
export function promised(
  start: (reader: ByteReader) => Uint8Array | undefined,
): Promise<Uint8Array> {
  const reader = new PromiseReader();
  let out: Uint8Array | undefined;
  try {
    out = start(reader);
  } catch (err) {
    return Promise.reject(err);
  }
  if (out !== undefined) return Promise.resolve(out);
  // The reader is not told from within `start`: the resolvers are in place before it can be.
  return new Promise((resolve, reject) => {
    reader.resolve = resolve;
    reader.reject = reject;
  });
}

/** A stream's read ({@link Stream.read}), or its `recv` made to call `reader` when it has none. */
export function readFrom(
  stream: Stream,
  n: number,
  reader: ByteReader,
  scratch?: Scratch,
): Uint8Array | undefined {
  if (stream.read !== undefined) return stream.read(n, reader, scratch);
  stream.recv(n, scratch).then(
    (bytes) => reader.onBytes(bytes),
    (err: unknown) => reader.onError(err),
  );
  return undefined;
}

/**
 * The one read a connection may have pending: how many bytes, for whom, into what. A failure
 * reaches the reader on a microtask, as a rejection would (a `close()` with a read pending
 * does not run the reader inside it); the bytes reach it at once, or on a microtask with
 * `deferBytes` (the deterministic network, whose deliveries may happen inside the peer's
 * `send`: the reader must not run inside another connection's call).
 */
export class PendingRead {
  /** Bytes the pending read waits for (0: none pending). */
  want = 0;
  #reader: ByteReader | undefined;
  #scratch: Scratch | undefined;
  /** The reader of the read {@link take} ended, until {@link tell}. */
  #told: ByteReader | undefined;
  readonly #deferBytes: boolean;

  constructor(deferBytes: boolean) {
    this.#deferBytes = deferBytes;
  }

  /**
   * Checks a read of `n` bytes may start: `n` a non-negative safe integer, no read pending.
   *
   * @throws RangeError for a bad `n`; TypeError while another read is pending.
   */
  check(n: number): void {
    if (!(n >= 0 && Number.isSafeInteger(n))) throw new RangeError(`recv: invalid length ${n}`);
    if (this.want !== 0) throw new TypeError('recv: another recv is pending');
  }

  /** Starts waiting for `n > 0` bytes. */
  set(n: number, reader: ByteReader, scratch: Scratch | undefined): void {
    this.want = n;
    this.#reader = reader;
    this.#scratch = scratch;
  }

  /**
   * Ends the wait with its bytes taken from `queue` (which holds at least `want`): the reader is
   * told after the wait is cleared, so it may read again at once.
   */
  complete(queue: ByteQueue): void {
    this.tell(this.take(queue));
  }

  /**
   * The first half of {@link complete}: clears the wait and returns its bytes, taken from
   * `queue`; {@link tell} hands them over (the deterministic network returns the pipe's credit
   * in between, as it did before resolving a promise).
   */
  take(queue: ByteQueue): Uint8Array {
    const bytes = queue.take(this.want, this.#scratch);
    this.#told = this.#reader;
    this.#clear();
    return bytes;
  }

  /** The second half of {@link complete}: tells the reader of the read just taken. */
  tell(bytes: Uint8Array): void {
    const reader = this.#told as ByteReader;
    this.#told = undefined;
    if (this.#deferBytes) queueMicrotask(() => reader.onBytes(bytes));
    else reader.onBytes(bytes);
  }

  /** Ends the wait with `error` (nothing if none is pending). */
  fail(error: unknown): void {
    if (this.want === 0) return;
    const reader = this.#reader as ByteReader;
    this.#clear();
    queueMicrotask(() => reader.onError(error));
  }

  #clear(): void {
    this.want = 0;
    this.#reader = undefined;
    this.#scratch = undefined;
  }
}
