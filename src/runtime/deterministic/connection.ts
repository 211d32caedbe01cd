/**
 * One in-memory connection of the deterministic runtime's network: its two ends
 * ({@link Endpoint}, each a `Connection`), the pipe of each direction with its byte budget and
 * delivery events, and the shared record of the link. The network (`./network.ts`) makes them
 * and tells them apart by id; what they need back from it is {@link LinkHost}.
 *
 * @module
 */

import { ByteQueue, type Scratch } from '../byte-queue.js';
import type { ByteReader, Connection, SocketAddr } from '../context.js';
import { RuntimeError } from '../errors.js';
import { TimedEvent } from '../event-heap.js';
import { PendingRead, promised } from '../read.js';
import { type Digest, EVENT } from './digest.js';
import { Callback, type Scheduler } from './scheduler.js';

/** What a connection needs from the network that made it. */
export interface LinkHost {
  readonly scheduler: Scheduler;
  readonly digest: Digest;
  /** Bytes one direction holds (in flight plus unread). */
  readonly bufferBytes: number;
  readonly readTimeoutMs: number;
  readonly writeTimeoutMs: number;
  /** One-way delay from `fromIp` to `toIp` (virtual ms). */
  delay(fromIp: string, toIp: string): number;
  /** An end closed (for the digest and to forget a link closed at both ends). */
  endpointClosed(end: Endpoint, reason: string): void;
}

const RESOLVED: Promise<void> = Promise.resolve();
const EMPTY = new Uint8Array(0);

function closedByPeer(): RuntimeError {
  return new RuntimeError('Closed', 'connection closed by peer');
}

function noop(): void {}

/** A pending send: the caller's buffers and how far they have been taken. */
class SendOp {
  readonly chunks: readonly Uint8Array[];
  i = 0;
  off = 0;
  remaining: number;
  resolve: () => void = noop;
  reject: (error: unknown) => void = noop;
  constructor(chunks: readonly Uint8Array[], total: number) {
    this.chunks = chunks;
    this.remaining = total;
  }
  /** Copies the next `n` bytes into one buffer (the caller may reuse its buffers afterwards). */
  take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.i] as Uint8Array;
      const k = Math.min(chunk.length - this.off, n - filled);
      out.set(chunk.subarray(this.off, this.off + k), filled);
      filled += k;
      this.off += k;
      if (this.off === chunk.length) {
        this.i++;
        this.off = 0;
      }
    }
    this.remaining -= n;
    return out;
  }
}

/** Bytes (or the close marker) arriving at the end of a pipe. */
class Delivery extends TimedEvent {
  readonly #pipe: Pipe;
  readonly #bytes: Uint8Array | undefined;
  constructor(pipe: Pipe, bytes: Uint8Array | undefined) {
    super();
    this.#pipe = pipe;
    this.#bytes = bytes;
  }
  fire(): void {
    this.#pipe.arrive(this.#bytes);
  }
}

/** One direction of a connection. */
export class Pipe {
  readonly net: LinkHost;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly dir: number;
  /** Bytes in flight plus bytes unread at `dst`; bounded by the network's buffer size. */
  used = 0;
  inFlight = 0;
  lastDeadline = 0;
  /** Set by cut/reset: whatever is in flight is lost. */
  dead = false;
  pending: SendOp[] = [];

  constructor(net: LinkHost, src: Endpoint, dst: Endpoint, dir: number) {
    this.net = net;
    this.src = src;
    this.dst = dst;
    this.dir = dir;
  }

  /** Takes as much of the queued sends as the buffer allows; resolves the finished ones. */
  pump(): void {
    const cap = this.net.bufferBytes;
    const pending = this.pending;
    while (pending.length > 0) {
      const op = pending[0] as SendOp;
      const room = cap - this.used;
      if (room <= 0) return;
      const n = Math.min(room, op.remaining);
      this.used += n;
      this.#transmit(op.take(n));
      if (op.remaining > 0) return;
      pending.shift();
      op.resolve();
      this.src.sendProgress();
    }
  }

  #transmit(bytes: Uint8Array | undefined): void {
    const sched = this.net.scheduler;
    const now = sched.now();
    let deadline = now + this.net.delay(this.src.local.ip, this.dst.local.ip);
    if (deadline < this.lastDeadline) deadline = this.lastDeadline;
    if (deadline === now && this.inFlight === 0) {
      this.arrive(bytes, false);
      return;
    }
    this.inFlight++;
    this.lastDeadline = deadline;
    sched.at(new Delivery(this, bytes), deadline);
  }

  /** Sends the close marker behind the bytes already in flight. */
  fin(): void {
    this.#transmit(undefined);
  }

  arrive(bytes: Uint8Array | undefined, scheduled = true): void {
    if (scheduled) this.inFlight--;
    if (this.dead) {
      if (bytes !== undefined) this.used -= bytes.length;
      return;
    }
    if (bytes === undefined) this.dst.peerClosed();
    else if (!this.dst.receive(bytes)) this.used -= bytes.length;
  }

  /** `dst` consumed `n` bytes: room for the sender. */
  release(n: number): void {
    this.used -= n;
    if (this.pending.length > 0) this.pump();
  }

  failPending(error: unknown): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    for (const op of pending) op.reject(error);
  }
}

/** The shared record of one connection. */
export class Link {
  readonly id: number;
  readonly dialer: Endpoint;
  readonly acceptor: Endpoint;
  constructor(id: number, dialer: Endpoint, acceptor: Endpoint) {
    this.id = id;
    this.dialer = dialer;
    this.acceptor = acceptor;
  }
}

/** One end of an in-memory connection; its own sink and stream. */
export class Endpoint implements Connection {
  readonly sink: this = this;
  readonly stream: this = this;
  readonly local: SocketAddr;
  readonly remote: SocketAddr;
  readonly closed: Promise<void>;
  readonly net: LinkHost;
  readonly side: number;
  link!: Link;
  out!: Pipe;
  in!: Pipe;

  readonly #queue = new ByteQueue();
  /**
   * The pending read. Its reader is told on a microtask, as a promise's reaction would be: a
   * delivery may happen inside the peer's `send` (a link without latency), where this end's
   * reader must not run.
   */
  readonly #pending = new PendingRead(true);
  #eof = false;
  #writeError: RuntimeError | undefined;
  #error: RuntimeError | undefined;
  #isClosed = false;
  #resolveClosed!: () => void;
  #readTimer: Callback | undefined;
  #writeTimer: Callback | undefined;

  constructor(net: LinkHost, local: SocketAddr, remote: SocketAddr, side: number) {
    this.net = net;
    this.local = local;
    this.remote = remote;
    this.side = side;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  // ---------- Stream ----------

  recv(n: number, scratch?: Scratch): Promise<Uint8Array> {
    return promised((reader) => this.read(n, reader, scratch));
  }

  read(n: number, reader: ByteReader, scratch?: Scratch): Uint8Array | undefined {
    if (this.#error !== undefined) throw this.#error;
    this.#pending.check(n);
    if (this.#queue.length >= n) {
      if (n === 0) return EMPTY;
      const out = this.#queue.take(n, scratch);
      this.in.release(n);
      return out;
    }
    if (this.#eof) throw closedByPeer();
    this.#pending.set(n, reader, scratch);
    this.#armRead();
    return undefined;
  }

  peek(max: number): Uint8Array {
    return this.#queue.peek(max);
  }

  /** Bytes arrived; false if this end can no longer take them (they are dropped). */
  receive(bytes: Uint8Array): boolean {
    if (this.#error !== undefined || this.#isClosed) return false;
    const queue = this.#queue;
    queue.push(bytes);
    const pending = this.#pending;
    const want = pending.want;
    if (want !== 0) {
      if (queue.length < want) {
        this.#armRead();
        return true;
      }
      this.#cancelReadTimer();
      const out = pending.take(queue);
      this.in.release(want);
      pending.tell(out);
    }
    return true;
  }

  #cancelReadTimer(): void {
    if (this.#readTimer !== undefined) this.net.scheduler.cancel(this.#readTimer);
  }

  #failRecv(error: unknown): void {
    if (this.#pending.want === 0) return;
    this.#cancelReadTimer();
    this.#pending.fail(error);
  }

  #armRead(): void {
    const ms = this.net.readTimeoutMs;
    if (!Number.isFinite(ms)) return;
    this.#readTimer ??= new Callback(() => {
      this.#poison(new RuntimeError('ReadTimeout', `no byte received for ${ms} ms`));
    });
    const sched = this.net.scheduler;
    sched.cancel(this.#readTimer);
    sched.at(this.#readTimer, sched.now() + ms);
  }

  // ---------- Sink ----------

  send(data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const error = this.#error ?? this.#writeError;
    if (error !== undefined) return Promise.reject(error);
    const chunks = data instanceof Uint8Array ? [data] : data;
    let total = 0;
    for (const c of chunks) total += c.length;
    if (total === 0) return RESOLVED;
    const digest = this.net.digest.kind(EVENT.send).f64(this.link.id).f64(this.side).f64(total);
    for (const c of chunks) digest.bytes(c);
    const op = new SendOp(chunks, total);
    const pipe = this.out;
    pipe.pending.push(op);
    if (pipe.pending.length === 1) pipe.pump();
    // Fully taken at once (the common case when the buffer has room): no promise to wait on.
    if (op.remaining === 0) return RESOLVED;
    return new Promise((resolve, reject) => {
      op.resolve = resolve;
      op.reject = reject;
      this.#armWrite();
    });
  }

  /** A queued send completed: the write timeout restarts (or stops when nothing waits). */
  sendProgress(): void {
    if (this.#writeTimer === undefined) return;
    this.net.scheduler.cancel(this.#writeTimer);
    if (this.out.pending.length > 0) this.#armWrite();
  }

  #armWrite(): void {
    const ms = this.net.writeTimeoutMs;
    if (!Number.isFinite(ms)) return;
    this.#writeTimer ??= new Callback(() => {
      this.#poison(new RuntimeError('WriteTimeout', `no write progress for ${ms} ms`));
    });
    const sched = this.net.scheduler;
    if (this.#writeTimer.index >= 0) return;
    sched.at(this.#writeTimer, sched.now() + ms);
  }

  // ---------- Lifecycle ----------

  close(): void {
    this.#poison(new RuntimeError('Closed', 'connection closed'));
  }

  /** The close marker arrived (or the link was cut): reads drain the buffer, then reject. */
  peerClosed(): void {
    if (this.#eof) return;
    this.#eof = true;
    this.#writeError ??= closedByPeer();
    this.out.failPending(this.#writeError);
    this.#failRecv(closedByPeer());
    this.#markClosed('peer');
  }

  /** Any error poisons both halves: buffered bytes are dropped and every call rejects. */
  poison(error: RuntimeError): void {
    this.#poison(error);
  }

  #poison(error: RuntimeError): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    // The peer's credit is not returned: its queued sends stay blocked until the close marker
    // reaches it and fails them, as a TCP sender learns of a dead receiver only from the wire.
    this.#queue.clear();
    this.#failRecv(error);
    this.out.failPending(error);
    if (this.#writeTimer !== undefined) this.net.scheduler.cancel(this.#writeTimer);
    if (!this.#isClosed) {
      // The peer learns of the close after the bytes already sent (TCP FIN).
      this.out.fin();
      this.#markClosed(error.code);
    }
  }

  #markClosed(reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.net.endpointClosed(this, reason);
    this.#resolveClosed();
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }
}
