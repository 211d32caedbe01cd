/**
 * The runtime contract: every module takes time, randomness, networking, task spawning,
 * metrics and logging from a {@link Context}, never from globals. The Node runtime backs it with
 * real sockets and timers; the deterministic runtime with a virtual clock, a seeded RNG and an
 * in-memory network.
 *
 * @module
 */

/** An IP socket address. `ip` is a literal IPv4 (`'127.0.0.1'`) or IPv6 (`'::1'`) address. */
export interface SocketAddr {
  readonly ip: string;
  readonly port: number;
}

/** Time, in milliseconds since the Unix epoch (virtual in the deterministic runtime). */
export interface Clock {
  /** Current time in ms since the Unix epoch. */
  now(): number;
  /**
   * Resolves after `ms`; rejects with `signal.reason` if `signal` aborts first. A zero (or
   * negative) sleep is a yield: on the Node runtime it resolves after one `setImmediate` (after
   * the I/O already waiting), not after a 1 ms timer; on the deterministic runtime it runs after
   * the tasks already due at the current virtual time.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Resolves at time `t` (ms since epoch, at once if past); rejects with `signal.reason` on abort. */
  sleepUntil(t: number, signal?: AbortSignal): Promise<void>;
}

/** Randomness: seeded in the deterministic runtime, cryptographically secure in the Node runtime. */
export interface Rng {
  /** `n` fresh random bytes. */
  bytes(n: number): Uint8Array;
  /** Fills `buf` with random bytes and returns it. */
  fill(buf: Uint8Array): Uint8Array;
  /** A uniform integer in `[min, max)`; both must be safe integers with `max > min`. */
  int(min: number, max: number): number;
  /** A uniform 64-bit unsigned integer. */
  u64(): bigint;
  /** A uniform float in `[0, 1)`. */
  float(): number;
  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
}

/** The write half of a connection. Any error poisons the connection. */
export interface Sink {
  /**
   * Writes the buffers, in order, as one batch. Resolves when the runtime has accepted the bytes
   * (waiting for the socket to drain when its buffer is full: backpressure). Rejects if the
   * connection is closed or poisoned, or if the write does not complete within the runtime's write
   * timeout. Callers must not mutate the buffers until the promise settles.
   */
  send(data: Uint8Array | readonly Uint8Array[]): Promise<void>;
}

/** The read half of a connection. Any error poisons the connection. */
export interface Stream {
  /**
   * Resolves with exactly `n` bytes. Rejects if the connection closes first, is poisoned, or no
   * byte arrives within the runtime's read timeout. At most one `recv` may be pending at a time.
   *
   * `scratch`: when the bytes are not contiguous in the runtime's buffers, the runtime may call
   * it (at most once, just before resolving) for a buffer of at least `n` bytes to copy them into,
   * and resolve with a view of its first `n`. The caller owns that buffer (it may reuse it once
   * done with the result); without `scratch` the runtime allocates the copy.
   */
  recv(n: number, scratch?: (n: number) => Uint8Array): Promise<Uint8Array>;
  /** Up to `max` bytes that are already buffered, without I/O and without consuming them. */
  peek(max: number): Uint8Array;
  /**
   * Optional: {@link recv} without a promise. Returns the `n` bytes at once when they are
   * buffered (and never calls `reader`); otherwise returns `undefined` and later calls exactly
   * one of `reader.onBytes` (with exactly `n` bytes) or `reader.onError` (with what `recv` would
   * reject with), never from within this call. Throws what `recv` would reject with at once
   * (poisoned, closed by the peer, invalid `n`, another read pending). `scratch` as in `recv`.
   * The reader's methods must not throw. `readFrom` (`src/runtime/read.ts`) falls back to
   * `recv` for a stream without it.
   */
  read?(n: number, reader: ByteReader, scratch?: (n: number) => Uint8Array): Uint8Array | undefined;
}

/** Told the outcome of a pending {@link Stream.read}, once. Its methods must not throw. */
export interface ByteReader {
  /** The bytes the read waited for (exactly the `n` asked). */
  onBytes(bytes: Uint8Array): void;
  /** Why the read failed (what `recv` would reject with). */
  onError(error: unknown): void;
}

/** A duplex byte connection (TCP in the Node runtime, in-memory in the deterministic runtime). */
export interface Connection {
  readonly sink: Sink;
  readonly stream: Stream;
  /** The address of the other end. */
  readonly remote: SocketAddr;
  /** The local address of this end. */
  readonly local: SocketAddr;
  /** Closes both halves; pending and later calls reject. Idempotent. */
  close(): void;
  /** Resolves once the connection is closed for any reason. */
  readonly closed: Promise<void>;
}

/** A bound listener. */
export interface Listener {
  /** The bound address (with the real port when bound to port 0). */
  readonly address: SocketAddr;
  /**
   * Resolves with the next inbound connection. Rejects with `signal.reason` on abort, or with an
   * error once the listener is closed.
   */
  accept(signal?: AbortSignal): Promise<Connection>;
  /** Stops listening; pending `accept` calls reject. Idempotent. */
  close(): void;
  /** Resolves once the listener is closed and its address released. */
  readonly closed: Promise<void>;
}

/** Networking: TCP in the Node runtime, an in-memory network in the deterministic runtime. */
export interface Network {
  /** Listens at `address` (port 0 picks a free port; the listener tells which). */
  bind(address: SocketAddr): Promise<Listener>;
  /**
   * Connects; rejects (connection refused) when nothing listens at `address`. With `localIp`
   * (typically the caller's own listen IP), the connection leaves from that address, so the
   * accepting side sees it as the remote IP; a wildcard (`0.0.0.0`, `::`) or an address of the
   * other IP family than `address` is ignored (the network picks the source as without it).
   */
  dial(address: SocketAddr, signal?: AbortSignal, localIp?: string): Promise<Connection>;
  /** Resolves a DNS name to IP address literals. */
  resolve(host: string, signal?: AbortSignal): Promise<string[]>;
}

/** Label values of one metric sample. Keep them bounded: never a value an attacker chooses. */
export type Labels = Readonly<Record<string, string | number>>;

/** A monotonic counter (exposed with the `_total` suffix), optionally labelled. */
export interface Counter {
  /** Adds `value` (default 1; must be finite and >= 0) to the series of `labels`. */
  inc(labels?: Labels, value?: number): void;
  /** The current value of the series of `labels` (0 if never incremented). */
  get(labels?: Labels): number;
  /**
   * Optional: a handle on one label set, for hot paths. Its `inc` costs no label hashing (counts
   * may be folded in lazily, but every read and every exposition sees them).
   */
  bind?(labels: Labels): BoundCounter;
}

/** A {@link Counter} fixed to one label set (see {@link Counter.bind}). */
export interface BoundCounter {
  /** Adds `value` (default 1; must be finite and >= 0). */
  inc(value?: number): void;
}
/** A value that goes up and down, optionally labelled. */
export interface Gauge {
  /** Sets the series of `labels` (or the unlabelled series) to `value`. */
  set(labels: Labels | undefined, value: number): void;
  /** Adds `value` (default 1) to the series of `labels`. */
  inc(labels?: Labels, value?: number): void;
  /** Subtracts `value` (default 1) from the series of `labels`. */
  dec(labels?: Labels, value?: number): void;
  /** The current value of the series of `labels` (0 if never set). */
  get(labels?: Labels): number;
  /** Removes the series of exactly `labels` from the exposition. */
  remove(labels: Labels): void;
}
/** A distribution of observed values in fixed buckets, optionally labelled. */
export interface Histogram {
  /** Records one observation of `value` in the series of `labels`. */
  observe(labels: Labels | undefined, value: number): void;
}

/**
 * A metrics registry view. Names are prefixed by the context's label path (`child('peer1')` makes
 * `peer1_`), so several networks can share one process. A counter is registered and read by its
 * bare name and exposed with the `_total` suffix Prometheus requires (`messages_sent` is exposed
 * as `messages_sent_total`).
 */
export interface Metrics {
  /** Registers (or returns the already registered) counter `name` with its help text. */
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  /** Registers (or returns the already registered) gauge `name` with its help text. */
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  /** Registers (or returns the already registered) histogram `name` with its bucket bounds. */
  histogram(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames?: readonly string[],
  ): Histogram;
  /** Prometheus text exposition of every metric registered under this context. */
  encode(): Promise<string>;
  /**
   * Removes every series, in every family registered under this context (children included),
   * whose labels include all of `labels`: for example `{ peer: hex }` when a peer is gone for
   * good, so that churn does not grow the registry. Families without all of those label names
   * are untouched. Cost: per family, one removal per combination of the other labels' values
   * seen so far (labels are bounded by design).
   */
  forget(labels: Labels): void;
}

/** A leveled, structured logger (pino-compatible call shape). Silent by default. */
export interface Logger {
  /** Logs `obj`'s fields and `msg` at level trace (10). */
  trace(obj: object, msg?: string): void;
  /** Logs `obj`'s fields and `msg` at level debug (20). */
  debug(obj: object, msg?: string): void;
  /** Logs `obj`'s fields and `msg` at level info (30). */
  info(obj: object, msg?: string): void;
  /** Logs `obj`'s fields and `msg` at level warn (40). */
  warn(obj: object, msg?: string): void;
  /** Logs `obj`'s fields and `msg` at level error (50). */
  error(obj: object, msg?: string): void;
  /** A logger that adds `bindings` to every record it writes. */
  child(bindings: Record<string, unknown>): Logger;
}

/** A spawned task. */
export interface Handle<T> {
  /**
   * Settles when the task has ended: resolves with its value, or rejects with its error. A task
   * that ends by throwing its context's abort reason after `stop()` resolves `undefined`.
   * The runtime always observes this promise, so an ignored handle never causes an unhandled
   * rejection; unexpected failures are reported to the runtime (the deterministic runtime fails
   * the run). An error thrown after the task's signal was aborted (a socket closed during
   * shutdown, say) still rejects `done` but is not reported as a failure.
   */
  readonly done: Promise<T | undefined>;
  /** Aborts the task's context (and so every task beneath it). Idempotent. */
  stop(reason?: unknown): void;
}

/** Everything a module may use from the outside world. */
export interface Context {
  /** The label path, e.g. `'network_tracker'` (empty at the root). */
  readonly label: string;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly network: Network;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Aborted when this context (or any ancestor) is stopped. */
  readonly signal: AbortSignal;
  /**
   * A child context: label path `parent_label`, metrics prefixed with `label_`. It has no handle
   * of its own, so it shares this context's cancellation scope (aborted exactly when this one
   * is). Labels match `[A-Za-z][A-Za-z0-9_]*` (a TypeError otherwise).
   */
  child(label: string): Context;
  /**
   * Runs `fn` as a task in a new child context labelled `label`, with its own cancellation scope
   * linked to this one (stopping the handle aborts the task and every task beneath it). `fn`
   * starts on a microtask, after `spawn` has returned.
   */
  spawn<T>(label: string, fn: (ctx: Context) => Promise<T>): Handle<T>;
  /**
   * Runs `fn` at the end of the current turn: once the synchronous code and the promise
   * continuations now running are over, before the runtime handles the next I/O event, timer or
   * delivery. Callbacks run in registration order, on the same schedule in both runtimes (so a
   * deterministic run stays deterministic); one registered while they run waits for the next
   * round. `fn` must not throw (a throw is logged at error level and the others still run). The
   * encrypted stream uses it to write the frames sealed in one turn with one socket write.
   */
  endOfTurn(fn: () => void): void;
}
