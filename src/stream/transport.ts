/**
 * The encrypted transport's sending half, {@link Sender} (the receiving half is in `receiver.ts`):
 * one AEAD key and nonce counter per direction (commonware `stream/src/encrypted.rs`).
 *
 * @module
 */

import { varintU32Size, writeVarintU32 } from '../codec/index.js';
import type { Cipher } from '../crypto/index.js';
import { CryptoError } from '../crypto/index.js';
import type { Connection, Sink } from '../runtime/context.js';
import { AT_END_OF_TURN, deferCall, type Turns } from '../runtime/turn.js';
import { TAG_SIZE } from './config.js';
import { StreamError } from './errors.js';

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

const RESOLVED: Promise<void> = Promise.resolve();

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

/** The stream error code for a failed seal or open: `MessageLimitReached` or `fallback`. */
export function cryptoCode(
  err: unknown,
  fallback: 'EncryptionFailed' | 'DecryptionFailed',
): 'MessageLimitReached' | 'EncryptionFailed' | 'DecryptionFailed' {
  return err instanceof CryptoError && err.code === 'MessageLimitReached'
    ? 'MessageLimitReached'
    : fallback;
}

/** What a {@link Sender} needs from the runtime to coalesce: the end of the current turn. */
export type { Turns };

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
  /** Whether the end-of-turn flush ({@link AT_END_OF_TURN}) is scheduled. */
  #scheduled = false;

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
    // Scheduled before sealing, so that whatever this call leaves in the open chunk is written.
    if (!this.#scheduled) {
      this.#scheduled = true;
      deferCall(this.#turns, this);
    }
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
    return this.#flushed ?? this.#newFlushed();
  }

  /** @internal The end of the turn: writes the open chunk (see {@link Sender.sendMany}). */
  [AT_END_OF_TURN](): void {
    this.#scheduled = false;
    this.#flushOpen();
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
