/**
 * The lookup tracker's state: every peer's {@link Record}, the retained peer sets, and the block
 * list.
 *
 * Mirrors commonware `p2p/src/authenticated/lookup/actors/tracker/directory.rs`. It is pure
 * logic owned by the tracker actor: time (`now`, ms since the Unix epoch) and randomness are
 * parameters, releases go out through an injected {@link Releaser}, and metrics through an
 * injected {@link DirectoryMetrics}, so every transition is unit-testable without a runtime.
 *
 * Invariants:
 * - at most one reservation per peer (a record is `inert`, `reserved` or `active`);
 * - a record exists for ourselves and for every peer named by a retained set, plus any peer
 *   still holding a reservation after its last set was evicted (deleted on release);
 * - the block list is the source of truth for blocking: it holds keys with or without records,
 *   survives record deletion, and an entry whose time has passed no longer blocks even before
 *   {@link Directory.unblockExpired} removes it.
 *
 * @module
 */

import type { PublicKey } from '../../../../crypto/ed25519.js';
import type { Counter, Gauge, Metrics } from '../../../../runtime/context.js';
import type { Address, Ingress } from '../../../address.js';
import { P2PError } from '../../../errors.js';
import { isGlobal } from '../../../net.js';
import { PeerMap } from '../../../peer-map.js';
import {
  type AddressableTrackedPeers,
  checkPeerSetIndex,
  type PeerSetUpdate,
  TrackedPeers,
} from '../../../types.js';
import { Metadata } from './metadata.js';
import { type JitterRng, Record, type RecordView } from './record.js';
import { type Releaser, Reservation } from './reservation.js';

// ---------- Configuration ----------

/** Configuration of a {@link Directory}, taken from the lookup network `Config`. */
export interface DirectoryConfig {
  /** Whether non-global IPs may be dialed and accepted. */
  readonly allowPrivateIps: boolean;
  /** Whether DNS ingress addresses may be dialed. */
  readonly allowDns: boolean;
  /** Whether inbound connections skip the egress-IP check. */
  readonly bypassIpCheck: boolean;
  /** How many peer sets are retained (the lowest index is evicted beyond this). At least 1. */
  readonly trackedPeerSets: number;
  /** Maximum distinct peers per set, counting ourselves (+1 if we are not in the set). */
  readonly maxPeersPerSet: number;
  /** Minimum time between two reservations of one peer (ms). */
  readonly peerConnectionCooldownMs: number;
  /** How long a block lasts (ms). */
  readonly blockDurationMs: number;
}

/**
 * What the listener's source-IP pre-filter admits (pushed by the tracker, latest wins).
 */
export interface ListenerAllowList {
  /** Registered egress IPs of eligible, unblocked peers. */
  readonly ips: ReadonlySet<string>;
  /**
   * Whether every source IP is admitted to the handshake: some eligible, unblocked peer has a
   * `named` address, so its connections may come from anywhere.
   */
  readonly any: boolean;
}

// ---------- Metrics ----------

/**
 * The directory's metrics (commonware `tracker/metrics.rs`). Label `peer` is the peer's key in
 * hex; its cardinality is bounded by the tracked sets (plus blocked keys).
 */
export interface DirectoryMetrics {
  /** Gauge: peers with a record, excluding ourselves. */
  readonly tracked: Gauge;
  /** Gauge `{peer}`: block expiry, ms since the epoch. */
  readonly blocked: Gauge;
  /** Gauge: reservations outstanding. */
  readonly reserved: Gauge;
  /** Gauge `{peer}`: when the peer became active, ms since the epoch. */
  readonly connected: Gauge;
  /** Counter `{peer}`: reservations refused by the connection cooldown. */
  readonly limits: Counter;
  /** Counter `{peer}`: address changes applied by `track` or `overwrite`. */
  readonly updates: Counter;
}

/** Constructors for {@link DirectoryMetrics}. */
export const DirectoryMetrics = {
  /** Registers the directory's metrics in `metrics` (typically `ctx.child('tracker').metrics`). */
  register(metrics: Metrics): DirectoryMetrics {
    return {
      tracked: metrics.gauge('tracked', 'Number of tracked peers (excluding self)'),
      blocked: metrics.gauge('blocked', 'Blocked peers, valued at block expiry (epoch ms)', [
        'peer',
      ]),
      reserved: metrics.gauge('reserved', 'Number of outstanding reservations'),
      connected: metrics.gauge('connected', 'Connected peers, valued at connect time (epoch ms)', [
        'peer',
      ]),
      limits: metrics.counter('limits', 'Reservations refused by the connection cooldown', [
        'peer',
      ]),
      updates: metrics.counter('updates', 'Peer address updates', ['peer']),
    };
  },
  /** Metrics that record nothing. */
  noop(): DirectoryMetrics {
    const gauge: Gauge = {
      set() {},
      inc() {},
      dec() {},
      get: () => 0,
      remove() {},
    };
    const counter: Counter = { inc() {}, get: () => 0 };
    return {
      tracked: gauge,
      blocked: gauge,
      reserved: gauge,
      connected: gauge,
      limits: counter,
      updates: counter,
    };
  },
} as const;

// ---------- Results ----------

/** Result of {@link Directory.dialable}. */
export interface Dialable {
  /** Peers that may be dialed now, sorted by key. */
  readonly peers: PublicKey[];
  /** The earliest time (ms) another peer may become dialable, if any will. */
  readonly nextQueryAt: number | undefined;
}

/** A dial reservation and where to dial. */
export interface DialReservation {
  readonly reservation: Reservation;
  readonly ingress: Ingress;
}

/** Result of {@link Directory.overwrite}. */
export interface OverwriteResult {
  /** Peers whose address changed (the listener allow-list must be refreshed if non-empty). */
  readonly updated: PublicKey[];
  /** Peers whose reservation or connection used the old address and must be killed. */
  readonly kill: PublicKey[];
}

interface StoredSet {
  readonly index: number;
  readonly peers: TrackedPeers;
}

interface BlockEntry {
  readonly key: PublicKey;
  readonly hex: string;
  readonly until: number;
}

/** Orders block entries by expiry, then by key, so iteration is deterministic. */
function blockOrder(a: BlockEntry, b: BlockEntry): number {
  if (a.until !== b.until) return a.until - b.until;
  return a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0;
}

/** Sorted, deduplicated keys. */
function dedup(keys: PublicKey[]): PublicKey[] {
  return TrackedPeers.from(keys).primary.slice();
}

/** The lookup tracker's records, peer sets and block list. */
export class Directory {
  // ---------- Configuration ----------
  readonly #config: DirectoryConfig;
  readonly #myself: PublicKey;

  // ---------- State ----------
  readonly #peers = new PeerMap<Record, PublicKey>();
  // Ascending by index; indices strictly increase, so appending keeps the order.
  readonly #sets: StoredSet[] = [];
  // Block list: a map for lookup plus an array sorted by (until, hex) for expiry order.
  readonly #blocked = new Map<string, BlockEntry>();
  readonly #blockQueue: BlockEntry[] = [];

  // ---------- Collaborators ----------
  readonly #rng: JitterRng;
  readonly #releaser: Releaser;
  readonly #metrics: DirectoryMetrics;

  /**
   * @param myself - our own key (gets a persistent, never-eligible record).
   * @param config - see {@link DirectoryConfig}.
   * @param deps - `rng` for dial jitter, `releaser` called when a {@link Reservation} is
   *   released, and optional `metrics` (default: {@link DirectoryMetrics.noop}).
   */
  constructor(
    myself: PublicKey,
    config: DirectoryConfig,
    deps: { rng: JitterRng; releaser: Releaser; metrics?: DirectoryMetrics },
  ) {
    if (!Number.isSafeInteger(config.trackedPeerSets) || config.trackedPeerSets < 1) {
      throw new P2PError('InvalidConfig', 'trackedPeerSets must be a positive integer');
    }
    if (!Number.isSafeInteger(config.maxPeersPerSet) || config.maxPeersPerSet < 1) {
      throw new P2PError('InvalidConfig', 'maxPeersPerSet must be a positive integer');
    }
    this.#config = config;
    this.#myself = myself;
    this.#rng = deps.rng;
    this.#releaser = deps.releaser;
    this.#metrics = deps.metrics ?? DirectoryMetrics.noop();
    this.#peers.set(myself, Record.myself());
    this.#metrics.tracked.set(undefined, 0);
  }

  // ---------- Peer sets ----------

  /**
   * Throws unless the registration fits `maxPeersPerSet`: the distinct keys across both roles,
   * plus one for ourselves if we are not among them (we always occupy a connection slot's worth
   * of identity in every set).
   *
   * @throws P2PError `InvalidPeerSet`.
   */
  checkSize(peers: AddressableTrackedPeers): void {
    const hex = new Set<string>();
    for (const [k] of peers.primary) hex.add(k.toHex());
    for (const [k] of peers.secondary) hex.add(k.toHex());
    const count = hex.size + (hex.has(this.#myself.toHex()) ? 0 : 1);
    if (count > this.#config.maxPeersPerSet) {
      throw new P2PError(
        'InvalidPeerSet',
        `peer set has ${count} peers (including self) but maxPeersPerSet is ${this.#config.maxPeersPerSet}`,
      );
    }
  }

  /**
   * Tracks `peers` at `index` and evicts the lowest indices beyond `trackedPeerSets`.
   *
   * Returns `undefined` (nothing changes) if `index` is not greater than every retained index.
   * Otherwise returns the deduplicated, sorted list of peers whose connection must be killed:
   * those whose address changed under a live reservation or connection, and those that lost
   * their last set while reserved or connected.
   *
   * A key in both roles counts as primary only, with the primary address.
   *
   * @throws P2PError `InvalidPeerSet` if `index` is not a non-negative safe integer or the set is
   *   larger than `maxPeersPerSet` (checked before any change).
   */
  track(index: number, peers: AddressableTrackedPeers): PublicKey[] | undefined {
    checkPeerSetIndex(index);
    this.checkSize(peers);
    const last = this.#sets.at(-1);
    if (last !== undefined && index <= last.index) return undefined;

    const kill: PublicKey[] = [];
    const primaryHex = new Set(peers.primary.map(([k]) => k.toHex()));
    const secondary = peers.secondary.filter(([k]) => !primaryHex.has(k.toHex()));
    for (const [key, address] of peers.primary) {
      this.#upsert(key, address, kill).incrementPrimary();
    }
    for (const [key, address] of secondary) {
      this.#upsert(key, address, kill).incrementSecondary();
    }
    this.#sets.push({
      index,
      peers: TrackedPeers.from(
        peers.primary.map(([k]) => k),
        secondary.map(([k]) => k),
      ),
    });

    while (this.#sets.length > this.#config.trackedPeerSets) {
      const evicted = this.#sets.shift()!;
      for (const key of evicted.peers.primary) {
        this.#peers.get(key)!.decrementPrimary();
        this.#afterEviction(key, kill);
      }
      for (const key of evicted.peers.secondary) {
        this.#peers.get(key)!.decrementSecondary();
        this.#afterEviction(key, kill);
      }
    }
    return dedup(kill);
  }

  /**
   * Replaces the addresses of already-tracked peers without registering a new set (upstream
   * `overwrite`). Unknown keys, ourselves and unchanged addresses are ignored.
   */
  overwrite(addresses: Iterable<readonly [PublicKey, Address]>): OverwriteResult {
    const updated: PublicKey[] = [];
    const kill: PublicKey[] = [];
    for (const [key, address] of addresses) {
      const record = this.#peers.get(key);
      if (record === undefined || !record.update(address)) continue;
      this.#metrics.updates.inc({ peer: key.toHex() });
      updated.push(key);
      if (record.needsTeardown()) kill.push(key);
    }
    return { updated: dedup(updated), kill: dedup(kill) };
  }

  /** The peers tracked at `index`, or `undefined` if that index is not retained. */
  peerSet(index: number): TrackedPeers | undefined {
    return this.#sets.find((s) => s.index === index)?.peers;
  }

  /** The highest retained index, if any. */
  latestIndex(): number | undefined {
    return this.#sets.at(-1)?.index;
  }

  /** Every tracked peer: primary if primary in any retained set, else secondary. */
  all(): TrackedPeers {
    const primary: PublicKey[] = [];
    const secondary: PublicKey[] = [];
    for (const [key, record] of this.#peers) {
      if (record.primarySets > 0) primary.push(key);
      else if (record.secondarySets > 0) secondary.push(key);
    }
    return TrackedPeers.from(primary, secondary);
  }

  /** The update to send subscribers: the latest set and the union of all, or `undefined`. */
  latestUpdate(): PeerSetUpdate | undefined {
    const last = this.#sets.at(-1);
    if (last === undefined) return undefined;
    return { index: last.index, latest: last.peers, all: this.all() };
  }

  // ---------- Blocking ----------

  /**
   * Blocks `key` until `now + blockDurationMs`. Works for keys without a record (the block
   * applies when they are later tracked). No-op while an unexpired block exists, and for
   * ourselves. Returns whether a block was added. The caller kills any connection.
   */
  block(key: PublicKey, now: number): boolean {
    if (this.isBlocked(key, now)) return false;
    if (this.#peers.get(key)?.isBlockable() === false) return false;
    const hex = key.toHex();
    // An expired entry not yet swept by unblockExpired is replaced.
    const old = this.#blocked.get(hex);
    if (old !== undefined) this.#dequeue(old);
    const entry: BlockEntry = { key, hex, until: now + this.#config.blockDurationMs };
    this.#blocked.set(hex, entry);
    this.#enqueue(entry);
    this.#metrics.blocked.set({ peer: hex }, entry.until);
    return true;
  }

  /** Whether `key` is blocked at `now` (an entry exists and has not expired). */
  isBlocked(key: PublicKey, now: number): boolean {
    const entry = this.#blocked.get(key.toHex());
    return entry !== undefined && entry.until > now;
  }

  /** Removes every block that has expired by `now`; returns the unblocked keys in expiry order. */
  unblockExpired(now: number): PublicKey[] {
    const out: PublicKey[] = [];
    while (this.#blockQueue.length > 0 && this.#blockQueue[0]!.until <= now) {
      const entry = this.#blockQueue.shift()!;
      this.#blocked.delete(entry.hex);
      this.#metrics.blocked.remove({ peer: entry.hex });
      out.push(entry.key);
    }
    return out;
  }

  /** When the earliest block expires (ms), or `undefined` if nothing is blocked. */
  nextUnblockAt(): number | undefined {
    return this.#blockQueue[0]?.until;
  }

  /** Number of block entries (including expired ones not yet swept). */
  get blockedCount(): number {
    return this.#blockQueue.length;
  }

  // ---------- Connections ----------

  /** Whether `key` may hold a connection: tracked (primary or secondary), not us, not blocked. */
  eligible(key: PublicKey, now: number): boolean {
    if (this.isBlocked(key, now)) return false;
    return this.#peers.get(key)?.eligible() === true;
  }

  /**
   * Peers the dialer may dial at `now`, sorted by key, and when to ask again: the earliest of
   * every pending dial time and every block expiry of an otherwise-tracked peer.
   */
  dialable(now: number): Dialable {
    const peers: PublicKey[] = [];
    let nextQueryAt: number | undefined;
    const consider = (t: number) => {
      if (nextQueryAt === undefined || t < nextQueryAt) nextQueryAt = t;
    };
    for (const [key, record] of this.#peers) {
      const block = this.#blocked.get(key.toHex());
      if (block !== undefined && block.until > now) {
        consider(block.until);
        continue;
      }
      const status = record.dialable(now, this.#config.allowPrivateIps, this.#config.allowDns);
      if (status.kind === 'now') peers.push(key);
      else if (status.kind === 'after') consider(status.at);
    }
    peers.sort((a, b) => a.compare(b));
    return { peers, nextQueryAt };
  }

  /**
   * Reserves `key` for an outbound dial: it must be a primary with an ingress, eligible and
   * reservable at `now`. Returns the reservation and the ingress to dial, or `undefined`.
   * Ingress policy (private IPs, DNS) is the caller's to apply via {@link dialable}.
   */
  dial(key: PublicKey, now: number): DialReservation | undefined {
    const record = this.#peers.get(key);
    if (record === undefined || !record.isOutboundTarget()) return undefined;
    const ingress = record.ingress();
    if (ingress === undefined) return undefined;
    const reservation = this.#reserve(Metadata.dialer(key), now);
    return reservation === undefined ? undefined : { reservation, ingress };
  }

  /**
   * Whether an inbound handshake from `key`, connecting from `sourceIp`, may proceed at `now`:
   * not blocked, eligible, inert, and from the registered egress IP (unless `bypassIpCheck`).
   */
  acceptable(key: PublicKey, sourceIp: string, now: number): boolean {
    if (this.isBlocked(key, now)) return false;
    return this.#peers.get(key)?.acceptable(sourceIp, this.#config.bypassIpCheck) === true;
  }

  /**
   * Reserves `key` for an inbound connection from `sourceIp` once its handshake completed.
   * Re-checks {@link acceptable} (state may have changed during the handshake) and the cooldown.
   */
  listen(key: PublicKey, sourceIp: string, now: number): Reservation | undefined {
    if (!this.acceptable(key, sourceIp, now)) return undefined;
    return this.#reserve(Metadata.listener(key), now);
  }

  /**
   * Marks the reserved `key` connected at `now`. Returns `false` if the connection must be
   * killed instead: no record, not reserved, no longer eligible (evicted or blocked), or stale
   * (its address changed after the reservation was taken).
   */
  connect(key: PublicKey, now: number): boolean {
    const record = this.#peers.get(key);
    if (record === undefined || record.status !== 'reserved') return false;
    if (!this.eligible(key, now)) return false;
    if (!record.connect()) return false;
    this.#metrics.connected.set({ peer: key.toHex() }, now);
    return true;
  }

  /**
   * Ends the reservation or connection described by `metadata` (sent by
   * {@link Reservation.release}). Deletes the record if nothing references it any more.
   */
  release(metadata: Metadata): void {
    const key = metadata.publicKey;
    const record = this.#peers.get(key);
    if (record === undefined) return;
    record.release();
    this.#metrics.connected.remove({ peer: key.toHex() });
    this.#metrics.reserved.dec();
    this.#deleteIfNeeded(key);
  }

  /**
   * The source IPs inbound connections may come from: the egress IPs of eligible, unblocked
   * peers whose egress IP is global (or private IPs are allowed). Several peers may share an IP
   * (NAT); it is listed while any of them qualifies. `any` is set while at least one eligible,
   * unblocked peer has a `named` address (no known egress IP): the listener then lets every
   * source IP reach the handshake.
   */
  listenerAllowList(now: number): ListenerAllowList {
    const ips = new Set<string>();
    let any = false;
    for (const [key, record] of this.#peers) {
      if (!record.eligible() || this.isBlocked(key, now)) continue;
      const ip = record.egressIp();
      if (ip === undefined) {
        // Ourselves is never eligible, so this is a peer without a known egress IP.
        any = true;
        continue;
      }
      if (this.#config.allowPrivateIps || isGlobal(ip)) ips.add(ip);
    }
    return { ips, any };
  }

  // ---------- Inspection ----------

  /** A read-only view of `key`'s record, or `undefined` if it has none. */
  record(key: PublicKey): RecordView | undefined {
    return this.#peers.get(key);
  }

  /** Number of records, excluding ourselves. */
  get trackedCount(): number {
    return this.#peers.size - 1;
  }

  // ---------- Helpers ----------

  /** The record for `key`, created at `address` or updated to it (killing stale connections). */
  #upsert(key: PublicKey, address: Address, kill: PublicKey[]): Record {
    const existing = this.#peers.get(key);
    if (existing === undefined) {
      const record = Record.known(address);
      this.#peers.set(key, record);
      this.#metrics.tracked.inc();
      return record;
    }
    if (existing.update(address)) {
      this.#metrics.updates.inc({ peer: key.toHex() });
      if (existing.needsTeardown()) kill.push(key);
    }
    return existing;
  }

  #afterEviction(key: PublicKey, kill: PublicKey[]): void {
    if (this.#peers.get(key)!.needsTeardown()) kill.push(key);
    this.#deleteIfNeeded(key);
  }

  #reserve(metadata: Metadata, now: number): Reservation | undefined {
    const key = metadata.publicKey;
    if (!this.eligible(key, now)) return undefined;
    const record = this.#peers.get(key)!;
    switch (record.reserve(now, this.#config.peerConnectionCooldownMs, this.#rng)) {
      case 'reserved':
        this.#metrics.reserved.inc();
        return new Reservation(metadata, this.#releaser);
      case 'rateLimited':
        this.#metrics.limits.inc({ peer: key.toHex() });
        return undefined;
      case 'unavailable':
        return undefined;
    }
  }

  #deleteIfNeeded(key: PublicKey): boolean {
    const record = this.#peers.get(key);
    if (record === undefined || !record.deletable()) return false;
    // The block entry (and its gauge) outlive the record: a block persists until it expires.
    this.#peers.delete(key);
    this.#metrics.tracked.dec();
    return true;
  }

  #search(entry: BlockEntry): number {
    let lo = 0;
    let hi = this.#blockQueue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (blockOrder(this.#blockQueue[mid]!, entry) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #enqueue(entry: BlockEntry): void {
    this.#blockQueue.splice(this.#search(entry), 0, entry);
  }

  #dequeue(entry: BlockEntry): void {
    const i = this.#search(entry);
    if (this.#blockQueue[i] === entry) this.#blockQueue.splice(i, 1);
  }
}
