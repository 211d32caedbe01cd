/**
 * A network view that remembers every connection and listener opened through it, so that its
 * owner can close them all and wait until they are really closed (sockets released, ports
 * freed), rather than only asking them to close. The lookup and discovery networks run on one,
 * so that `await handle.done` means that nothing of the network is left open.
 *
 * @module
 */

import type { Connection, Listener, Network } from './context.js';

/** @internal Told by a connection that it closed (see {@link Closable.whenClosed}). */
export interface CloseWatcher {
  /** `item` has closed. */
  itemClosed(item: object): void;
}

/** What the tracker can close and wait for. */
interface Closable {
  close(): void;
  readonly closed: Promise<void>;
  /**
   * Optional (the Node runtime's connections): `closed` as a callback on `watcher`, no promise
   * or closure made.
   */
  whenClosed?(watcher: CloseWatcher): void;
}

/** Wraps a {@link Network}; see the module essay. */
export class TrackedNetwork implements Network, CloseWatcher {
  readonly #inner: Network;
  readonly #open = new Set<Closable>();
  #closing = false;

  constructor(inner: Network) {
    this.#inner = inner;
  }

  /** Connections and listeners opened through this view and not yet closed. */
  get open(): number {
    return this.#open.size;
  }

  #track<T extends Closable>(item: T): T {
    if (this.#closing) {
      // Opened after closeAll (a dial or accept that was already under way): close it at once.
      item.close();
      return item;
    }
    this.#open.add(item);
    if (item.whenClosed !== undefined) item.whenClosed(this);
    else void item.closed.then(() => this.itemClosed(item));
    return item;
  }

  /** @internal `item` closed: it is no longer open (see {@link CloseWatcher}). */
  itemClosed(item: object): void {
    this.#open.delete(item as Closable);
  }

  async bind(...args: Parameters<Network['bind']>): Promise<Listener> {
    const inner = await this.#inner.bind(...args);
    const listener: Listener = {
      address: inner.address,
      accept: async (signal) => this.#track(await inner.accept(signal)),
      close: () => inner.close(),
      closed: inner.closed,
    };
    this.#track(listener);
    return listener;
  }

  async dial(...args: Parameters<Network['dial']>): Promise<Connection> {
    return this.#track(await this.#inner.dial(...args));
  }

  resolve(...args: Parameters<Network['resolve']>): Promise<string[]> {
    return this.#inner.resolve(...args);
  }

  /**
   * Closes every connection and listener still open and resolves once each has closed. Anything
   * opened through this view afterwards is closed at once.
   */
  async closeAll(): Promise<void> {
    this.#closing = true;
    const open = [...this.#open];
    this.#open.clear();
    for (const item of open) item.close();
    await Promise.all(open.map((item) => item.closed));
  }
}
