/**
 * Test helpers for the stream tests: an in-memory connection whose bytes the test controls, and
 * configuration shortcuts.
 */

import { ed25519 } from '../../src/crypto/index.js';
import { ByteQueue, type Scratch } from '../../src/runtime/byte-queue.js';
import type {
  ByteReader,
  Clock,
  Connection,
  Context,
  SocketAddr,
} from '../../src/runtime/context.js';
import { Config, type ConfigFields } from '../../src/stream/index.js';

export const NAMESPACE = new TextEncoder().encode('test_STREAM');

export const DIALER_KEY = ed25519.PrivateKey.fromSeed(1n);
export const LISTENER_KEY = ed25519.PrivateKey.fromSeed(2n);
export const OTHER_KEY = ed25519.PrivateKey.fromSeed(3n);

export const DEFAULTS = {
  namespace: NAMESPACE,
  maxMessageSize: 1 << 20,
  synchronyBoundMs: 5_000,
  maxHandshakeAgeMs: 10_000,
  handshakeTimeoutMs: 5_000,
} as const;

/** A config with test defaults. */
export function config(
  signer: ConfigFields['signer'],
  overrides: Partial<Omit<ConfigFields, 'signer'>> = {},
): Config {
  return new Config({ ...DEFAULTS, ...overrides, signer });
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const ADDR: SocketAddr = { ip: '10.0.0.1', port: 1 };

/**
 * One end of an in-memory connection. Bytes written to `sink` go to `output` (a copy, so the
 * writer may reuse its buffer at once); bytes handed to `push` become readable on `stream`.
 * `end()` marks the inbound side finished (remote closed): reads that cannot be satisfied reject.
 */
export class Pipe implements Connection {
  readonly remote: SocketAddr = ADDR;
  readonly local: SocketAddr = ADDR;
  readonly closed: Promise<void>;
  /** Where written bytes go; set by the test. Defaults to dropping them. */
  output: (bytes: Uint8Array) => void = () => {};
  /** Every sink call's byte count, in order. */
  readonly writes: number[] = [];
  /** Total bytes consumed by `recv`. */
  consumed = 0;
  /** The runtimes' receive buffer, so reads take the same paths (views, scratch copies). */
  readonly #queue = new ByteQueue();
  #isClosed = false;
  #ended = false;
  #waiter:
    | {
        n: number;
        scratch: Scratch | undefined;
        resolve: (b: Uint8Array) => void;
        reject: (e: Error) => void;
      }
    | undefined;
  #resolveClosed!: () => void;
  /** Called once when the pipe closes (locally). */
  onClose: () => void = () => {};

  /** `read`: give the stream a callback `read` (as both runtimes have), told within `push`. */
  constructor(options: { read?: boolean } = {}) {
    if (options.read === true) this.stream.read = this.#read;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  get buffered(): number {
    return this.#queue.length;
  }

  readonly sink = {
    send: (data: Uint8Array | readonly Uint8Array[]): Promise<void> => {
      if (this.#isClosed) return Promise.reject(new Error('closed'));
      const bytes = data instanceof Uint8Array ? data.slice() : concat(data);
      this.writes.push(bytes.length);
      this.output(bytes);
      return Promise.resolve();
    },
  };

  readonly stream: Connection['stream'] = {
    recv: (n: number, scratch?: Scratch): Promise<Uint8Array> => {
      if (this.#isClosed) return Promise.reject(new Error('closed'));
      if (this.#waiter !== undefined) return Promise.reject(new Error('concurrent recv'));
      if (this.#queue.length >= n) return Promise.resolve(this.#take(n, scratch));
      if (this.#ended) return Promise.reject(new Error('eof'));
      return new Promise((resolve, reject) => {
        this.#waiter = { n, scratch, resolve, reject };
      });
    },
    peek: (max: number): Uint8Array => this.#queue.peek(max),
  };

  readonly #read = (n: number, reader: ByteReader, scratch?: Scratch): Uint8Array | undefined => {
    if (this.#isClosed) throw new Error('closed');
    if (this.#waiter !== undefined) throw new Error('concurrent recv');
    if (this.#queue.length >= n) return this.#take(n, scratch);
    if (this.#ended) throw new Error('eof');
    this.#waiter = {
      n,
      scratch,
      resolve: (b) => reader.onBytes(b),
      reject: (e) => reader.onError(e),
    };
    return undefined;
  };

  /** Delivers bytes to this end's stream. */
  push(bytes: Uint8Array): void {
    if (this.#isClosed || this.#ended || bytes.length === 0) return;
    this.#queue.push(bytes.slice());
    this.#wake();
  }

  /** The remote end stopped sending. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(new Error('closed'));
    this.#queue.clear();
    this.#resolveClosed();
    this.onClose();
  }

  #wake(): void {
    const w = this.#waiter;
    if (w === undefined) return;
    if (this.#queue.length >= w.n) {
      this.#waiter = undefined;
      w.resolve(this.#take(w.n, w.scratch));
    } else if (this.#ended) {
      this.#waiter = undefined;
      w.reject(new Error('eof'));
    }
  }

  #take(n: number, scratch: Scratch | undefined): Uint8Array {
    this.consumed += n;
    return n === 0 ? new Uint8Array(0) : this.#queue.take(n, scratch);
  }
}

/** Two pipes wired back to back; closing one ends the other's inbound side. */
export function pipePair(): [Pipe, Pipe] {
  const a = new Pipe();
  const b = new Pipe();
  a.output = (bytes) => b.push(bytes);
  b.output = (bytes) => a.push(bytes);
  a.onClose = () => b.end();
  b.onClose = () => a.end();
  return [a, b];
}

/**
 * A context whose clock is shifted by `skewMs` (a peer whose clock is off), inherited by its
 * children, its tasks and its `withNetwork` copies, so a whole network can run on it.
 */
export function skewed(ctx: Context, skewMs: number): Context {
  const base = ctx.clock;
  const clock: Clock = {
    now: () => base.now() + skewMs,
    sleep: (ms, signal) => base.sleep(ms, signal),
    sleepUntil: (t, signal) => base.sleepUntil(t - skewMs, signal),
  };
  return new Proxy(ctx, {
    get(target, prop) {
      if (prop === 'clock') return clock;
      if (prop === 'child') return (label: string) => skewed(target.child(label), skewMs);
      if (prop === 'spawn') {
        return <T>(label: string, fn: (c: Context) => Promise<T>) =>
          target.spawn(label, (c) => fn(skewed(c, skewMs)));
      }
      const value: unknown = Reflect.get(target, prop);
      if (prop === 'withNetwork' && typeof value === 'function') {
        return (...args: unknown[]) => skewed(value.apply(target, args) as Context, skewMs);
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The code of a StreamError-like rejection (or the error's name). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; name?: string };
    return e.code ?? e.name ?? 'unknown';
  }
  return 'ok';
}

/**
 * What a tap does with a write: forward it (possibly changed), or forward some bytes and then cut
 * the connection.
 */
export type TapAction = Uint8Array | { readonly cutAfter: Uint8Array };

/** Sees each write in one direction with its offset in that direction's byte stream. */
export type Tap = (bytes: Uint8Array, offset: number) => TapAction;

/**
 * Two pipes joined through a man in the middle: each write passes through `d2l` / `l2d`, which
 * may change it or cut the connection (both ends see it end).
 */
export function tappedPair(taps: { d2l?: Tap; l2d?: Tap }): [Pipe, Pipe] {
  const d = new Pipe();
  const l = new Pipe();
  let d2l = 0;
  let l2d = 0;
  const cut = (): void => {
    d.end();
    l.end();
  };
  d.output = (bytes) => {
    const action = taps.d2l ? taps.d2l(bytes, d2l) : bytes;
    d2l += bytes.length;
    if (action instanceof Uint8Array) {
      l.push(action);
    } else {
      l.push(action.cutAfter);
      cut();
    }
  };
  l.output = (bytes) => {
    const action = taps.l2d ? taps.l2d(bytes, l2d) : bytes;
    l2d += bytes.length;
    if (action instanceof Uint8Array) {
      d.push(action);
    } else {
      d.push(action.cutAfter);
      cut();
    }
  };
  d.onClose = () => l.end();
  l.onClose = () => d.end();
  return [d, l];
}

/** The outcome of one side of a handshake. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; error: unknown };

export async function outcome<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    const e = error as { code?: string; name?: string };
    return { ok: false, code: e.code ?? e.name ?? 'unknown', error };
  }
}
