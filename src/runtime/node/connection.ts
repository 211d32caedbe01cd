/**
 * One TCP connection of the Node runtime ({@link NodeConnection}): reads into a bounded byte
 * queue (the socket paused above `maxReadBufferBytes`), read deadlines on the network's shared
 * list, writes coalesced or corked per batch, and write deadlines. The network
 * (`./network.ts`) makes them from the sockets it dials and accepts.
 *
 * @module
 */

import type * as net from 'node:net';
import { ByteQueue, type Scratch } from '../byte-queue.js';
import type { ByteReader, Connection, SocketAddr } from '../context.js';
import { RuntimeError } from '../errors.js';
import { PendingRead, promised } from '../read.js';
import type { CloseWatcher } from '../tracked.js';
import { Deadline, type DeadlineList } from './deadlines.js';
import type { NodeNetworkOptions } from './network.js';

const RESOLVED: Promise<void> = Promise.resolve();
const EMPTY = new Uint8Array(0);
/** The empty write that stands for writes made without a callback (see `#wait`). */
const NO_BYTES = Buffer.alloc(0);

/** Batches up to this size are coalesced into one buffer rather than corked. */
const COALESCE_BYTES = 16 * 1024;

function totalLength(data: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of data) n += b.length;
  return n;
}

function concat(data: readonly Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafe(totalLength(data));
  let off = 0;
  for (const b of data) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}

interface Waiter {
  readonly target: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

function closedByPeer(): RuntimeError {
  return new RuntimeError('Closed', 'connection closed by peer');
}

/** The socket's property naming its connection (read by the shared socket listeners). */
const OWNER = Symbol('authp2p.connection');

/** A socket with its {@link NodeConnection}. */
type OwnedSocket = net.Socket & { [OWNER]?: NodeConnection };

/**
 * A TCP connection. It is its own sink and stream: one object, no indirection on hot paths; and
 * its own entry in the network's list of read deadlines.
 */
export class NodeConnection extends Deadline implements Connection {
  // Getters, not fields: nothing per connection for them.
  get sink(): this {
    return this;
  }
  get stream(): this {
    return this;
  }
  readonly remote: SocketAddr;
  /** Read from the socket on first use (see {@link local}). */
  #local: SocketAddr | undefined;
  readonly #socket: net.Socket;
  readonly #queue = new ByteQueue();
  /** The network's options (one object for every connection, not three fields each). */
  readonly #options: Required<NodeNetworkOptions>;
  /** The network's read deadlines (undefined: reads never time out). */
  readonly #reads: DeadlineList | undefined;
  readonly #open: Set<NodeConnection>;
  #paused = false;
  /** Made at the first read of {@link closed} (the tracked network uses {@link whenClosed}). */
  #closedPromise: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  #isClosed = false;
  #whenClosed: CloseWatcher | undefined;

  // ---------- Read state ----------
  /** The pending read (its reader is told in the socket's data event, no promise). */
  readonly #pending = new PendingRead(false);
  /**
   * Set once the stream ended (the peer's end, or the close): reads past the buffered bytes
   * fail with `Closed`, and, allowHalfOpen being off, every later send rejects with
   * `#sinkError()` (one flag for both halves).
   */
  #ended = false;

  // ---------- Write state ----------
  /** Batches handed to the socket, and batches it has finished with (write callbacks run in order). */
  #issued = 0;
  #completed = 0;
  /** Writes waited for, oldest first (made at the first write that waits). */
  #waiters: Waiter[] | undefined;
  #writeTimer: ReturnType<typeof setTimeout> | undefined;
  #writeDeadline = 0;
  #sinkErrorValue: RuntimeError | undefined;

  /** Set once the connection is poisoned: every later call rejects with `#poisonError()`. */
  #poisoned = false;
  /**
   * The poison error. Undefined after a local `close()` until some caller needs it: the normal
   * close path then builds no Error (capturing a stack trace is the costly part).
   */
  #errorValue: RuntimeError | undefined;

  constructor(
    socket: net.Socket,
    options: Required<NodeNetworkOptions>,
    open: Set<NodeConnection>,
    reads: DeadlineList | undefined,
  ) {
    super();
    this.#socket = socket;
    this.#options = options;
    this.#reads = reads;
    this.#open = open;
    open.add(this);
    socket.setNoDelay(true);
    this.remote = { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    // Shared listeners that find their connection on the socket: four closures fewer per
    // connection (thousands of idle connections each keep theirs).
    (socket as OwnedSocket)[OWNER] = this;
    socket.on('data', NodeConnection.#dataListener);
    socket.on('end', NodeConnection.#endListener);
    socket.on('error', NodeConnection.#errorListener);
    socket.on('close', NodeConnection.#closeListener);
  }

  /**
   * The local address, read from the socket at the first use (nothing in the network reads it:
   * no copy, nor Node's cached one, per idle connection), and at the latest when the connection
   * is ended or closed here (the socket forgets it once destroyed). After a failure the runtime
   * did not see coming (a reset), never read before: `{ ip: '', port: 0 }`.
   */
  get local(): SocketAddr {
    let l = this.#local;
    if (l === undefined) {
      const socket = this.#socket;
      l = { ip: socket.localAddress ?? '', port: socket.localPort ?? 0 };
      this.#local = l;
    }
    return l;
  }

  /** Resolves once the connection is closed for any reason (made at the first read). */
  get closed(): Promise<void> {
    let p = this.#closedPromise;
    if (p === undefined) {
      p = this.#isClosed
        ? RESOLVED
        : new Promise<void>((resolve) => {
            this.#resolveClosed = resolve;
          });
      this.#closedPromise = p;
    }
    return p;
  }

  /**
   * @internal Tells `watcher` once the connection is closed (at once if it is): {@link closed}
   * without a promise or closure per connection. One watcher; a later call replaces it.
   */
  whenClosed(watcher: CloseWatcher): void {
    if (this.#isClosed) watcher.itemClosed(this);
    else this.#whenClosed = watcher;
  }

  static readonly #dataListener = function (this: net.Socket, chunk: Buffer): void {
    const c = (this as OwnedSocket)[OWNER];
    if (c !== undefined) c.#onData(chunk);
  };

  static readonly #endListener = function (this: net.Socket): void {
    const c = (this as OwnedSocket)[OWNER];
    if (c !== undefined) c.#onEnd();
  };

  static readonly #errorListener = function (this: net.Socket, error: Error): void {
    const c = (this as OwnedSocket)[OWNER];
    if (c !== undefined) c.#onError(error);
  };

  static readonly #closeListener = function (this: net.Socket): void {
    const c = (this as OwnedSocket)[OWNER];
    if (c !== undefined) c.#onClose();
  };

  // ---------- Stream ----------

  recv(n: number, scratch?: Scratch): Promise<Uint8Array> {
    return promised((reader) => this.read(n, reader, scratch));
  }

  read(n: number, reader: ByteReader, scratch?: Scratch): Uint8Array | undefined {
    if (this.#poisoned) throw this.#poisonError();
    this.#pending.check(n);
    const queue = this.#queue;
    if (queue.length >= n) {
      if (n === 0) return EMPTY;
      const out = queue.take(n, scratch);
      if (this.#paused && queue.length <= this.#options.maxReadBufferBytes) this.#resume();
      return out;
    }
    if (this.#ended) throw closedByPeer();
    // More bytes are needed, so the socket must flow even if the buffer is above the bound.
    if (this.#paused) this.#resume();
    this.#pending.set(n, reader, scratch);
    this.#armRead();
    return undefined;
  }

  peek(max: number): Uint8Array {
    return this.#queue.peek(max);
  }

  #onData(chunk: Buffer): void {
    const queue = this.#queue;
    queue.push(chunk);
    const pending = this.#pending;
    const want = pending.want;
    if (want !== 0) {
      if (queue.length < want) {
        // Progress: the read timeout counts from the last byte received.
        this.#reads?.arm(this);
        return;
      }
      // The reader runs here, in the data event (it may read again, or close).
      pending.complete(queue);
    }
    if (!this.#paused && queue.length > this.#options.maxReadBufferBytes) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  #resume(): void {
    this.#paused = false;
    this.#socket.resume();
  }

  /**
   * Arms the read timeout: the connection moves to the tail of the network's read deadlines
   * (a completed read leaves it there; its deadline passing then finds no read pending).
   */
  #armRead(): void {
    this.#reads?.arm(this);
  }

  /** @internal The read deadline passed: a read still pending fails with `ReadTimeout`. */
  deadlinePassed(): void {
    if (this.#pending.want === 0 || this.#poisoned) return;
    this.#poison(
      new RuntimeError('ReadTimeout', `no byte received for ${this.#options.readTimeoutMs} ms`),
    );
  }

  // ---------- Sink ----------

  send(data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    if (this.#poisoned) return Promise.reject(this.#poisonError());
    if (this.#ended) return Promise.reject(this.#sinkError());
    const socket = this.#socket;
    // Undefined until a write had to be waited for (see #wait): an idle connection, whose few
    // writes reach the kernel at once, keeps no callback.
    const cb = this.#onWritten;
    if (data instanceof Uint8Array) {
      if (data.length === 0) return RESOLVED;
      socket.write(data, cb);
    } else {
      const last = data.length - 1;
      if (last < 0) return RESOLVED;
      if (last === 0) {
        socket.write(data[0] as Uint8Array, cb);
      } else if (totalLength(data) <= COALESCE_BYTES) {
        // Small batches (a frame header and its body) are cheaper copied into one buffer than
        // corked into a writev. The copy is ours, so below the high-water mark we need not wait.
        const copy = concat(data);
        const below = socket.write(copy, cb);
        if (cb !== undefined) this.#issued++;
        if (below || socket.writableLength === 0) return RESOLVED;
        return this.#wait();
      } else {
        // Corked writes leave as one writev: one syscall, one TCP push for the whole batch.
        socket.cork();
        for (let i = 0; i < last; i++) socket.write(data[i] as Uint8Array);
        socket.write(data[last] as Uint8Array, cb);
        socket.uncork();
      }
    }
    if (cb !== undefined) this.#issued++;
    // Written to the kernel synchronously: the socket no longer holds the caller's buffers.
    if (socket.writableLength === 0) return RESOLVED;
    return this.#wait();
  }

  /**
   * Waits for the write callback of the batch just issued. The first wait of a connection makes
   * its write callback: from then on every write carries it, and an empty write issued now (its
   * callback runs after those of every write before it, in order) stands for the batch just
   * written without one.
   */
  #wait(): Promise<void> {
    if (this.#onWritten === undefined) {
      this.#onWritten = (error) => this.#written(error);
      this.#socket.write(NO_BYTES, this.#onWritten);
      this.#issued++;
    }
    const target = this.#issued;
    return new Promise((resolve, reject) => {
      this.#waiters ??= [];
      this.#waiters.push({ target, resolve, reject });
      this.#armWrite();
    });
  }

  /** The write callback (see {@link #wait}). */
  #onWritten: ((error?: Error | null) => void) | undefined;

  #written(error?: Error | null): void {
    if (error) {
      this.#poison(new RuntimeError('Reset', error.message, { cause: error }));
      return;
    }
    const done = ++this.#completed;
    const waiters = this.#waiters;
    if (waiters === undefined || waiters.length === 0) return;
    let i = 0;
    while (i < waiters.length && (waiters[i] as Waiter).target <= done)
      (waiters[i++] as Waiter).resolve();
    if (i > 0) waiters.splice(0, i);
    if (waiters.length > 0 && this.#writeTimer !== undefined) {
      this.#writeDeadline = performance.now() + this.#options.writeTimeoutMs;
    }
  }

  #armWrite(): void {
    if (!Number.isFinite(this.#options.writeTimeoutMs)) return;
    if (this.#waiters?.length === 1 || this.#writeTimer === undefined) {
      this.#writeDeadline = performance.now() + this.#options.writeTimeoutMs;
    }
    if (this.#writeTimer === undefined) {
      this.#writeTimer = setTimeout(
        NodeConnection.#onWriteTimer,
        this.#options.writeTimeoutMs,
        this,
      );
      this.#writeTimer.unref();
    }
  }

  static #onWriteTimer(self: NodeConnection): void {
    self.#writeTimer = undefined;
    if (self.#waiting === 0 || self.#poisoned) return;
    const left = self.#writeDeadline - performance.now();
    if (left > 0) {
      self.#writeTimer = setTimeout(NodeConnection.#onWriteTimer, left, self);
      self.#writeTimer.unref();
      return;
    }
    self.#poison(
      new RuntimeError('WriteTimeout', `no write progress for ${self.#options.writeTimeoutMs} ms`),
    );
  }

  // ---------- Lifecycle ----------

  close(): void {
    this.#poison(undefined);
  }

  /** The error of a poisoned connection (built now if `close()` deferred it); same one each time. */
  #poisonError(): RuntimeError {
    this.#errorValue ??= new RuntimeError('Closed', 'connection closed');
    return this.#errorValue;
  }

  /** The error of sends after the peer ended the stream; same one each time. */
  #sinkError(): RuntimeError {
    this.#sinkErrorValue ??= closedByPeer();
    return this.#sinkErrorValue;
  }

  #onEnd(): void {
    // Kept while the socket still knows it (see `local`).
    void this.local;
    // allowHalfOpen is off: Node ends our side too, so the sink is finished as well.
    this.#ended = true;
    if (this.#waiting > 0) this.#failWaiters(this.#sinkError());
    if (this.#pending.want !== 0) this.#pending.fail(closedByPeer());
  }

  #onError(error: Error): void {
    this.#poison(new RuntimeError('Reset', error.message, { cause: error }));
  }

  #onClose(): void {
    this.#ended = true;
    if (this.#waiting > 0) {
      this.#failWaiters(this.#poisoned ? this.#poisonError() : this.#sinkError());
    }
    if (this.#pending.want !== 0)
      this.#pending.fail(this.#poisoned ? this.#poisonError() : closedByPeer());
    this.#clearTimers();
    this.#open.delete(this);
    this.#isClosed = true;
    const resolve = this.#resolveClosed;
    const watcher = this.#whenClosed;
    this.#resolveClosed = undefined;
    this.#whenClosed = undefined;
    resolve?.();
    watcher?.itemClosed(this);
  }

  /**
   * Any error poisons both halves: buffered bytes are dropped and every call rejects.
   * `undefined` is a local close: its error is built only if a pending or later call needs it.
   */
  #poison(error: RuntimeError | undefined): void {
    if (this.#poisoned) return;
    this.#poisoned = true;
    this.#errorValue = error;
    this.#queue.clear();
    if (this.#pending.want !== 0) this.#pending.fail(this.#poisonError());
    if (this.#waiting > 0) this.#failWaiters(this.#poisonError());
    this.#clearTimers();
    // Kept while the socket still knows it (see `local`).
    void this.local;
    this.#socket.destroy();
  }

  /** How many writes are waited for. */
  get #waiting(): number {
    return this.#waiters?.length ?? 0;
  }

  #failWaiters(error: unknown): void {
    const waiters = this.#waiters;
    if (waiters === undefined || waiters.length === 0) return;
    this.#waiters = undefined;
    for (const w of waiters) w.reject(error);
  }

  #clearTimers(): void {
    this.#reads?.disarm(this);
    if (this.#writeTimer !== undefined) clearTimeout(this.#writeTimer);
    this.#writeTimer = undefined;
  }
}
