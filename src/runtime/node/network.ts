/**
 * The Node runtime's network: TCP listeners and dials over node:net (a dial bound to the
 * caller's local IP where given), DNS over dns.promises, and the bookkeeping that lets `run`
 * close whatever is still open. Connections are in `./connection.ts`.
 *
 * @module
 */

import { promises as dns } from 'node:dns';
import * as net from 'node:net';
import { AcceptQueue } from '../accept-queue.js';
import type { Connection, Listener, Network, SocketAddr } from '../context.js';
import { RuntimeError } from '../errors.js';
import { NodeConnection } from './connection.js';
import { DeadlineList } from './deadlines.js';
import { dialSource } from './platform.js';

/** Tuning of the Node network; every field has a default. */
export interface NodeNetworkOptions {
  /** A pending `recv` fails with `ReadTimeout` when no byte arrives for this long. Default 60 000. */
  readonly readTimeoutMs?: number;
  /** A `send` fails with `WriteTimeout` when the socket accepts nothing for this long. Default 60 000. */
  readonly writeTimeoutMs?: number;
  /**
   * The socket is paused while more than this many received bytes wait to be read, bounding
   * memory per connection (a single larger `recv(n)` may exceed it by `n`). Default 4 MiB.
   */
  readonly maxReadBufferBytes?: number;
  /** Accepted connections queued beyond this many (nobody calling `accept`) are dropped. Default 1024. */
  readonly acceptBacklog?: number;
}

function noop(): void {}

class NodeListener implements Listener {
  readonly address: SocketAddr;
  readonly closed: Promise<void>;
  #resolveClosed: () => void = noop;
  readonly #server: net.Server;
  readonly #network: NodeNetwork;
  readonly #queue: AcceptQueue<Connection>;

  constructor(server: net.Server, network: NodeNetwork) {
    this.#server = server;
    this.#network = network;
    this.#queue = new AcceptQueue(network.options.acceptBacklog);
    const addr = server.address() as net.AddressInfo;
    this.address = { ip: addr.address, port: addr.port };
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    server.on('connection', this.#onConnection);
  }

  readonly #onConnection = (socket: net.Socket): void => {
    this.#queue.push(this.#network.wrap(socket));
  };

  accept(signal?: AbortSignal): Promise<Connection> {
    return this.#queue.accept(signal);
  }

  close(): void {
    if (this.#queue.isClosed) return;
    // The callback runs once the server and every connection it accepted have closed.
    this.#server.close(() => this.#resolveClosed());
    this.#network.listeners.delete(this);
    this.#queue.close();
  }
}

function osError(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? '';
}

/** TCP over node:net, DNS over dns.promises. Tracks what it opened so `run` can close it. */
export class NodeNetwork implements Network {
  readonly options: Required<NodeNetworkOptions>;
  readonly connections = new Set<NodeConnection>();
  readonly listeners = new Set<NodeListener>();
  /** Every connection's read deadline, under one Timeout (undefined: no read timeout). */
  readonly #reads: DeadlineList | undefined;

  constructor(options: NodeNetworkOptions = {}) {
    this.options = {
      readTimeoutMs: options.readTimeoutMs ?? 60_000,
      writeTimeoutMs: options.writeTimeoutMs ?? 60_000,
      maxReadBufferBytes: options.maxReadBufferBytes ?? 4 * 1024 * 1024,
      acceptBacklog: options.acceptBacklog ?? 1024,
    };
    const readMs = this.options.readTimeoutMs;
    this.#reads = Number.isFinite(readMs) ? new DeadlineList(Math.max(0, readMs)) : undefined;
  }

  /** @internal */
  wrap(socket: net.Socket): Connection {
    return new NodeConnection(socket, this.options, this.connections, this.#reads);
  }

  bind(address: SocketAddr): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true });
      const onError = (error: Error): void => {
        const code = osError(error);
        reject(
          new RuntimeError(code === 'EADDRINUSE' ? 'AddressInUse' : 'BindFailed', error.message, {
            cause: error,
          }),
        );
      };
      server.once('error', onError);
      server.listen({ host: address.ip, port: address.port }, () => {
        server.off('error', onError);
        // Errors after listening (rare: EMFILE on accept) must not crash the process.
        server.on('error', noop);
        const listener = new NodeListener(server, this);
        this.listeners.add(listener);
        resolve(listener);
      });
    });
  }

  dial(address: SocketAddr, signal?: AbortSignal, localIp?: string): Promise<Connection> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const localAddress = dialSource(localIp, address.ip);
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: address.ip,
        port: address.port,
        noDelay: true,
        ...(localAddress === undefined ? {} : { localAddress }),
      });
      const onAbort = (): void => {
        cleanup();
        socket.destroy();
        reject(signal?.reason);
      };
      const onError = (error: Error): void => {
        cleanup();
        const refused = osError(error) === 'ECONNREFUSED';
        reject(
          new RuntimeError(refused ? 'ConnectionRefused' : 'DialFailed', error.message, {
            cause: error,
          }),
        );
      };
      const onConnect = (): void => {
        cleanup();
        resolve(this.wrap(socket));
      };
      const cleanup = (): void => {
        socket.off('error', onError);
        socket.off('connect', onConnect);
        signal?.removeEventListener('abort', onAbort);
      };
      socket.once('error', onError);
      socket.once('connect', onConnect);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async resolve(host: string, signal?: AbortSignal): Promise<string[]> {
    signal?.throwIfAborted();
    if (net.isIP(host) !== 0) return [host];
    const lookup = dns.lookup(host, { all: true, verbatim: true }).then(
      (entries) => entries.map((e) => e.address),
      (error: unknown) => {
        throw new RuntimeError('ResolveFailed', `cannot resolve ${host}`, { cause: error });
      },
    );
    if (signal === undefined) return lookup;
    // getaddrinfo cannot be cancelled; stop waiting for it instead.
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([lookup, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort as () => void);
      lookup.catch(noop);
    }
  }

  /** Closes every listener and connection still open (the end of a run) and waits until they have. */
  async closeAll(): Promise<void> {
    const listeners = [...this.listeners];
    const connections = [...this.connections];
    for (const l of listeners) l.close();
    for (const c of connections) c.close();
    await Promise.all([...listeners, ...connections].map((x) => x.closed));
  }
}
