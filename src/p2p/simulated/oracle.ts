/**
 * The application's handle on a simulated network (commonware `simulated/ingress.rs` `Oracle`
 * and `Control`): per-peer controls (channels, blocks, connection state), links, bandwidth caps,
 * and the peer-set managers in the shapes of the real oracles.
 *
 * Everything takes effect at the call, in call order; the promise-returning methods settle at
 * once (they are promises so that code written against a network that answers later keeps
 * working). After the network stops they reject (or throw) `NetworkClosed`, except `block` and
 * the managers, which report `'closed'` as the real oracles do.
 *
 * @module
 */

import type { Feedback } from '../../actor/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import type { Quota } from '../../quota/index.js';
import type { Receiver, Sender } from '../authenticated/channels.js';
import { Oracle as DiscoveryOracle } from '../authenticated/discovery/oracle.js';
import { Oracle as LookupOracle } from '../authenticated/lookup/oracle.js';
import { checkPeerSetSize } from '../authenticated/oracle.js';
import { P2PError } from '../errors.js';
import type { ConnectionEvent } from '../events.js';
import { TrackedPeers } from '../types.js';
import { checkLink, checkNotSelf, type Link, type LinkOptions } from './link.js';
import { ManagerMailbox, SocketManagerMailbox } from './manager.js';
import type { Simulation } from './network.js';
import type { Peer } from './peers.js';
import { ratio } from './rational.js';

/** One peer's handle: its channels, its blocks and its view of the network. */
export class Control {
  /** The peer this control acts for. */
  readonly publicKey: PublicKey;
  readonly #sim: Simulation;
  readonly #peer: Peer;

  /** @internal Made by {@link Oracle.control}. */
  constructor(sim: Simulation, peer: Peer) {
    this.#sim = sim;
    this.#peer = peer;
    this.publicKey = peer.publicKey;
  }

  /**
   * Registers `channel` for this peer with its outbound `quota` (per recipient) and returns the
   * same {@link Sender} and {@link Receiver} the lookup and discovery networks return. Unlike
   * them, registering may happen at any time, and registering a channel again replaces the
   * earlier registration: its receiver then rejects with `NetworkClosed` and its sender returns
   * `[]`. The receiver's queue holds `maxPeersPerSet * trackedPeerSets * quota.burstSize`
   * messages; a message arriving at a full queue is dropped.
   *
   * @throws P2PError `InvalidChannel` (not a non-negative safe integer), `NetworkClosed` (the
   *   network stopped).
   */
  register(channel: number, quota: Quota): [Sender, Receiver] {
    return this.#sim.register(this.#peer, channel, quota);
  }

  /**
   * Blocks `peer` for as long as the network runs (the simulated network has no block expiry).
   * With `disconnectOnBlock`, the two stop being connected both ways. Logged as a warning;
   * `'closed'` once the network stopped.
   */
  block(peer: PublicKey): Feedback {
    const sim = this.#sim;
    if (sim.closed) return 'closed';
    sim.context.log.warn({ peer: peer.toHex(), by: this.#peer.hex }, 'blocking peer');
    sim.flush();
    const target = sim.topology.peer(peer);
    if (target !== this.#peer) sim.topology.block(this.#peer, target);
    return 'ok';
  }

  /**
   * The peers this one is connected to now (sorted by key): both in a tracked set, a link from
   * this peer, and (with `disconnectOnBlock`) neither blocking the other. Exactly the peers a
   * send reaches. Empty after the network stopped.
   */
  connected(): PublicKey[] {
    return this.#sim.closed ? [] : [...this.#sim.topology.snapshot(this.#peer)];
  }

  /**
   * A new bounded stream of this peer's connection events from now on (API.md "Connection
   * state"): `'connected'` once a peer is in {@link connected}, `'disconnected'` with the reason
   * (`'LinkRemoved'`, `'Untracked'`, `'Blocked'`), `'blocked'` when this peer blocks one. Ends
   * when the network stops.
   */
  events(): AsyncIterableIterator<ConnectionEvent> {
    return this.#peer.events.events();
  }
}

/** Checks a bandwidth argument: a non-negative safe integer (bytes/s) or null. */
function cap(name: string, v: number | null): ReturnType<typeof ratio> | undefined {
  if (v === null) return undefined;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new P2PError('InvalidConfig', `${name} must be a non-negative integer or null, got ${v}`);
  }
  // Bytes per second as exact bytes per ms.
  return ratio(BigInt(v), 1000n);
}

/**
 * The simulated network's oracle. See the module comment for timing; every key may be used
 * without any other setup (a peer exists once something names it).
 */
export class Oracle {
  readonly #sim: Simulation;
  readonly #controls = new Map<string, Control>();
  #manager: DiscoveryOracle | undefined;
  #socketManager: LookupOracle | undefined;

  /** @internal Made by `Network.create`. */
  constructor(sim: Simulation) {
    this.#sim = sim;
  }

  /** The control of `peer` (the same object for the same key). */
  control(peer: PublicKey): Control {
    const hex = peer.toHex();
    let c = this.#controls.get(hex);
    if (c === undefined) {
      c = new Control(this.#sim, this.#sim.topology.peer(peer));
      this.#controls.set(hex, c);
    }
    return c;
  }

  /**
   * A discovery-shaped manager: a real discovery `Oracle` (same `register(index, peers |
   * { primary, secondary })`, `peerSet`, `subscribe`, `block`, same validation and throws) over
   * the network's shared peer sets. With `blocker`, its `block(pk)` is `control(blocker).block(pk)`;
   * without, `block(pk)` makes every peer the network knows block `pk` (in key order) (the network-wide
   * manager acts for everyone).
   */
  manager(blocker?: PublicKey): DiscoveryOracle {
    if (blocker === undefined && this.#manager !== undefined) return this.#manager;
    const m = new DiscoveryOracle(
      this.#mailbox(blocker),
      (p) => checkPeerSetSize(TrackedPeers.union(p), blocker, this.#sim.settings.maxPeersPerSet),
      this.#sim.context.log.child({ actor: 'manager' }),
      this.#sim.context.signal,
    );
    if (blocker === undefined) this.#manager = m;
    return m;
  }

  /**
   * A lookup-shaped manager: a real lookup `Oracle` (same `register(index, [[pk, address]] |
   * { primary, secondary })`, `overwrite`, `peerSet`, `subscribe`, `block`) over the same shared
   * peer sets. Addresses are parsed (a malformed one throws as it would on lookup) and
   * ignored; `overwrite` is a no-op. `blocker` as for {@link manager}.
   */
  socketManager(blocker?: PublicKey): LookupOracle {
    if (blocker === undefined && this.#socketManager !== undefined) return this.#socketManager;
    const m = new LookupOracle(
      new SocketManagerMailbox(this.#mailbox(blocker)),
      (p) =>
        checkPeerSetSize(
          [...p.primary, ...p.secondary],
          blocker,
          this.#sim.settings.maxPeersPerSet,
        ),
      this.#sim.context.log.child({ actor: 'socket_manager' }),
      this.#sim.context.signal,
    );
    if (blocker === undefined) this.#socketManager = m;
    return m;
  }

  #mailbox(blocker: PublicKey | undefined): ManagerMailbox {
    const sim = this.#sim;
    return new ManagerMailbox(sim.sets, (pk) => {
      if (blocker !== undefined) return this.control(blocker).block(pk);
      const target = sim.topology.peer(pk);
      sim.flush();
      for (const p of sim.topology.all()) if (p !== target) sim.topology.block(p, target);
      return 'ok';
    });
  }

  /** Every block made, as `[blocker, blocked]` pairs in the order made. */
  blocked(): Promise<[PublicKey, PublicKey][]> {
    if (this.#sim.closed) return Promise.reject(new P2PError('NetworkClosed'));
    return Promise.resolve(this.#sim.topology.blocked());
  }

  /**
   * Adds the one-way link `from -> to`. Per message, the latency is drawn from
   * Normal(`latency`, `jitter`) (ms, truncated to whole ms, at least 0) and delivery from
   * `successRate`, with the runtime's RNG. Messages already in flight keep their timing.
   *
   * @returns rejects with P2PError `InvalidConfig` (a bad option), `LinkingSelf`, `LinkExists`,
   *   `NetworkClosed`.
   */
  addLink(from: PublicKey, to: PublicKey, options: LinkOptions): Promise<void> {
    return this.#guard(() => this.#addOne(from, to, checkLink(options)));
  }

  /**
   * Adds many links at once, all or nothing: every entry is checked first (as
   * {@link addLink}, and no pair twice), then all are added. For large topologies: a
   * thousand-peer mesh is a million links.
   *
   * @returns rejects with P2PError `InvalidConfig` (a bad option), `LinkingSelf`, `LinkExists`
   *   (also for a pair listed twice), `NetworkClosed`.
   */
  addLinks(links: Iterable<readonly [PublicKey, PublicKey, LinkOptions]>): Promise<void> {
    return this.#guard(() => {
      const checked: [Peer, Peer, Link][] = [];
      const topology = this.#sim.topology;
      const cache = new Map<LinkOptions, Link>();
      for (const [from, to, options] of links) {
        let link = cache.get(options);
        if (link === undefined) {
          link = checkLink(options);
          cache.set(options, link);
        }
        checked.push([topology.peer(from), topology.peer(to), link]);
      }
      for (const [a, b] of checked) {
        checkNotSelf(a.hex, b.hex);
        if (a.links.has(b)) throw exists(a, b);
      }
      const twice = topology.linkAll(checked);
      if (twice !== undefined) throw exists(twice[0], twice[1]);
    });
  }

  /**
   * Removes the link `from -> to` (a partition, one direction). Messages already in flight on
   * it still arrive.
   *
   * @returns rejects with P2PError `LinkingSelf`, `LinkMissing`, `NetworkClosed`.
   */
  removeLink(from: PublicKey, to: PublicKey): Promise<void> {
    return this.#guard(() => {
      const topology = this.#sim.topology;
      const a = topology.peer(from);
      const b = topology.peer(to);
      checkNotSelf(a.hex, b.hex);
      if (!a.links.has(b)) {
        throw new P2PError('LinkMissing', `no link from ${a.hex} to ${b.hex}`);
      }
      topology.unlink(a, b);
    });
  }

  /**
   * Caps `peer`'s egress (upload) and ingress (download), in bytes per second (`null` =
   * unlimited, 0 = nothing moves). Concurrent transmissions share the caps max-min fairly,
   * re-shared from this moment on for the messages already transmitting.
   *
   * @returns rejects with P2PError `InvalidConfig` (a negative or non-integer cap),
   *   `NetworkClosed`.
   */
  limitBandwidth(peer: PublicKey, egress: number | null, ingress: number | null): Promise<void> {
    return this.#guard(() => {
      const e = cap('egress', egress);
      const i = cap('ingress', ingress);
      const p = this.#sim.topology.peer(peer);
      p.egress = e === undefined ? undefined : { capacity: e };
      p.ingress = i === undefined ? undefined : { capacity: i };
      this.#sim.recap();
    });
  }

  #addOne(from: PublicKey, to: PublicKey, link: Link): void {
    const topology = this.#sim.topology;
    const a = topology.peer(from);
    const b = topology.peer(to);
    checkNotSelf(a.hex, b.hex);
    if (a.links.has(b)) throw exists(a, b);
    topology.link(a, b, link);
  }

  /** Runs `fn` unless closed; a resolved promise, or one rejected with what it threw. */
  #guard(fn: () => void): Promise<void> {
    if (this.#sim.closed) return Promise.reject(new P2PError('NetworkClosed'));
    try {
      this.#sim.flush();
      fn();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

function exists(a: Peer, b: Peer): P2PError {
  return new P2PError('LinkExists', `a link from ${a.hex} to ${b.hex} already exists`);
}
