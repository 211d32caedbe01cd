/**
 * The simulated network's peer sets (commonware's simulated `Manager` / `SocketManager` mocks):
 * one window of `trackedPeerSets` sets shared by every peer, behind the mailbox shape the real
 * oracles are written against, so that `oracle.manager()` is a real discovery `Oracle` and
 * `oracle.socketManager()` a real lookup `Oracle`, with their signatures, validation and throws.
 *
 * Registrations take effect at the call (there is no tracker task to wait for): an index that
 * does not exceed the latest is logged as a warning and ignored, as in the real trackers; an
 * accepted set may evict the oldest, and the peers in no retained set stop being connected to
 * anyone. Addresses given through the lookup shape are accepted and ignored, and `overwrite` is
 * a no-op.
 *
 * @module
 */

import type { Feedback } from '../../actor/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import type { Logger } from '../../runtime/context.js';
import type { OracleMailbox, Subscriber } from '../authenticated/oracle.js';
import { PeerSetWindow, type StoredSet, trackedPeers } from '../authenticated/tracker/peer-sets.js';
import type { AddressableTrackedPeers, PeerAddress, TrackedPeers } from '../types.js';

/** What the peer sets report changes to (the network's topology). */
export interface TrackedSink {
  /** The union of the retained sets changed to `keys`. */
  track(keys: readonly PublicKey[]): void;
}

/** The shared window of peer sets; see the module comment. @internal */
export class PeerSets implements OracleMailbox<TrackedPeers> {
  readonly #window: PeerSetWindow<StoredSet>;
  readonly #sink: TrackedSink;
  readonly #log: Logger;
  readonly #isClosed: () => boolean;
  readonly #beforeChange: () => void;
  readonly #subscribers = new Set<Subscriber>();

  /** @param beforeChange - called before a registration changes the tracked peers. */
  constructor(
    trackedPeerSets: number,
    sink: TrackedSink,
    log: Logger,
    isClosed: () => boolean,
    beforeChange: () => void,
  ) {
    this.#window = new PeerSetWindow(trackedPeerSets);
    this.#sink = sink;
    this.#log = log;
    this.#isClosed = isClosed;
    this.#beforeChange = beforeChange;
  }

  get isClosed(): boolean {
    return this.#isClosed();
  }

  register(index: number, peers: TrackedPeers): Feedback {
    if (this.isClosed) return 'closed';
    const window = this.#window;
    if (!window.accepts(index)) {
      this.#log.warn({ index }, 'index must monotonically increase; ignoring peer set');
      return 'ok';
    }
    this.#beforeChange();
    window.push({ index, peers: trackedPeers(peers.primary, peers.secondary) });
    const all = window.all();
    this.#sink.track([...all.primary, ...all.secondary]);
    const latest = window.latest() as StoredSet;
    const update = Object.freeze({ index, latest: latest.peers, all });
    for (const s of [...this.#subscribers]) if (!s.push(update)) this.#subscribers.delete(s);
    return 'ok';
  }

  peerSet(index: number): Promise<TrackedPeers | undefined> {
    return Promise.resolve(this.isClosed ? undefined : this.#window.get(index)?.peers);
  }

  subscribe(subscriber: Subscriber): Feedback {
    if (this.isClosed) {
      subscriber.end();
      return 'closed';
    }
    const latest = this.#window.latest();
    if (latest !== undefined) {
      subscriber.push(
        Object.freeze({ index: latest.index, latest: latest.peers, all: this.#window.all() }),
      );
    }
    this.#subscribers.add(subscriber);
    return 'ok';
  }

  /** Not used: each manager blocks through its own blocker (see `Oracle.manager`). */
  block(_peer: PublicKey): Feedback {
    return this.isClosed ? 'closed' : 'ok';
  }

  /** Ends every subscription (the network stopped). */
  close(): void {
    for (const s of this.#subscribers) s.end();
    this.#subscribers.clear();
  }
}

/**
 * A view of {@link PeerSets} as a tracker mailbox whose `block` goes to `block`: the discovery
 * shape, and with {@link addressable} the lookup shape.
 */
export class ManagerMailbox implements OracleMailbox<TrackedPeers> {
  readonly #sets: PeerSets;
  readonly #block: (peer: PublicKey) => Feedback;

  constructor(sets: PeerSets, block: (peer: PublicKey) => Feedback) {
    this.#sets = sets;
    this.#block = block;
  }

  get isClosed(): boolean {
    return this.#sets.isClosed;
  }
  register(index: number, peers: TrackedPeers): Feedback {
    return this.#sets.register(index, peers);
  }
  peerSet(index: number): Promise<TrackedPeers | undefined> {
    return this.#sets.peerSet(index);
  }
  subscribe(subscriber: Subscriber): Feedback {
    return this.#sets.subscribe(subscriber);
  }
  block(peer: PublicKey): Feedback {
    return this.isClosed ? 'closed' : this.#block(peer);
  }
}

/** {@link ManagerMailbox} for the lookup oracle: addresses dropped, `overwrite` a no-op. */
export class SocketManagerMailbox implements OracleMailbox<AddressableTrackedPeers> {
  readonly #inner: ManagerMailbox;

  constructor(inner: ManagerMailbox) {
    this.#inner = inner;
  }

  get isClosed(): boolean {
    return this.#inner.isClosed;
  }
  register(index: number, peers: AddressableTrackedPeers): Feedback {
    return this.#inner.register(index, { primary: peers.primary, secondary: peers.secondary });
  }
  peerSet(index: number): Promise<TrackedPeers | undefined> {
    return this.#inner.peerSet(index);
  }
  subscribe(subscriber: Subscriber): Feedback {
    return this.#inner.subscribe(subscriber);
  }
  block(peer: PublicKey): Feedback {
    return this.#inner.block(peer);
  }
  overwrite(_peers: readonly PeerAddress[]): Feedback {
    return this.isClosed ? 'closed' : 'ok';
  }
}
