/**
 * The deterministic runtime's in-memory network: listeners, dials (each arriving after the
 * link's delay, on the virtual clock), DNS, and the test hooks of {@link SimulatedNetwork}
 * (delays per pair of IPs, cuts, resets). The connections themselves are in `./connection.ts`.
 *
 * @module
 */

import { AcceptQueue } from '../accept-queue.js';
import type { Connection, Listener, Network, SocketAddr } from '../context.js';
import { RuntimeError } from '../errors.js';
import { TimedEvent } from '../event-heap.js';
import { dialSource, isIpLiteral } from '../node/platform.js';
import { Endpoint, Link, type LinkHost, Pipe } from './connection.js';
import { type Digest, EVENT } from './digest.js';
import type { Scheduler } from './scheduler.js';

/** Tuning of the in-memory network. */
export interface SimulatedNetworkOptions {
  /** One-way delay of every link unless overridden per (from, to) pair. Default 0. */
  readonly linkDelayMs?: number;
  /**
   * Bytes one direction of a connection holds (in flight plus unread at the receiver); `send`
   * waits for room beyond it. Default 1 MiB.
   */
  readonly bufferBytes?: number;
  /** As in the Node runtime; `Infinity` disables. Default 60 000 (virtual ms). */
  readonly readTimeoutMs?: number;
  /** As in the Node runtime; `Infinity` disables. Default 60 000 (virtual ms). */
  readonly writeTimeoutMs?: number;
  /** Initial DNS table: host name to IP literals. */
  readonly dns?: Readonly<Record<string, readonly string[]>>;
}

/** A live simulated connection, as the test hooks see it. */
export interface SimulatedConnectionInfo {
  readonly id: number;
  /** The dialing end's address. */
  readonly dialer: SocketAddr;
  /** The accepting end's address (the address that was dialed). */
  readonly listener: SocketAddr;
}

/**
 * Test hooks of the deterministic runtime's in-memory network (get it with
 * `simulatedNetwork(ctx)`). Every change takes effect at the current virtual time and is itself
 * deterministic.
 */
export interface SimulatedNetwork {
  /** Sets the one-way delay of every link without a per-pair override. */
  setDefaultLinkDelay(ms: number): void;
  /**
   * Sets the one-way delay for bytes sent from `fromIp` to `toIp` (`undefined` restores the
   * default). Affects bytes sent afterwards; bytes already in flight keep their arrival time,
   * and a stream never reorders (a shorter delay waits for earlier bytes).
   */
  setLinkDelay(fromIp: string, toIp: string, ms: number | undefined): void;
  /** Sets (or, with `undefined`, removes) the IPs a host name resolves to. */
  setDns(host: string, ips: readonly string[] | undefined): void;
  /**
   * A view of the network whose dials originate from `ip` (the default view dials from
   * 127.0.0.1). A dial that passes its own `localIp` (not a wildcard, same family) leaves from
   * that address instead, as a Node dial binds it.
   */
  host(ip: string): Network;
  /** The connections open at either end, by id. */
  connections(): SimulatedConnectionInfo[];
  /** The id of a connection this network created. */
  connectionId(conn: Connection): number | undefined;
  /**
   * Cuts a connection: both ends see the peer close at once (bytes in flight are lost, bytes
   * already received stay readable), sends reject with `Closed`. False if no such connection.
   */
  cut(id: number): boolean;
  /** Resets a connection: both ends are poisoned with `Reset`; every call rejects. */
  reset(id: number): boolean;
  /** Bytes held per direction (in flight plus unread), or undefined for an unknown id. */
  buffered(
    id: number,
  ): { readonly dialerToListener: number; readonly listenerToDialer: number } | undefined;
}

const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;
const WILDCARDS = ['0.0.0.0', '::'];

class SimListener implements Listener {
  readonly address: SocketAddr;
  readonly key: string;
  readonly #net: SimNetwork;
  /** Unaccepted connections; a dial is refused once 1024 wait here. */
  readonly queue = new AcceptQueue<Endpoint>(1024);
  #resolveClosed: () => void = () => {};
  /** Resolves when {@link close} is called: an in-memory port is released at once. */
  readonly closed: Promise<void> = new Promise((resolve) => {
    this.#resolveClosed = resolve;
  });

  constructor(net: SimNetwork, address: SocketAddr, key: string) {
    this.#net = net;
    this.address = address;
    this.key = key;
  }

  /** An inbound connection arrived. */
  deliver(conn: Endpoint): void {
    this.queue.push(conn);
  }

  accept(signal?: AbortSignal): Promise<Connection> {
    return this.queue.accept(signal);
  }

  close(): void {
    if (this.queue.isClosed) return;
    this.#net.unbind(this);
    this.queue.close();
    this.#resolveClosed();
  }
}

/** A dial in flight: fires when the SYN reaches the listener side. */
class Dial extends TimedEvent {
  readonly #net: SimNetwork;
  readonly #from: string;
  readonly #to: SocketAddr;
  readonly #resolve: (conn: Connection) => void;
  readonly #reject: (error: unknown) => void;
  readonly #signal: AbortSignal | undefined;

  constructor(
    net: SimNetwork,
    from: string,
    to: SocketAddr,
    resolve: (conn: Connection) => void,
    reject: (error: unknown) => void,
    signal: AbortSignal | undefined,
  ) {
    super();
    this.#net = net;
    this.#from = from;
    this.#to = to;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
  }

  fire(): void {
    this.#signal?.removeEventListener('abort', this);
    try {
      this.#resolve(this.#net.connect(this.#from, this.#to));
    } catch (error) {
      this.#reject(error);
    }
  }

  handleEvent(): void {
    this.#net.scheduler.cancel(this);
    this.#reject(this.#signal?.reason);
  }
}

/**
 * A Network view whose dials originate from one IP, unless the dial names its own local IP
 * (`dial(address, signal, localIp)`, which the p2p dialers pass as their listen IP).
 */
class HostView implements Network {
  readonly #net: SimNetwork;
  readonly #ip: string;
  constructor(net: SimNetwork, ip: string) {
    this.#net = net;
    this.#ip = ip;
  }
  bind(address: SocketAddr): Promise<Listener> {
    return this.#net.bind(address);
  }
  dial(address: SocketAddr, signal?: AbortSignal, localIp?: string): Promise<Connection> {
    return this.#net.dial(dialSource(localIp, address.ip) ?? this.#ip, address, signal);
  }
  resolve(host: string, signal?: AbortSignal): Promise<string[]> {
    return this.#net.resolve(host, signal);
  }
}

/** The in-memory network of one deterministic run. */
export class SimNetwork implements SimulatedNetwork, LinkHost {
  readonly scheduler: Scheduler;
  readonly digest: Digest;
  readonly bufferBytes: number;
  readonly readTimeoutMs: number;
  readonly writeTimeoutMs: number;
  readonly #listeners = new Map<string, SimListener>();
  readonly #links = new Map<number, Link>();
  readonly #ids = new WeakMap<Connection, number>();
  readonly #nextPort = new Map<string, number>();
  readonly #dns = new Map<string, readonly string[]>();
  readonly #delays = new Map<string, number>();
  #defaultDelay: number;
  #nextLink = 1;

  constructor(scheduler: Scheduler, digest: Digest, options: SimulatedNetworkOptions = {}) {
    this.scheduler = scheduler;
    this.digest = digest;
    this.#defaultDelay = checkDelay(options.linkDelayMs ?? 0);
    this.bufferBytes = options.bufferBytes ?? 1024 * 1024;
    if (!(this.bufferBytes >= 1)) throw new RangeError('bufferBytes must be at least 1');
    this.readTimeoutMs = options.readTimeoutMs ?? 60_000;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 60_000;
    for (const [host, ips] of Object.entries(options.dns ?? {})) this.#dns.set(host, [...ips]);
  }

  // ---------- Test hooks ----------

  setDefaultLinkDelay(ms: number): void {
    this.#defaultDelay = checkDelay(ms);
  }

  setLinkDelay(fromIp: string, toIp: string, ms: number | undefined): void {
    const key = `${fromIp}>${toIp}`;
    if (ms === undefined) this.#delays.delete(key);
    else this.#delays.set(key, checkDelay(ms));
  }

  setDns(host: string, ips: readonly string[] | undefined): void {
    if (ips === undefined) this.#dns.delete(host);
    else this.#dns.set(host, [...ips]);
  }

  host(ip: string): Network {
    return new HostView(this, ip);
  }

  connections(): SimulatedConnectionInfo[] {
    return [...this.#links.values()].map((l) => ({
      id: l.id,
      dialer: l.dialer.local,
      listener: l.acceptor.local,
    }));
  }

  connectionId(conn: Connection): number | undefined {
    return this.#ids.get(conn);
  }

  cut(id: number): boolean {
    const link = this.#links.get(id);
    if (link === undefined) return false;
    for (const end of [link.dialer, link.acceptor]) {
      end.out.dead = true;
      end.peerClosed();
    }
    return true;
  }

  reset(id: number): boolean {
    const link = this.#links.get(id);
    if (link === undefined) return false;
    for (const end of [link.dialer, link.acceptor]) {
      end.out.dead = true;
      end.poison(new RuntimeError('Reset', 'connection reset'));
    }
    return true;
  }

  buffered(id: number): { dialerToListener: number; listenerToDialer: number } | undefined {
    const link = this.#links.get(id);
    if (link === undefined) return undefined;
    return { dialerToListener: link.dialer.out.used, listenerToDialer: link.acceptor.out.used };
  }

  // ---------- Network ----------

  delay(fromIp: string, toIp: string): number {
    if (this.#delays.size === 0) return this.#defaultDelay;
    return this.#delays.get(`${fromIp}>${toIp}`) ?? this.#defaultDelay;
  }

  #ephemeral(ip: string, taken: (port: number) => boolean): number {
    const start = this.#nextPort.get(ip) ?? 0;
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const offset = (start + i) % EPHEMERAL_COUNT;
      const port = EPHEMERAL_FIRST + offset;
      if (!taken(port)) {
        this.#nextPort.set(ip, (offset + 1) % EPHEMERAL_COUNT);
        return port;
      }
    }
    throw new RuntimeError('AddressInUse', `no ephemeral port left on ${ip}`);
  }

  #bound(ip: string, port: number): boolean {
    if (this.#listeners.has(`${ip}|${port}`)) return true;
    if (WILDCARDS.includes(ip)) {
      for (const l of this.#listeners.values()) if (l.address.port === port) return true;
      return false;
    }
    return WILDCARDS.some((w) => this.#listeners.has(`${w}|${port}`));
  }

  bind(address: SocketAddr): Promise<Listener> {
    if (!isIpLiteral(address.ip)) {
      return Promise.reject(new RuntimeError('BindFailed', `not an IP literal: ${address.ip}`));
    }
    let port = address.port;
    try {
      if (port === 0) port = this.#ephemeral(address.ip, (p) => this.#bound(address.ip, p));
      else if (this.#bound(address.ip, port)) {
        throw new RuntimeError('AddressInUse', `${address.ip}:${port} is in use`);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const key = `${address.ip}|${port}`;
    const listener = new SimListener(this, { ip: address.ip, port }, key);
    this.#listeners.set(key, listener);
    this.digest.kind(EVENT.bind).str(address.ip).f64(port);
    return Promise.resolve(listener);
  }

  /** @internal */
  unbind(listener: SimListener): void {
    this.#listeners.delete(listener.key);
    this.digest.kind(EVENT.unbind).str(listener.address.ip).f64(listener.address.port);
  }

  dial(fromIp: string, address: SocketAddr, signal?: AbortSignal): Promise<Connection> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const dial = new Dial(this, fromIp, address, resolve, reject, signal);
      this.scheduler.at(dial, this.scheduler.now() + this.delay(fromIp, address.ip));
      signal?.addEventListener('abort', dial, { once: true });
    });
  }

  /** @internal The SYN arrived: connect to whoever listens, or refuse. */
  connect(fromIp: string, to: SocketAddr): Connection {
    const listener =
      this.#listeners.get(`${to.ip}|${to.port}`) ??
      this.#listeners.get(`0.0.0.0|${to.port}`) ??
      this.#listeners.get(`::|${to.port}`);
    if (listener === undefined || listener.queue.isFull) {
      this.digest.kind(EVENT.dialRefused).str(to.ip).f64(to.port);
      throw new RuntimeError('ConnectionRefused', `connection refused: ${to.ip}:${to.port}`);
    }
    const localPort = this.#ephemeral(fromIp, () => false);
    const dialerAddr = { ip: fromIp, port: localPort };
    const acceptorAddr = { ip: to.ip, port: to.port };
    const dialer = new Endpoint(this, dialerAddr, acceptorAddr, 0);
    const acceptor = new Endpoint(this, acceptorAddr, dialerAddr, 1);
    const link = new Link(this.#nextLink++, dialer, acceptor);
    dialer.link = link;
    acceptor.link = link;
    dialer.out = new Pipe(this, dialer, acceptor, 0);
    acceptor.out = new Pipe(this, acceptor, dialer, 1);
    dialer.in = acceptor.out;
    acceptor.in = dialer.out;
    this.#links.set(link.id, link);
    this.#ids.set(dialer, link.id);
    this.#ids.set(acceptor, link.id);
    this.digest
      .kind(EVENT.connOpen)
      .f64(link.id)
      .str(fromIp)
      .f64(localPort)
      .str(to.ip)
      .f64(to.port);
    listener.deliver(acceptor);
    return dialer;
  }

  /** @internal */
  endpointClosed(end: Endpoint, reason: string): void {
    const link = end.link;
    this.digest.kind(EVENT.connClose).f64(link.id).f64(end.side).str(reason);
    if (link.dialer.isClosed && link.acceptor.isClosed) this.#links.delete(link.id);
  }

  resolve(host: string, signal?: AbortSignal): Promise<string[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (isIpLiteral(host)) return Promise.resolve([host]);
    const ips = this.#dns.get(host);
    if (ips === undefined || ips.length === 0) {
      return Promise.reject(new RuntimeError('ResolveFailed', `cannot resolve ${host}`));
    }
    return Promise.resolve([...ips]);
  }

  /** Closes every listener and connection still open (the end of a run). */
  closeAll(): void {
    for (const l of [...this.#listeners.values()]) l.close();
    for (const link of [...this.#links.values()]) {
      link.dialer.close();
      link.acceptor.close();
    }
  }
}

function checkDelay(ms: number): number {
  if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`invalid link delay ${ms}`);
  return ms;
}
