/**
 * Who can reach whom: the simulated network's topology (links, tracked peers, blocks) and, per
 * peer, the set of peers it counts as connected.
 *
 * Peer `p` is connected to `q` when both are in a tracked set, there is a link from `p` to `q`,
 * and (with `disconnectOnBlock`) neither blocks the other. That one definition is what
 * `control(p).connected()` lists, what a sender of `p` filters `one`/`some` recipients with and
 * expands `Recipients.all()` to, and what `control(p).events()` reports changes of. It is kept
 * incrementally: a change to a link, a block or the tracked sets re-evaluates only the pairs it
 * touches, so adding a million links costs a million pair checks, not a million snapshots.
 * Snapshots (the sorted key lists senders use) are built lazily, once per change of a peer's
 * set, when a sender or `connected()` next asks.
 *
 * @module
 */

import type { RingInbox } from '../../actor/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import type { PeerSnapshot } from '../authenticated/router/ingress.js';
import { ConnectionEvents } from '../events.js';
import type { Resource } from './bandwidth.js';
import type { Link } from './link.js';
import type { Pair, Transfer } from './transmitter.js';

/** Why a pair stopped being connected (the `reason` of a `'disconnected'` event). */
export type DisconnectReason = 'LinkRemoved' | 'Untracked' | 'Blocked' | 'NetworkClosed';

const NO_PEERS: PeerSnapshot = Object.freeze([]);

/** One simulated peer's state. @internal */
export class Peer {
  readonly publicKey: PublicKey;
  readonly hex: string;
  /** Egress cap (bytes per ms), undefined = unlimited. */
  egress: Resource | undefined;
  /** Ingress cap (bytes per ms), undefined = unlimited. */
  ingress: Resource | undefined;
  /** Outgoing links, by recipient hex. */
  readonly links = new Map<string, Link>();
  /** Hex of the peers with a link to this one. */
  readonly incoming = new Set<string>();
  /** Transmission state per recipient (kept across link changes: ordering survives them). */
  readonly pairs = new Map<string, Pair<Peer>>();
  /** Hex of the peers this one blocks. */
  readonly blocks = new Set<string>();
  /** The peers this one counts as connected, by hex. */
  readonly connected = new Map<string, PublicKey>();
  /** Bumped on every change of {@link connected}. */
  version = 0;
  #snapshot: PeerSnapshot = NO_PEERS;
  #snapshotVersion = 0;
  /** This peer's connection-event hub. */
  readonly events = new ConnectionEvents();

  constructor(publicKey: PublicKey) {
    this.publicKey = publicKey;
    this.hex = publicKey.toHex();
  }

  /** The connected peers, sorted by key (cached until the set changes). */
  snapshot(): PeerSnapshot {
    if (this.#snapshotVersion !== this.version) {
      const hex = [...this.connected.keys()].sort();
      this.#snapshot = Object.freeze(hex.map((h) => this.connected.get(h) as PublicKey));
      this.#snapshotVersion = this.version;
    }
    return this.#snapshot;
  }

  /** The pair state towards `to`, made on first use. */
  pair(to: Peer): Pair<Peer> {
    let p = this.pairs.get(to.hex);
    if (p === undefined) {
      p = { lastArrival: 0, queue: undefined, active: undefined };
      this.pairs.set(to.hex, p);
    }
    return p;
  }
}

/** A message in the simulated network, one per recipient. @internal */
export type SimTransfer = Transfer<Peer>;

/**
 * The connected-peer feed a channel sender reads (the router's `subscribePeers` ring, computed
 * on demand): `tryRecv` yields the peer's current snapshot once per change.
 */
export class SnapshotFeed implements RingInbox<PeerSnapshot> {
  readonly #peer: Peer;
  readonly #isOpen: () => boolean;
  #seen = -1;
  #closed = false;

  constructor(peer: Peer, isOpen: () => boolean) {
    this.#peer = peer;
    this.#isOpen = isOpen;
  }

  get evicted(): number {
    return 0;
  }
  get size(): number {
    return this.#fresh() ? 1 : 0;
  }
  get capacity(): number {
    return 1;
  }
  get isClosed(): boolean {
    return this.#closed || !this.#isOpen();
  }

  #fresh(): boolean {
    return !this.isClosed && this.#seen !== this.#peer.version;
  }

  tryRecv(): PeerSnapshot | undefined {
    if (!this.#fresh()) return undefined;
    this.#seen = this.#peer.version;
    return this.#peer.snapshot();
  }

  drain(): PeerSnapshot[] {
    const s = this.tryRecv();
    return s === undefined ? [] : [s];
  }

  ready(): Promise<boolean> {
    return Promise.resolve(this.#fresh());
  }

  recv(): Promise<PeerSnapshot | undefined> {
    return Promise.resolve(this.tryRecv());
  }

  close(): void {
    this.#closed = true;
  }
}

/** The topology and the connected sets; see the module comment. @internal */
export class Topology {
  readonly #peers = new Map<string, Peer>();
  readonly #disconnectOnBlock: boolean;
  readonly #now: () => number;
  /** Hex of every peer in a retained set. */
  #tracked: ReadonlySet<string> = new Set();
  /** Every block, in the order made: [blocker, blocked]. */
  readonly #blocked: [Peer, Peer][] = [];

  constructor(disconnectOnBlock: boolean, now: () => number) {
    this.#disconnectOnBlock = disconnectOnBlock;
    this.#now = now;
  }

  /** The state of `pk`, made on first use. */
  peer(pk: PublicKey): Peer {
    const hex = pk.toHex();
    let p = this.#peers.get(hex);
    if (p === undefined) {
      p = new Peer(pk);
      this.#peers.set(hex, p);
    }
    return p;
  }

  /** The state of the peer with key `hex`, if it exists. */
  get(hex: string): Peer | undefined {
    return this.#peers.get(hex);
  }

  /** Every peer state made so far. */
  all(): IterableIterator<Peer> {
    return this.#peers.values();
  }

  isTracked(p: Peer): boolean {
    return this.#tracked.has(p.hex);
  }

  /** Whether traffic may flow between `a` and `b` (either way), links aside. */
  canTalk(a: Peer, b: Peer): boolean {
    if (!this.#tracked.has(a.hex) || !this.#tracked.has(b.hex)) return false;
    return !this.#disconnectOnBlock || !(a.blocks.has(b.hex) || b.blocks.has(a.hex));
  }

  /** Re-evaluates whether `p` counts `q` as connected, emitting the change on `p`'s hub. */
  refresh(p: Peer, q: Peer, reason: DisconnectReason): void {
    const now = p.links.has(q.hex) && this.canTalk(p, q);
    const was = p.connected.has(q.hex);
    if (now === was) return;
    p.version++;
    if (now) {
      p.connected.set(q.hex, q.publicKey);
      p.events.emit('connected', q.publicKey, this.#now());
    } else {
      p.connected.delete(q.hex);
      p.events.emit('disconnected', q.publicKey, this.#now(), reason);
    }
  }

  /** Adds the link `from -> to` (the caller checked it is new and not to self). */
  link(from: Peer, to: Peer, link: Link): void {
    from.links.set(to.hex, link);
    to.incoming.add(from.hex);
    this.refresh(from, to, 'LinkRemoved');
  }

  /** Removes the link `from -> to` (the caller checked it exists). */
  unlink(from: Peer, to: Peer): void {
    from.links.delete(to.hex);
    to.incoming.delete(from.hex);
    this.refresh(from, to, 'LinkRemoved');
  }

  /** Records that `by` blocks `peer`; false if it already did. */
  block(by: Peer, peer: Peer): boolean {
    if (by.blocks.has(peer.hex)) return false;
    by.blocks.add(peer.hex);
    this.#blocked.push([by, peer]);
    by.events.emit('blocked', peer.publicKey, this.#now());
    this.refresh(by, peer, 'Blocked');
    this.refresh(peer, by, 'Blocked');
    return true;
  }

  /** Every block made, as `[blocker, blocked]`, in the order made. */
  blocked(): [PublicKey, PublicKey][] {
    return this.#blocked.map(([a, b]) => [a.publicKey, b.publicKey]);
  }

  /** Replaces the tracked peers, re-evaluating every pair of every peer that entered or left. */
  track(tracked: readonly PublicKey[]): void {
    const next = new Set<string>();
    for (const k of tracked) next.add(k.toHex());
    const old = this.#tracked;
    this.#tracked = next;
    const changed: Peer[] = [];
    for (const k of tracked) if (!old.has(k.toHex())) changed.push(this.peer(k));
    for (const hex of old) if (!next.has(hex)) changed.push(this.#peers.get(hex) as Peer);
    for (const p of changed) {
      for (const hex of p.links.keys()) this.refresh(p, this.#peers.get(hex) as Peer, 'Untracked');
      for (const hex of p.incoming) this.refresh(this.#peers.get(hex) as Peer, p, 'Untracked');
    }
  }

  /** The network stopped: every hub ends. */
  close(): void {
    for (const p of this.#peers.values()) p.events.close();
  }
}
