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
import type { BoundCounter } from '../../runtime/context.js';
import type { Channels } from '../authenticated/channels.js';
import type { PeerSnapshot } from '../authenticated/router/ingress.js';
import { ConnectionEvents } from '../events.js';
import type { Resource } from './bandwidth.js';
import type { Link } from './link.js';
import type { Envelope, Pair } from './transmitter.js';

/** Why a pair stopped being connected (the `reason` of a `'disconnected'` event). */
export type DisconnectReason = 'LinkRemoved' | 'Untracked' | 'Blocked' | 'NetworkClosed';

const NO_PEERS: PeerSnapshot = Object.freeze([]);

/** One peer's registration of one channel. @internal */
export interface Registration {
  readonly channels: Channels;
  readonly deliver: (from: PublicKey, message: Uint8Array) => boolean;
  readonly sent: BoundCounter;
  readonly received: BoundCounter;
}

/** One simulated peer's state. @internal */
export class Peer {
  readonly publicKey: PublicKey;
  readonly hex: string;
  /** Egress cap (bytes per ms), undefined = unlimited. */
  egress: Resource | undefined;
  /** Ingress cap (bytes per ms), undefined = unlimited. */
  ingress: Resource | undefined;
  /** Whether the peer is in a retained peer set. */
  tracked = false;
  /** Outgoing links, by recipient. */
  readonly links = new Map<Peer, Link>();
  /** The peers with a link to this one. */
  readonly incoming = new Set<Peer>();
  /** Transmission state per recipient (kept across link changes: ordering survives them). */
  readonly pairs = new Map<Peer, Pair<Peer>>();
  /** The peers this one blocks. */
  readonly blocks = new Set<Peer>();
  /** The peers this one counts as connected. */
  readonly connected = new Set<Peer>();
  /** This peer's channel registrations (set by the network). */
  readonly registrations = new Map<number, Registration>();
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

  /** Position in the key order of every peer the topology knows (see `Topology.ranked`). */
  rank = 0;

  /**
   * The connected peers, sorted by key (cached until the set changes). `ranked` lists every
   * known peer in key order: a large set is read off it in one pass instead of sorted.
   */
  snapshot(ranked: () => readonly Peer[]): PeerSnapshot {
    if (this.#snapshotVersion !== this.version) {
      const connected = this.connected;
      let keys: PublicKey[];
      if (connected.size < 64) {
        keys = [...connected].sort((a, b) => (a.hex < b.hex ? -1 : 1)).map((p) => p.publicKey);
      } else {
        const all = ranked();
        keys = [];
        for (const p of all) if (connected.has(p)) keys.push(p.publicKey);
      }
      this.#snapshot = Object.freeze(keys);
      this.#snapshotVersion = this.version;
    }
    return this.#snapshot;
  }

  /** The pair state towards `to`, made on first use. */
  pair(to: Peer): Pair<Peer> {
    let p = this.pairs.get(to);
    if (p === undefined) {
      p = { lastArrival: 0, queue: undefined, active: undefined };
      this.pairs.set(to, p);
    }
    return p;
  }
}

/** A sent message in the simulated network, shared by its recipients. @internal */
export type SimEnvelope = Envelope<Peer>;

/**
 * The connected-peer feed a channel sender reads (the router's `subscribePeers` ring, computed
 * on demand): `tryRecv` yields the peer's current snapshot once per change.
 */
export class SnapshotFeed implements RingInbox<PeerSnapshot> {
  readonly #peer: Peer;
  readonly #topology: Topology;
  readonly #isOpen: () => boolean;
  #seen = -1;
  #closed = false;

  constructor(peer: Peer, topology: Topology, isOpen: () => boolean) {
    this.#peer = peer;
    this.#topology = topology;
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
    return this.#topology.snapshot(this.#peer);
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
  /** The same, by key object (keys are usually the same objects throughout a run). */
  readonly #byKey = new WeakMap<PublicKey, Peer>();
  readonly #disconnectOnBlock: boolean;
  readonly #now: () => number;
  /** Every peer in a retained set. */
  #tracked: ReadonlySet<Peer> = new Set();
  /** Every block, in the order made: [blocker, blocked]. */
  readonly #blocked: [Peer, Peer][] = [];

  constructor(disconnectOnBlock: boolean, now: () => number) {
    this.#disconnectOnBlock = disconnectOnBlock;
    this.#now = now;
  }

  /** Every known peer in key order, rebuilt after new peers appear. */
  #ranked: Peer[] | undefined;
  readonly #rankedFn = (): readonly Peer[] => {
    let r = this.#ranked;
    if (r === undefined) {
      r = [...this.#peers.values()].sort((a, b) => (a.hex < b.hex ? -1 : 1));
      for (let i = 0; i < r.length; i++) (r[i] as Peer).rank = i;
      this.#ranked = r;
    }
    return r;
  };

  /** `p`'s connected peers, sorted by key (cached until they change). */
  snapshot(p: Peer): PeerSnapshot {
    return p.snapshot(this.#rankedFn);
  }

  /** The state of `pk`, made on first use. */
  peer(pk: PublicKey): Peer {
    let p = this.#byKey.get(pk);
    if (p !== undefined) return p;
    const hex = pk.toHex();
    p = this.#peers.get(hex);
    if (p === undefined) {
      p = new Peer(pk);
      this.#peers.set(hex, p);
      this.#ranked = undefined;
    }
    this.#byKey.set(pk, p);
    return p;
  }

  /** The state of `pk`, if it exists. */
  get(pk: PublicKey): Peer | undefined {
    const p = this.#byKey.get(pk);
    if (p !== undefined) return p;
    const q = this.#peers.get(pk.toHex());
    if (q !== undefined) this.#byKey.set(pk, q);
    return q;
  }

  /** Every peer state made so far, in key order. */
  all(): readonly Peer[] {
    return this.#rankedFn();
  }

  /** Whether traffic may flow between `a` and `b` (either way), links aside. */
  canTalk(a: Peer, b: Peer): boolean {
    if (!a.tracked || !b.tracked) return false;
    if (!this.#disconnectOnBlock) return true;
    return (a.blocks.size === 0 || !a.blocks.has(b)) && (b.blocks.size === 0 || !b.blocks.has(a));
  }

  /** Re-evaluates whether `p` counts `q` as connected, emitting the change on `p`'s hub. */
  refresh(p: Peer, q: Peer, reason: DisconnectReason): void {
    const now = this.canTalk(p, q) && p.links.has(q);
    const was = p.connected.has(q);
    if (now === was) return;
    p.version++;
    if (now) p.connected.add(q);
    else p.connected.delete(q);
    // Most peers have no reader: skip the clock read.
    if (p.events.readers === 0) return;
    if (now) p.events.emit('connected', q.publicKey, this.#now());
    else p.events.emit('disconnected', q.publicKey, this.#now(), reason);
  }

  /** Adds the link `from -> to` (the caller checked it is new and not to self). */
  link(from: Peer, to: Peer, link: Link): void {
    from.links.set(to, link);
    to.incoming.add(from);
    this.refresh(from, to, 'LinkRemoved');
  }

  /**
   * Adds every link of `links` (the caller checked none exists and none is to self), or none of
   * them if a pair is listed twice: then returns that pair. Connection state is evaluated once
   * all are in.
   */
  linkAll(links: readonly (readonly [Peer, Peer, Link])[]): [Peer, Peer] | undefined {
    for (let i = 0; i < links.length; i++) {
      const [from, to, link] = links[i] as readonly [Peer, Peer, Link];
      if (from.links.has(to)) {
        for (let j = 0; j < i; j++) {
          const [a, b] = links[j] as readonly [Peer, Peer, Link];
          a.links.delete(b);
          b.incoming.delete(a);
        }
        return [from, to];
      }
      from.links.set(to, link);
      to.incoming.add(from);
    }
    for (const [from, to] of links) this.refresh(from, to, 'LinkRemoved');
    return undefined;
  }

  /** Removes the link `from -> to` (the caller checked it exists). */
  unlink(from: Peer, to: Peer): void {
    from.links.delete(to);
    to.incoming.delete(from);
    this.refresh(from, to, 'LinkRemoved');
  }

  /** Records that `by` blocks `peer`; false if it already did. */
  block(by: Peer, peer: Peer): boolean {
    if (by.blocks.has(peer)) return false;
    by.blocks.add(peer);
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
    const next = new Set<Peer>();
    for (const k of tracked) next.add(this.peer(k));
    const old = this.#tracked;
    this.#tracked = next;
    const changed: Peer[] = [];
    for (const p of next) if (!old.has(p)) changed.push(p);
    for (const p of old) if (!next.has(p)) changed.push(p);
    for (const p of changed) p.tracked = next.has(p);
    for (const p of changed) {
      for (const q of p.links.keys()) this.refresh(p, q, 'Untracked');
      for (const q of p.incoming) this.refresh(q, p, 'Untracked');
    }
  }

  /** The network stopped: every hub ends. */
  close(): void {
    for (const p of this.#peers.values()) p.events.close();
  }
}
