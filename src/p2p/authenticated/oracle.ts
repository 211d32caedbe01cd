/**
 * What the lookup and discovery oracles share (commonware `Provider + Blocker`, and the checks of
 * `Manager::track`): the application's handle on a tracker's peer sets.
 *
 * A flavour's oracle extends {@link BaseOracle} and adds only its registration shape (lookup:
 * peers with addresses, plus `overwrite`; discovery: bare keys). The base validates a
 * registration at the call (index, then the flavour's normalisation, then the size), logs every
 * block as a warning (upstream's `block!`), answers `peerSet` and hands out
 * {@link PeerSetSubscription}s.
 *
 * Once the tracker has stopped, or the network's context has (whether or not the network was
 * ever started, since a tracker that never runs never closes its mailbox), every method answers
 * at once: `'closed'`, `undefined`, or a subscription that has ended; a `peerSet` request or a
 * subscription still pending when the context stops is answered the same way. The oracle listens
 * to the context's signal only while it has such a request or subscription (one listener per
 * oracle).
 *
 * @module
 */

import type { Feedback } from '../../actor/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import type { Logger } from '../../runtime/context.js';
import { P2PError } from '../errors.js';
import { checkPeerSetIndex, type PeerSetUpdate, type TrackedPeers } from '../types.js';

/**
 * The tracker's end of a peer-set subscription. `push` returns false once the consumer has gone
 * (the tracker then forgets it); `end` tells the consumer no more updates will come.
 */
export interface Subscriber {
  push(update: PeerSetUpdate): boolean;
  end(): void;
}

/**
 * What an oracle needs from its tracker's mailbox; both flavours' tracker `Mailbox` fit it.
 * `T` is the flavour's normalised registration.
 */
export interface OracleMailbox<T> {
  /** Tracks `peers` (already validated) at `index`. */
  register(index: number, peers: T): Feedback;
  /** The peers tracked at `index`; `undefined` if not retained or the tracker has stopped. */
  peerSet(index: number): Promise<TrackedPeers | undefined>;
  /** Registers `subscriber`; ends it at once if the tracker has stopped. */
  subscribe(subscriber: Subscriber): Feedback;
  /** Disconnects and refuses `peer` for the block duration. */
  block(peer: PublicKey): Feedback;
  /** True once the tracker has stopped. */
  readonly isClosed: boolean;
}

/** A registration's members by role, in the order given (the tracker sorts them, in steps). */
export interface Roles<O> {
  readonly primary: readonly O[];
  readonly secondary: readonly O[];
}

/**
 * Splits a registration into its roles (a bare list is primary-only), maps every item with
 * `map` (told the item's role; called in order, once per item, each result kept unless the
 * call throws), and checks that no key repeats within a role: linear work in the caller's turn (a
 * comparison per key while they come in key order, a set of the keys from the first that does
 * not), no sort (a 65,536-key sort would hold the caller's turn for about 100 ms; the tracker sorts in
 * steps instead). A key in both roles is kept in both; the tracker counts it as primary.
 *
 * @throws P2PError `InvalidPeerSet` if a key repeats within one role; whatever `map` throws.
 */
export function roles<I, O>(
  input: Iterable<I> | { readonly primary: Iterable<I>; readonly secondary?: Iterable<I> },
  map: (item: I, role: 'primary' | 'secondary') => O,
  keyOf: (item: O) => PublicKey,
): Roles<O> {
  const isSplit = typeof input === 'object' && input !== null && 'primary' in input;
  const one = (items: Iterable<I>, role: 'primary' | 'secondary'): O[] => {
    const out: O[] = [];
    // While the keys come in strictly increasing order (as `peerSet` lists them) none repeats:
    // one string comparison per key. From the first key out of order, a set of those seen (a
    // set of 65,536 keys costs 15-40 ms; the comparisons, 2-3 ms).
    let seen: Set<string> | undefined;
    let prev = '';
    const add = (o: O): void => {
      const hex = keyOf(o).toHex();
      if (seen === undefined) {
        if (hex > prev) {
          prev = hex;
          out.push(o);
          return;
        }
        seen = new Set<string>();
        for (const earlier of out) seen.add(keyOf(earlier).toHex());
      }
      // One hash operation per key: a key already seen leaves the size unchanged.
      if (seen.add(hex).size === out.length) {
        throw new P2PError('InvalidPeerSet', `duplicate ${role} peer ${hex}`);
      }
      out.push(o);
    };
    // An array is read by index: until the optimising compiler has seen this loop (a
    // 65,536-peer registration mostly runs before), `for...of` runs the iterator protocol per
    // item. Any other iterable is mapped as it yields (it may reuse what it yields).
    if (Array.isArray(items)) {
      const list = items as readonly I[];
      for (let i = 0; i < list.length; i++) add(map(list[i] as I, role));
    } else {
      for (const item of items) add(map(item, role));
    }
    return out;
  };
  const primary = one(isSplit ? input.primary : (input as Iterable<I>), 'primary');
  const secondary = one(isSplit ? (input.secondary ?? []) : [], 'secondary');
  return Object.freeze({ primary: Object.freeze(primary), secondary: Object.freeze(secondary) });
}

/**
 * Throws unless the distinct `keys` of a registration, plus ourselves if we are not among them,
 * fit `maxPeersPerSet` (upstream `track` asserts this; we hold an identity in every set). For
 * a flavour's `checkSize`, e.g. `(p) => checkPeerSetSize(TrackedPeers.union(p), myself, max)`.
 * Without `myself` (the simulated network's shared manager, which is nobody), only the keys
 * count.
 *
 * @throws P2PError `InvalidPeerSet`.
 */
export function checkPeerSetSize(
  keys: Iterable<PublicKey>,
  myself: PublicKey | undefined,
  maxPeersPerSet: number,
): void {
  const hex = new Set<string>();
  for (const k of keys) hex.add(k.toHex());
  const count = hex.size + (myself === undefined || hex.has(myself.toHex()) ? 0 : 1);
  if (count > maxPeersPerSet) {
    throw new P2PError(
      'InvalidPeerSet',
      `peer set has ${count} peers (including self) but maxPeersPerSet is ${maxPeersPerSet}`,
    );
  }
}

/**
 * A stream of peer-set updates: the latest one as soon as the tracker handles the subscription
 * (if any set is registered), then one per accepted registration. Iterate it with `for await`;
 * iteration ends when the network stops or after {@link close}.
 *
 * Updates queue without bound until read; they are produced only by `register` calls, which the
 * application controls.
 */
export class PeerSetSubscription implements AsyncIterable<PeerSetUpdate>, Subscriber {
  readonly #queue: PeerSetUpdate[] = [];
  #head = 0;
  /**
   * Pending {@link next} calls, oldest first. There are waiters only while the queue is empty: a
   * pushed update goes straight to the oldest one, so concurrent readers each get their own.
   */
  readonly #waiters: ((update: PeerSetUpdate | undefined) => void)[] = [];
  #ended = false;
  #closed = false;
  /** Called once, when the subscription first ends or closes. */
  #onFinish: (() => void) | undefined;

  /**
   * @internal Made by the oracle.
   * @param onFinish - called once, when the subscription first ends or closes.
   */
  constructor(onFinish?: () => void) {
    this.#onFinish = onFinish;
  }

  /** @internal Called by the tracker. Returns false once the subscription has ended or closed. */
  push(update: PeerSetUpdate): boolean {
    if (this.#closed || this.#ended) return false;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(update);
    else this.#queue.push(update);
    return true;
  }

  /** @internal Called by the tracker when it stops: queued updates stay readable. */
  end(): void {
    this.#ended = true;
    this.#release();
  }

  /**
   * The next update, or `undefined` once the subscription has ended (network stopped, or
   * {@link close} called) and every queued update has been read. Concurrent calls are answered
   * in call order, each with a different update.
   */
  next(): Promise<PeerSetUpdate | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    if (this.#head < this.#queue.length) {
      const u = this.#queue[this.#head]!;
      this.#head++;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
      }
      return Promise.resolve(u);
    }
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  /** Stops the subscription: queued updates are discarded and the tracker forgets it. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#head = 0;
    this.#release();
  }

  /** Updates queued and not yet read. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  /** Iterates the updates until the subscription ends; leaving the loop early closes it. */
  async *[Symbol.asyncIterator](): AsyncIterator<PeerSetUpdate> {
    try {
      for (let u = await this.next(); u !== undefined; u = await this.next()) yield u;
    } finally {
      this.close();
    }
  }

  /**
   * Answers every pending {@link next} with `undefined` (the queue is empty when there are any)
   * and reports the end once.
   */
  #release(): void {
    const waiters = this.#waiters.splice(0);
    for (const w of waiters) w(undefined);
    const onFinish = this.#onFinish;
    this.#onFinish = undefined;
    onFinish?.();
  }
}

/**
 * The oracle methods both flavours share. Every method returns at once; a change takes effect
 * when the tracker handles it (in call order). Methods never throw once the network or its
 * context has stopped: they report `'closed'`, resolve `undefined` or return an ended
 * subscription.
 *
 * @typeParam T - the flavour's normalised registration.
 * @typeParam M - the flavour's tracker mailbox.
 */
export abstract class BaseOracle<T, M extends OracleMailbox<T>> {
  readonly #tracker: M;
  readonly #checkSize: (peers: T) => void;
  readonly #log: Logger;
  readonly #signal: AbortSignal | undefined;
  /** What to answer when the context stops: pending `peerSet` requests, live subscriptions. */
  readonly #onStop = new Set<() => void>();
  #listening = false;

  /**
   * @internal Made by the flavour's `Network.create`.
   * @param tracker - the tracker's mailbox.
   * @param checkSize - throws `P2PError('InvalidPeerSet')` unless a registration fits
   *   `maxPeersPerSet` counting ourselves (see `checkPeerSetSize`); pure, so it runs at
   *   the call.
   * @param log - where blocks are logged.
   * @param signal - the network's context signal: once it aborts, the oracle answers as after
   *   shutdown even if the network never started. Without it, only the tracker's own stop
   *   closes the oracle.
   */
  constructor(tracker: M, checkSize: (peers: T) => void, log: Logger, signal?: AbortSignal) {
    this.#tracker = tracker;
    this.#checkSize = checkSize;
    this.#log = log;
    this.#signal = signal;
  }

  /** True once the tracker has stopped or the network's context has: every call answers at once. */
  get isClosed(): boolean {
    return this.#tracker.isClosed || this.#signal?.aborted === true;
  }

  /**
   * Validates and submits a registration: the index first, then `normalise` (which throws on a
   * malformed input), then the size. Nothing is submitted if any check throws.
   *
   * @throws P2PError `InvalidPeerSet`, or whatever `normalise` throws.
   */
  protected track(index: number, normalise: () => T): Feedback {
    checkPeerSetIndex(index);
    const peers = normalise();
    this.#checkSize(peers);
    return this.enqueue((tracker) => tracker.register(index, peers));
  }

  /** Runs `send` against the tracker's mailbox and returns its feedback; `'closed'` once closed. */
  protected enqueue(send: (tracker: M) => Feedback): Feedback {
    return this.isClosed ? 'closed' : send(this.#tracker);
  }

  /**
   * Disconnects `peer` and refuses it (inbound and outbound) for `blockDurationMs`. Blocking an
   * already-blocked peer does not extend the block. Logged as a warning, as upstream's `block!`.
   */
  block(peer: PublicKey): Feedback {
    if (this.isClosed) return 'closed';
    this.#log.warn({ peer: peer.toHex() }, 'blocking peer');
    return this.#tracker.block(peer);
  }

  /** The peers tracked at `index`, or `undefined` if that index is not retained (or the network stopped). */
  peerSet(index: number): Promise<TrackedPeers | undefined> {
    if (this.isClosed) return Promise.resolve(undefined);
    const request = this.#tracker.peerSet(index);
    if (this.#signal === undefined) return request;
    return new Promise((resolve, reject) => {
      const stop = (): void => resolve(undefined);
      this.#watch(stop);
      request.then(
        (peers) => {
          this.#unwatch(stop);
          resolve(peers);
        },
        (err: unknown) => {
          this.#unwatch(stop);
          reject(err);
        },
      );
    });
  }

  /** Subscribes to peer-set updates (see {@link PeerSetSubscription}). */
  subscribe(): PeerSetSubscription {
    if (this.isClosed) {
      const ended = new PeerSetSubscription();
      ended.end();
      return ended;
    }
    const stop = (): void => subscription.end();
    const subscription = new PeerSetSubscription(() => this.#unwatch(stop));
    // Watched before subscribing: a tracker that has just stopped ends it at once, unwatching it.
    this.#watch(stop);
    this.#tracker.subscribe(subscription);
    return subscription;
  }

  // ---------- Context stop ----------

  /** Answers with `onStop` if the context stops first (nothing to watch without a signal). */
  #watch(onStop: () => void): void {
    const signal = this.#signal;
    if (signal === undefined) return;
    this.#onStop.add(onStop);
    if (this.#listening) return;
    this.#listening = true;
    signal.addEventListener('abort', this.#stopped, { once: true });
  }

  /** Forgets `onStop`; the last one removes the listener. */
  #unwatch(onStop: () => void): void {
    if (!this.#onStop.delete(onStop) || this.#onStop.size > 0 || !this.#listening) return;
    this.#listening = false;
    this.#signal?.removeEventListener('abort', this.#stopped);
  }

  /** The context stopped: answer everything pending. */
  readonly #stopped = (): void => {
    this.#listening = false;
    const pending = [...this.#onStop];
    this.#onStop.clear();
    for (const onStop of pending) onStop();
  };
}
