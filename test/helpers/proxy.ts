/**
 * A fault-injecting TCP proxy for tests on real loopback sockets: it sits between two peers
 * (clients connect to {@link FaultProxy.address}, it dials `target` for each) and, per connection
 * and direction, while running, can delay, add jitter (from a seeded RNG), split writes into
 * small chunks, coalesce, stall, half-close, reset, and cut in the middle of a write.
 *
 * Every socket, server and timer it opens is closed by {@link FaultProxy.close}, which resolves
 * once all of them are gone.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { PoolRng } from '../../src/runtime/rng.js';

/** What the proxy does to the bytes of one direction of one connection. */
export interface Faults {
  /** Added to the forwarding time of every received chunk, in ms. */
  readonly delayMs: number;
  /** A further uniform `[0, jitterMs)` ms per chunk from the seeded RNG (order is kept). */
  readonly jitterMs: number;
  /** Writes of at most this many bytes, each waiting for the previous one to be flushed. */
  readonly chunkBytes: number;
  /** When above 0, bytes are held this long from the first one and forwarded as one write. */
  readonly coalesceMs: number;
  /**
   * Nothing is forwarded (bytes are held, up to a bound, then TCP pushes back on the sender). An
   * endpoint that closes its side meanwhile closes the whole connection: the proxy notices who
   * gave up, and releases both sockets.
   */
  readonly stalled: boolean;
}

/** No faults: bytes pass through as they come. */
export const NO_FAULTS: Faults = {
  delayMs: 0,
  jitterMs: 0,
  chunkBytes: Number.POSITIVE_INFINITY,
  coalesceMs: 0,
  stalled: false,
};

/** A direction: `up` is client to target, `down` is target to client. */
export type Direction = 'up' | 'down';

/** Bytes held per direction before the source is paused. */
const HIGH_WATER = 1 << 20;

interface Item {
  readonly data: Buffer;
  readonly at: number;
}

/** One direction of a proxied connection. */
class Pipe {
  faults: Faults;
  /** Bytes written to the destination so far. */
  forwarded = 0;
  /** Writes made to the destination so far. */
  writes = 0;
  readonly #from: net.Socket;
  readonly #to: net.Socket;
  readonly #rng: PoolRng;
  readonly #onCut: () => void;
  readonly #onStalledEnd: () => void;
  readonly #queue: Item[] = [];
  #queued = 0;
  #lastAt = 0;
  #held: Buffer[] = [];
  #holdTimer: NodeJS.Timeout | undefined;
  #pumpTimer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #writing = false;
  #ended = false;
  #finSent = false;
  #cutArmed = false;
  #cutting = false;
  #closed = false;

  constructor(
    from: net.Socket,
    to: net.Socket,
    faults: Faults,
    rng: PoolRng,
    onCut: () => void,
    onStalledEnd: () => void,
  ) {
    this.#from = from;
    this.#to = to;
    this.faults = faults;
    this.#rng = rng;
    this.#onCut = onCut;
    this.#onStalledEnd = onStalledEnd;
    from.on('data', (chunk: Buffer) => this.#receive(chunk));
    from.on('end', () => {
      // An endpoint that gave up on a stalled connection: the proxy lets go of it too.
      if (this.faults.stalled) return this.#onStalledEnd();
      this.#flushHeld();
      this.#ended = true;
      this.#pump();
    });
  }

  /** Changes the faults; a stall takes effect at once, a resume restarts forwarding. */
  set(faults: Partial<Faults>): void {
    this.faults = { ...this.faults, ...faults };
    this.#pump();
  }

  /** The next received chunk of at least 2 bytes is forwarded only in part, then the connection closes. */
  cutMidWrite(): void {
    this.#cutArmed = true;
  }

  /** Forwards what is queued, then sends FIN to the destination (the other direction stays open). */
  halfClose(): void {
    this.#flushHeld();
    this.#ended = true;
    this.#pump();
  }

  /** Clears every timer; called when the connection closes. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#holdTimer);
    clearTimeout(this.#pumpTimer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#holdTimer = this.#pumpTimer = this.#immediate = undefined;
    this.#queue.length = 0;
    this.#held = [];
  }

  #receive(chunk: Buffer): void {
    if (this.#closed || this.#ended) return;
    if (this.#cutArmed && chunk.length >= 2) {
      this.#cutArmed = false;
      this.#enqueue(chunk.subarray(0, chunk.length >> 1));
      this.#ended = true; // nothing after the cut
      this.#cutting = true;
      this.#pump();
      return;
    }
    if (this.faults.coalesceMs > 0) {
      this.#held.push(chunk);
      this.#holdTimer ??= setTimeout(() => {
        this.#holdTimer = undefined;
        this.#flushHeld();
        this.#pump();
      }, this.faults.coalesceMs);
      this.#queued += chunk.length;
      this.#backpressure();
      return;
    }
    this.#enqueue(chunk);
    this.#pump();
  }

  #flushHeld(): void {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    if (this.#held.length === 0) return;
    const data = Buffer.concat(this.#held);
    this.#held = [];
    this.#queued -= data.length;
    this.#enqueue(data);
  }

  #enqueue(data: Buffer): void {
    const { delayMs, jitterMs } = this.faults;
    const jitter = jitterMs > 0 ? this.#rng.float() * jitterMs : 0;
    const at = Math.max(this.#lastAt, performance.now() + delayMs + jitter);
    this.#lastAt = at;
    this.#queue.push({ data, at });
    this.#queued += data.length;
    this.#backpressure();
  }

  #backpressure(): void {
    if (this.#queued > HIGH_WATER) this.#from.pause();
    else this.#from.resume();
  }

  #pump(): void {
    this.#backpressure();
    if (this.#closed || this.#writing || this.faults.stalled) return;
    const head = this.#queue[0];
    if (head === undefined) {
      if (this.#cutting) {
        this.#cutting = false;
        this.#onCut();
      } else if (this.#ended && !this.#finSent && this.#held.length === 0) {
        this.#finSent = true;
        this.#to.end();
      }
      return;
    }
    const wait = head.at - performance.now();
    if (wait > 0) {
      clearTimeout(this.#pumpTimer);
      this.#pumpTimer = setTimeout(() => {
        this.#pumpTimer = undefined;
        this.#pump();
      }, Math.ceil(wait));
      return;
    }
    const n = Math.min(head.data.length, this.faults.chunkBytes);
    const piece = head.data.subarray(0, n);
    if (n === head.data.length) this.#queue.shift();
    else this.#queue[0] = { data: head.data.subarray(n), at: head.at };
    this.#queued -= n;
    this.#writing = true;
    this.#to.write(piece, () => {
      this.forwarded += n;
      this.writes++;
      this.#writing = false;
      // The next piece in a later macrotask, so small chunks leave as separate segments.
      this.#immediate = setImmediate(() => {
        this.#immediate = undefined;
        this.#pump();
      });
    });
  }
}

/** One proxied connection (a client socket and the proxy's socket to the target). */
export class ProxyConnection {
  /** Order of acceptance, from 0. */
  readonly id: number;
  /** The client's address as the proxy saw it. */
  readonly client: { readonly ip: string; readonly port: number };
  /** Resolves once both sockets are closed. */
  readonly closed: Promise<void>;
  /** Resolves once the target accepted the proxy's connection (never if it did not). */
  readonly connected: Promise<void>;
  readonly #client: net.Socket;
  readonly #upstream: net.Socket;
  readonly #pipes: Record<Direction, Pipe>;

  constructor(id: number, client: net.Socket, upstream: net.Socket, faults: Faults, rng: PoolRng) {
    this.id = id;
    this.client = { ip: client.remoteAddress ?? '', port: client.remotePort ?? 0 };
    this.#client = client;
    this.#upstream = upstream;
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    // A cut closes the source; the destination then gets FIN right after the partial write.
    this.#pipes = {
      up: new Pipe(client, upstream, faults, rng, () => client.destroy(), drop),
      down: new Pipe(upstream, client, faults, rng, () => upstream.destroy(), drop),
    };
    const gone = (s: net.Socket) =>
      new Promise<void>((resolve) => {
        if (s.destroyed && s.closed) resolve();
        else s.once('close', () => resolve());
      });
    this.closed = Promise.all([gone(client), gone(upstream)]).then(() => {
      this.#pipes.up.close();
      this.#pipes.down.close();
    });
    this.connected = new Promise<void>((resolve) => upstream.once('connect', () => resolve()));
    for (const s of [client, upstream]) {
      s.on('error', () => {}); // a reset is an outcome here, not a failure of the proxy
    }
    // Either socket closing ends the other once its written bytes are out (a half-close is an
    // 'end', not a 'close').
    client.once('close', () => upstream.destroySoon());
    upstream.once('close', () => client.destroySoon());
  }

  /** Bytes forwarded so far in `dir`. */
  forwarded(dir: Direction): number {
    return this.#pipes[dir].forwarded;
  }

  /** Writes made so far in `dir` (each at most `chunkBytes`; one per coalesced batch). */
  writes(dir: Direction): number {
    return this.#pipes[dir].writes;
  }

  /** Changes the faults of `dir` (both directions when omitted). */
  set(faults: Partial<Faults>, dir?: Direction): void {
    for (const d of dir === undefined ? (['up', 'down'] as const) : [dir])
      this.#pipes[d].set(faults);
  }

  /** Stops forwarding in both directions (the sockets stay open until an endpoint gives up). */
  stall(): void {
    this.set({ stalled: true });
  }

  /** Resumes forwarding after {@link stall}. */
  resume(): void {
    this.set({ stalled: false });
  }

  /** Sends FIN towards the destination of `dir` once its queued bytes are out. */
  halfClose(dir: Direction): void {
    this.#pipes[dir].halfClose();
  }

  /** Resets both sockets at once (RST, no FIN). */
  reset(): void {
    for (const s of [this.#client, this.#upstream]) {
      if (s.destroyed) continue;
      // A socket that sent FIN cannot be reset (libuv refuses, and Node then never emits
      // 'close'), nor can one still connecting: those are simply destroyed.
      if (s.connecting || s.writableEnded || s.readyState !== 'open') s.destroy();
      else s.resetAndDestroy();
    }
  }

  /**
   * The next chunk of at least 2 bytes received in `dir` (a frame or a batch of them) is forwarded
   * only up to its middle; then the connection is closed (FIN right after the partial write).
   */
  cutMidWrite(dir: Direction): void {
    this.#pipes[dir].cutMidWrite();
  }
}

/** Options of {@link FaultProxy.start}. */
export interface ProxyOptions {
  /** Where each accepted connection is forwarded. */
  readonly target: { readonly host: string; readonly port: number };
  /** Seed of the jitter RNG. */
  readonly seed: number;
  /** Faults of new connections (changeable later through {@link FaultProxy.faults}). */
  readonly faults?: Partial<Faults>;
}

/** A deterministic RNG for the proxy's jitter: SHA-256 of (seed, counter) blocks. */
function seededRng(seed: number): PoolRng {
  let counter = 0;
  return new PoolRng((buf) => {
    for (let off = 0; off < buf.length; off += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      buf.set(block.subarray(0, Math.min(32, buf.length - off)), off);
    }
  });
}

/** The proxy. Start it with {@link FaultProxy.start}; always {@link FaultProxy.close} it. */
export class FaultProxy {
  /** Faults given to connections accepted from now on. */
  faults: Faults;
  /** Every connection accepted so far, open or closed, in order. */
  readonly accepted: ProxyConnection[] = [];
  readonly #server: net.Server;
  readonly #rng: PoolRng;
  readonly #target: ProxyOptions['target'];
  readonly #waiters: ((c: ProxyConnection) => void)[] = [];
  readonly #sockets = new Set<net.Socket>();
  #closing: Promise<void> | undefined;

  private constructor(server: net.Server, options: ProxyOptions) {
    this.#server = server;
    this.#rng = seededRng(options.seed);
    this.#target = options.target;
    this.faults = { ...NO_FAULTS, ...options.faults };
    server.on('connection', (client) => this.#accept(client));
  }

  /** Listens on 127.0.0.1 (a free port) and forwards to `options.target`. */
  static async start(options: ProxyOptions): Promise<FaultProxy> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const proxy = new FaultProxy(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** `host:port` clients connect to. */
  get address(): string {
    const a = this.#server.address() as net.AddressInfo;
    return `127.0.0.1:${a.port}`;
  }

  /** Connections whose sockets are not both closed yet. */
  get open(): ProxyConnection[] {
    return this.accepted.filter((c) => !this.#isClosed(c));
  }

  readonly #done = new WeakSet<ProxyConnection>();
  #isClosed(c: ProxyConnection): boolean {
    return this.#done.has(c);
  }

  /** The next connection accepted after this call (or the one with index `index` when given). */
  connection(index?: number): Promise<ProxyConnection> {
    const want = index ?? this.accepted.length;
    const have = this.accepted[want];
    if (have !== undefined) return Promise.resolve(have);
    return new Promise((resolve) => {
      const wait = (c: ProxyConnection) => {
        if (c.id === want) resolve(c);
        else this.#waiters.push(wait);
      };
      this.#waiters.push(wait);
    });
  }

  #accept(client: net.Socket): void {
    if (this.#closing !== undefined) {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = net.connect({
      host: this.#target.host,
      port: this.#target.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    upstream.pause();
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    }
    const conn = new ProxyConnection(
      this.accepted.length,
      client,
      upstream,
      this.faults,
      this.#rng,
    );
    this.accepted.push(conn);
    void conn.closed.then(() => this.#done.add(conn));
    // Client bytes wait (paused) until the target answers; then both flow under the faults.
    void conn.connected.then(() => conn.set({}));
    const waiters = this.#waiters.splice(0);
    for (const w of waiters) w(conn);
  }

  /** Closes the server and every connection; resolves once every socket is closed. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const server = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const c of this.accepted) c.reset();
      for (const s of this.#sockets) s.destroy();
      await Promise.all([server, ...this.accepted.map((c) => c.closed)]);
      // The server's 'close' comes before libuv has run its handle's close callback (the close
      // phase of this loop turn): an immediate queued now runs before it, one queued then after.
      await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
    })();
    return this.#closing;
  }
}
