/**
 * The encrypted transport: {@link Sender} and {@link Receiver}, one AEAD key and nonce counter per
 * direction (commonware `stream/src/encrypted.rs`).
 *
 * @module
 */

import { varintU32Size, writeVarintU32 } from '../codec/index.js';
import type { Cipher } from '../crypto/index.js';
import { CryptoError } from '../crypto/index.js';
import type { Connection, Sink, Stream } from '../runtime/context.js';
import { TAG_SIZE } from './config.js';
import { StreamError } from './errors.js';
import { checkRecvLimit, MAX_VARINT_SIZE, parsePrefix, recvPrefix } from './frame.js';

/**
 * The largest chunk handed to the sink at once: upstream's network buffer-pool item (128 KiB).
 * Frames are concatenated into chunks of at most this size; a single larger frame goes alone.
 */
export const CHUNK_SIZE = 128 * 1024;

/** How many chunks one `sendMany` keeps in flight before waiting for the oldest to be accepted. */
const MAX_IN_FLIGHT = 4;

/**
 * Idle full-size chunk buffers, shared by every sender in the process (JS is single-threaded, and
 * a buffer returns here only once the sink is done with it). Shared rather than per sender so an
 * idle connection holds no chunk memory.
 */
const chunkPool: Uint8Array[] = [];

/** How many idle chunks the pool keeps (2 MiB). */
const POOL_MAX = 16;

/** Chunks needing fewer bytes than this get an exact-size buffer instead of a pooled 128 KiB one. */
const POOL_MIN = 16 * 1024;

/**
 * A buffer for `n` bytes that the caller overwrites entirely before sending: uninitialised (no
 * zero-fill), carved from Node's shared slab when small. Returned as a plain Uint8Array view, so
 * a sink calling `slice()` gets a copy (Buffer's `slice` would alias).
 */
function scratch(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** The first buffer of a turn's coalesced chunk holds at least this many bytes. */
const OPEN_MIN = 1024;

/**
 * Idle {@link OPEN_MIN}-byte buffers, the first buffer of a turn's coalesced chunk (most turns of
 * a request/response exchange need no more), shared like {@link chunkPool}: a write per turn
 * then costs no allocation. At most {@link SMALL_POOL_MAX} (64 KiB).
 */
const smallPool: Uint8Array[] = [];
const SMALL_POOL_MAX = 64;

/** Returns a pooled buffer (a full chunk or a small first buffer) once the sink is done with it. */
function releaseChunk(chunk: Uint8Array): void {
  if (chunk.length === CHUNK_SIZE) {
    if (chunkPool.length < POOL_MAX) chunkPool.push(chunk);
  } else if (smallPool.length < SMALL_POOL_MAX) {
    smallPool.push(chunk);
  }
}

/**
 * Frames no longer than this are gathered from one `peek`; longer ones are read on their own, so a
 * partly buffered large frame is not copied twice.
 */
const BATCH_FRAME_MAX = 16 * 1024;

/** How many bytes one batched read takes at most (one socket read in the Node runtime). */
const BATCH_BYTES = 64 * 1024;

const RESOLVED: Promise<void> = Promise.resolve();

/** The empty batch, shared by every receiver with nothing buffered. */
const NO_BATCH = new Uint8Array(0);

/** Size on the wire of the frame carrying a plaintext of `len` bytes. */
function frameSize(len: number): number {
  const body = len + TAG_SIZE;
  return varintU32Size(body) + body;
}

function ignore(): void {}

/**
 * Marks a write as handled while it waits in the in-flight list (a later chunk may fail while an
 * earlier one is awaited); it still rejects for whoever awaits it.
 */
function observed(p: Promise<void>): Promise<void> {
  p.catch(ignore);
  return p;
}

function cryptoCode(err: unknown, fallback: 'EncryptionFailed' | 'DecryptionFailed') {
  return err instanceof CryptoError && err.code === 'MessageLimitReached'
    ? 'MessageLimitReached'
    : fallback;
}

/** What a {@link Sender} needs from the runtime to coalesce: the end of the current turn. */
export interface Turns {
  /** Runs `fn` at the end of the current turn (see `Context.endOfTurn`). */
  endOfTurn(fn: () => void): void;
}

/**
 * The sending half of an encrypted stream.
 *
 * Each message becomes one frame `varint(len + 16) || ciphertext || tag`, sealed with the next
 * nonce of this direction. Frames are built in place (`sealInto`) in chunk buffers of at most
 * 128 KiB, and each chunk is written with one sink call. Calls may overlap: frames are sealed and
 * handed to the sink synchronously, so wire order is call order.
 *
 * With the runtime's end of turn (sessions made by {@link dial} / {@link listen} have it), the
 * frames of every `sendMany` call of one turn whose frames total at most {@link CHUNK_SIZE} are
 * sealed into one open chunk and written with one sink call at the end of the turn (or as soon as
 * the chunk is full): one socket write per turn rather than per call. Such a call is sealed
 * before it returns, so the caller may make the next one without awaiting it; its promise settles
 * once the chunk holding its frames has been accepted by the runtime.
 *
 * Any failure other than `SendTooLarge` is fatal: the connection is closed and every later call
 * throws `StreamClosed`.
 */
export class Sender {
  readonly #connection: Connection;
  readonly #sink: Sink;
  readonly #cipher: Cipher;
  readonly #maxMessageSize: number;
  readonly #turns: Turns | undefined;
  #failure: StreamError | undefined;
  // ---------- The open chunk: frames sealed this turn, written at its end ----------
  #open: Uint8Array | undefined;
  #openUsed = 0;
  /** Whether `#open` came from a pool (returned to it once written). */
  #openPooled = false;
  /** Settles once the open chunk is accepted; made when a caller first asks for it. */
  #flushed: Promise<void> | undefined;
  #resolveFlushed: ((p: Promise<void>) => void) | undefined;
  /** Whether the end-of-turn flush is scheduled. */
  #scheduled = false;
  readonly #flushAtEnd = (): void => {
    this.#scheduled = false;
    this.#flushOpen();
  };

  /**
   * @internal Made by {@link dial} / {@link listen}; exposed for tests that need a cipher with a
   * chosen start counter. Without `turns`, every call writes its own chunks.
   */
  constructor(connection: Connection, cipher: Cipher, maxMessageSize: number, turns?: Turns) {
    this.#connection = connection;
    this.#sink = connection.sink;
    this.#cipher = cipher;
    this.#maxMessageSize = maxMessageSize;
    this.#turns = turns;
  }

  /**
   * Encrypts and sends one message. Resolves when the runtime has accepted the bytes.
   *
   * @throws StreamError `SendTooLarge` (nothing sent, sender still usable), `MessageLimitReached`,
   *   `EncryptionFailed`, `SendFailed`, `StreamClosed`.
   */
  send(message: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#closed());
    if (message.length > this.#maxMessageSize) return Promise.reject(this.#tooLarge(message));
    // Frames already sealed this turn go first.
    this.#flushOpen();
    const out = scratch(frameSize(message.length));
    try {
      this.#seal(message, out, 0);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#write(out, undefined);
  }

  /**
   * Encrypts each message as its own frame (the receiver sees the original boundaries) and writes
   * the frames concatenated in chunks of at most 128 KiB, one sink call per chunk (coalesced with
   * the other calls of this turn when they total at most {@link CHUNK_SIZE}: see the class). Every
   * size is checked before any nonce is used, so a `SendTooLarge` leaves the sender usable and
   * sends nothing. Resolves when the runtime has accepted every chunk.
   *
   * @throws StreamError like {@link Sender.send}.
   */
  sendMany(messages: readonly Uint8Array[]): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#closed());
    const count = messages.length;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const m = messages[i]!;
      if (m.length > this.#maxMessageSize) return Promise.reject(this.#tooLarge(m));
      total += frameSize(m.length);
    }
    if (this.#turns === undefined || total > CHUNK_SIZE) {
      this.#flushOpen();
      return this.#sendChunked(messages);
    }
    if (count === 0) return this.#flushed ?? RESOLVED;
    try {
      for (let i = 0; i < count; i++) {
        const m = messages[i]!;
        const need = frameSize(m.length);
        if (this.#open === undefined || this.#openUsed + need > this.#open.length) this.#grow(need);
        this.#openUsed += this.#seal(m, this.#open!, this.#openUsed);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#turns.endOfTurn(this.#flushAtEnd);
    }
    return this.#flushed ?? this.#newFlushed();
  }

  /** The promise of the open chunk, settled by {@link #flushOpen}. */
  #newFlushed(): Promise<void> {
    const p = new Promise<void>((resolve) => {
      this.#resolveFlushed = resolve;
    });
    this.#flushed = p;
    return p;
  }

  /**
   * Makes room for a frame of `need` bytes in the open chunk: a larger buffer (the sealed bytes
   * copied over) while the chunk stays within {@link CHUNK_SIZE}, else writes the open chunk now
   * and opens a fresh one. Small turns use small buffers, so many connections sending in the same
   * turn do not each hold a full chunk.
   */
  #grow(need: number): void {
    const open = this.#open;
    const used = this.#openUsed;
    if (open !== undefined && used + need > CHUNK_SIZE) {
      this.#flushOpen();
      this.#grow(need);
      return;
    }
    const want = Math.max(used + need, open === undefined ? OPEN_MIN : 4 * open.length);
    let next: Uint8Array;
    let pooled = true;
    if (want >= POOL_MIN) next = chunkPool.pop() ?? scratch(CHUNK_SIZE);
    else if (want <= OPEN_MIN) next = smallPool.pop() ?? scratch(OPEN_MIN);
    else {
      next = scratch(want);
      pooled = false;
    }
    if (open !== undefined) {
      next.set(open.subarray(0, used), 0);
      if (this.#openPooled) releaseChunk(open);
    }
    this.#open = next;
    this.#openPooled = pooled;
  }

  /** Writes the open chunk, if any, and settles its promise. */
  #flushOpen(): void {
    const open = this.#open;
    if (open === undefined) return;
    const resolve = this.#resolveFlushed;
    this.#open = undefined;
    this.#flushed = undefined;
    this.#resolveFlushed = undefined;
    const written = this.#write(
      open.subarray(0, this.#openUsed),
      this.#openPooled ? open : undefined,
    );
    this.#openUsed = 0;
    // The callers who asked hold the promise it settles; otherwise nobody awaits this write (its
    // failure is the sender's failure, seen by the next call).
    if (resolve !== undefined) resolve(written);
    else written.catch(ignore);
  }

  /** {@link sendMany} without coalescing: its own chunks, at most MAX_IN_FLIGHT in flight. */
  async #sendChunked(messages: readonly Uint8Array[]): Promise<void> {
    const count = messages.length;
    const inFlight: Promise<void>[] = [];
    let i = 0;
    try {
      while (i < count) {
        // A chunk already in flight failed: the stream is dead, stop sealing.
        if (this.#failure !== undefined) throw this.#failure;
        const first = frameSize(messages[i]!.length);
        if (first > CHUNK_SIZE) {
          // An oversize frame travels alone, in a buffer of its own.
          const out = scratch(first);
          this.#seal(messages[i]!, out, 0);
          i++;
          inFlight.push(observed(this.#write(out, undefined)));
        } else {
          // The frames that fit in this chunk: [i, end).
          let need = first;
          let end = i + 1;
          for (; end < count; end++) {
            const next = frameSize(messages[end]!.length);
            if (need + next > CHUNK_SIZE) break;
            need += next;
          }
          const pooled = need >= POOL_MIN ? (chunkPool.pop() ?? scratch(CHUNK_SIZE)) : undefined;
          const chunk = pooled ?? scratch(need);
          let used = 0;
          for (; i < end; i++) used += this.#seal(messages[i]!, chunk, used);
          inFlight.push(observed(this.#write(chunk.subarray(0, used), pooled)));
        }
        // Bound the memory held by one call: wait for the oldest chunk once enough are queued.
        if (inFlight.length >= MAX_IN_FLIGHT) await inFlight.shift();
      }
    } catch (err) {
      // Observe the remaining writes so none rejects unhandled; the first failure is reported.
      await Promise.allSettled(inFlight);
      throw err;
    }
    await Promise.all(inFlight);
  }

  /** Seals `message` as a frame at `out[offset..]`; returns the frame size. Fatal on failure. */
  #seal(message: Uint8Array, out: Uint8Array, offset: number): number {
    const prefix = writeVarintU32(message.length + TAG_SIZE, out, offset);
    try {
      return prefix + this.#cipher.sealInto(message, out, offset + prefix);
    } catch (err) {
      throw this.#fail(
        new StreamError(cryptoCode(err, 'EncryptionFailed'), undefined, { cause: err }),
      );
    }
  }

  /** One sink call; `pooled` goes back to the pool once the sink is done with it. */
  async #write(bytes: Uint8Array, pooled: Uint8Array | undefined): Promise<void> {
    try {
      await this.#sink.send(bytes);
    } catch (err) {
      throw this.#fail(new StreamError('SendFailed', undefined, { cause: err }));
    } finally {
      if (pooled !== undefined) releaseChunk(pooled);
    }
  }

  #tooLarge(message: Uint8Array): StreamError {
    return new StreamError(
      'SendTooLarge',
      `message of ${message.length} bytes exceeds ${this.#maxMessageSize}`,
    );
  }

  #closed(): StreamError {
    return new StreamError('StreamClosed', 'sender failed earlier', { cause: this.#failure });
  }

  #fail(err: StreamError): StreamError {
    if (this.#failure === undefined) {
      this.#failure = err;
      this.#connection.close();
    }
    return err;
  }
}

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
   * the new batch. Awaits the runtime's promises directly (no nested async steps: each would cost
   * a turn of the microtask queue on every round trip).
   */
  async #read(): Promise<Uint8Array> {
    const stream = this.#stream;
    try {
      let prefix = parsePrefix(stream.peek(MAX_VARINT_SIZE), 0);
      // Bytes of the first frame's prefix still on the stream (0: already read byte by byte).
      let head = 0;
      if (prefix === undefined) {
        // Not buffered yet (an idle connection, each leg of a round trip): read and check it
        // byte by byte. A short frame's one-byte prefix usually arrives with its body.
        const first = (await stream.recv(1))[0] as number;
        prefix = first < 0x80 ? { value: first, length: 1 } : await recvPrefix(stream, first);
      } else {
        head = prefix.length;
      }
      checkRecvLimit(prefix.value, this.#limit);
      const end = head + prefix.value;
      if (prefix.value > this.#batchFrameMax) {
        // A large frame is read alone.
        const frame = await stream.recv(end);
        return this.#open(head > 0 ? frame.subarray(head) : frame);
      }
      const got = await stream.recv(this.#batchEnd(end));
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
    } catch (err) {
      throw this.#fail(
        err instanceof StreamError ? err : new StreamError('RecvFailed', undefined, { cause: err }),
      );
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
