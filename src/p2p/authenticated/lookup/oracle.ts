/**
 * The application's handle on the lookup network's peer sets (commonware lookup `Oracle`:
 * `Provider + AddressableManager + Blocker`).
 *
 * Input is validated at the call, so a mistake surfaces where it was made: a malformed address,
 * a key listed twice in one role, a set larger than `maxPeersPerSet` (counting ourselves) or an
 * index that is not a non-negative safe integer throws `P2PError` (`InvalidAddress` /
 * `InvalidPeerSet`) and changes nothing. An index that does not exceed the latest registered
 * one is, as upstream, logged as a warning by the tracker and ignored (the oracle cannot know
 * the tracker's state synchronously).
 *
 * @module
 */

import type { Feedback } from '../../../actor/index.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Logger } from '../../../runtime/context.js';
import { type AddressInput, parseAddress } from '../../address.js';
import {
  type AddressableInput,
  AddressableTrackedPeers,
  checkPeerSetIndex,
  type PeerAddress,
  type PeerSetUpdate,
  type TrackedPeers,
} from '../../types.js';
import type { Subscriber, Mailbox as TrackerMailbox } from './tracker/index.js';

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
  #ended = false;
  #closed = false;
  #wake: (() => void) | undefined;

  /** @internal Called by the tracker. Returns false once the consumer closed the subscription. */
  push(update: PeerSetUpdate): boolean {
    if (this.#closed) return false;
    if (this.#ended) return false;
    this.#queue.push(update);
    this.#notify();
    return true;
  }

  /** @internal Called by the tracker when it stops: queued updates stay readable. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /**
   * The next update, or `undefined` once the subscription has ended (network stopped, or
   * {@link close} called) and every queued update has been read.
   */
  async next(): Promise<PeerSetUpdate | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      if (this.#head < this.#queue.length) {
        const u = this.#queue[this.#head]!;
        this.#head++;
        if (this.#head === this.#queue.length) {
          this.#queue.length = 0;
          this.#head = 0;
        }
        return u;
      }
      if (this.#ended) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Stops the subscription: queued updates are discarded and the tracker forgets it. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#head = 0;
    this.#notify();
  }

  /** Updates queued and not yet read. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<PeerSetUpdate> {
    try {
      for (let u = await this.next(); u !== undefined; u = await this.next()) yield u;
    } finally {
      this.close();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * Registers peer sets, updates addresses and blocks peers. Every method returns at once; the
 * change takes effect when the tracker handles it (in call order). Methods never throw after the
 * network has stopped: they report `'closed'` (or resolve `undefined`).
 */
export class Oracle {
  readonly #tracker: TrackerMailbox;
  readonly #checkSize: (peers: AddressableTrackedPeers) => void;
  readonly #log: Logger;

  /** @internal Made by `Network.create`. */
  constructor(
    tracker: TrackerMailbox,
    checkSize: (peers: AddressableTrackedPeers) => void,
    log: Logger,
  ) {
    this.#tracker = tracker;
    this.#checkSize = checkSize;
    this.#log = log;
  }

  /**
   * Tracks `peers` at `index`: a list of `[publicKey, address]` (all primary), or
   * `{ primary, secondary }`. Primaries are dialed and accepted; secondaries are only accepted.
   * Indices must strictly increase: a stale index is logged as a warning and ignored. When more
   * than `trackedPeerSets` sets are retained, the lowest is evicted and peers in no retained set
   * are disconnected. A registered peer whose address changed is disconnected and redialed.
   *
   * @throws P2PError `InvalidPeerSet` (bad index, duplicate key in a role, more than
   *   `maxPeersPerSet` peers counting ourselves), `InvalidAddress` (an address does not parse).
   */
  register(index: number, peers: AddressableInput): Feedback {
    checkPeerSetIndex(index);
    const normalised = AddressableTrackedPeers.from(peers);
    this.#checkSize(normalised);
    return this.#tracker.register(index, normalised);
  }

  /**
   * Replaces the addresses of already-tracked peers without registering a new set. Unknown keys,
   * ourselves and unchanged addresses are ignored; a peer whose address changed is disconnected
   * (its connection was made to, or accepted from, the old address) and redialed at the new one.
   *
   * @throws P2PError `InvalidAddress` if an address does not parse (nothing is changed).
   */
  overwrite(peers: Iterable<readonly [PublicKey, AddressInput]>): Feedback {
    const parsed: PeerAddress[] = [];
    for (const [pk, address] of peers) parsed.push([pk, parseAddress(address)]);
    return this.#tracker.overwrite(parsed);
  }

  /**
   * Disconnects `peer` and refuses it (inbound and outbound) for `blockDurationMs`. Blocking an
   * already-blocked peer does not extend the block. Logged as a warning, as upstream's `block!`.
   */
  block(peer: PublicKey): Feedback {
    this.#log.warn({ peer: peer.toHex() }, 'blocking peer');
    return this.#tracker.block(peer);
  }

  /** The peers tracked at `index`, or `undefined` if that index is not retained (or the network stopped). */
  peerSet(index: number): Promise<TrackedPeers | undefined> {
    return this.#tracker.peerSet(index);
  }

  /** Subscribes to peer-set updates (see {@link PeerSetSubscription}). */
  subscribe(): PeerSetSubscription {
    const subscription = new PeerSetSubscription();
    this.#tracker.subscribe(subscription);
    return subscription;
  }
}
