/**
 * The discovery tracker's state: every peer's {@link Record}, the retained peer sets with our
 * knowledge bits, and the block list.
 *
 * Mirrors commonware `p2p/src/authenticated/discovery/actors/tracker/directory.rs`. What both
 * flavours share (sets, blocks, reservations, metrics) is {@link DirectoryBase}; this file adds
 * what discovery alone has: bootstrappers (persistent records, dialable at once), signed `Info`s
 * learned by gossip (only for keys already in the directory, only when newer), dial-failure
 * counting, and the knowledge bits exchanged as `BitVec`s and answered with sharable `Info`s.
 *
 * A peer's knowledge bit is recomputed in every retained set where it is a primary whenever its
 * record changes: on connect, release, an accepted `Info`, and when a set is tracked.
 *
 * @module
 */

import type { PublicKey } from '../../../../crypto/ed25519.js';
import { formatIngress, type Ingress, isValidIngress } from '../../../address.js';
import { P2PError } from '../../../errors.js';
import { KeyedMap } from '../../../peer-map.js';
import type { TrackedPeers } from '../../../types.js';
import {
  type Activation,
  type DialReservation,
  type DialStatus,
  DirectoryBase,
  type DirectoryConfig as DirectoryConfigBase,
  type DirectoryDependencies,
  type Inbound,
  Metadata,
  type SetStatus,
  type Steps,
  type StoredSet,
  trackedPeersSteps,
} from '../../tracker/index.js';
import { BitSet } from './bitset.js';
import type { BitVec, InfoLike } from './info.js';
import { Record, type RecordView } from './record.js';

// ---------- Configuration ----------

/** Configuration of a discovery {@link Directory}, taken from the discovery network `Config`. */
export interface DirectoryConfig extends DirectoryConfigBase {
  /** Failed dials to a discovered ingress before we ask for fresher information about it. */
  readonly dialFailLimit: number;
  /** Most `Info`s sent in answer to one `BitVec` (a random subset beyond this). */
  readonly peerGossipMaxCount: number;
}

/** A retained set with our knowledge bit for each of its primaries. */
interface DiscoverySet extends StoredSet {
  readonly knowledge: BitSet;
}

/** Result of {@link Directory.infos}. */
export type InfosResult =
  /** The index is not retained: nothing to say (the peer may be ahead of or behind us). */
  | { readonly kind: 'unknownIndex' }
  /** The bit length is not the set's size: the peer disagrees on the set; kill it. */
  | { readonly kind: 'mismatch' }
  /** The `Info`s to send (possibly none). */
  | { readonly kind: 'infos'; readonly infos: InfoLike[] };

const self = (k: PublicKey): PublicKey => k;

/** A peer that is only a set member is its key alone: an `unknown` record once asked for. */
const BARE = { keyOf: self, materialize: (key: PublicKey) => Record.unknown(key) };

/** The discovery tracker's records, peer sets, knowledge bits and block list. */
export class Directory extends DirectoryBase<Record, TrackedPeers, DiscoverySet> {
  readonly #config: DirectoryConfig;
  readonly #info: InfoLike;
  readonly #rng: DirectoryDependencies['rng'];
  /** The connected (active) records: besides ours, the only ones whose `Info` is sharable. */
  readonly #active = new KeyedMap<Record>();

  /**
   * @param myself - our own signed `Info` (its key gets a persistent, never-eligible record).
   * @param bootstrappers - configured peers, persistent and dialed at once; an entry for our own
   *   key is ignored, and a later entry for a key replaces an earlier one.
   * @param config - see {@link DirectoryConfig}.
   * @param deps - `rng` for dial jitter and gossip subsets, `releaser`, optional `metrics`.
   * @throws P2PError `InvalidConfig` if `trackedPeerSets`, `maxPeersPerSet`, `dialFailLimit`
   *   or `peerGossipMaxCount` is not a positive integer.
   */
  constructor(
    myself: InfoLike,
    bootstrappers: Iterable<readonly [PublicKey, Ingress]>,
    config: DirectoryConfig,
    deps: DirectoryDependencies,
  ) {
    super(Record.myself(myself), config, deps, BARE);
    for (const name of ['dialFailLimit', 'peerGossipMaxCount'] as const) {
      if (!Number.isSafeInteger(config[name]) || config[name] < 1) {
        throw new P2PError('InvalidConfig', `${name} must be a positive integer`);
      }
    }
    this.#config = config;
    this.#info = myself;
    this.#rng = deps.rng;
    for (const [key, ingress] of bootstrappers) {
      if (key.equals(myself.publicKey)) continue;
      if (this.peers.has(key)) this.peers.set(Record.bootstrapper(key, ingress));
      else this.insert(Record.bootstrapper(key, ingress));
    }
  }

  /** Our own signed `Info` (the greeting sent on every connection). */
  get info(): InfoLike {
    return this.#info;
  }

  // ---------- Peer sets ----------

  /**
   * Throws unless `peers` fits `maxPeersPerSet`: the distinct keys across both roles, plus one
   * for ourselves if we are not among them.
   *
   * @throws P2PError `InvalidPeerSet`.
   */
  checkSize(peers: TrackedPeers): void {
    this.checkRoleSizes(peers.primary, peers.secondary, self);
  }

  /**
   * Discovery's registration: a new key gets an `unknown` record (a bare entry: nothing is
   * allocated for it until it is dialed, connected or its `Info` learned), and each primary's
   * knowledge bit in the new set starts as what we know of it. Peers that lost their last set
   * while reserved or connected are killed.
   */
  protected *trackSteps(index: number, input: TrackedPeers): Steps<PublicKey[]> {
    const peers = yield* trackedPeersSteps(input.primary, input.secondary, self);
    this.checkKeys(peers);
    const knowledge = new BitSet(peers.primary);
    const limit = this.#config.dialFailLimit;
    const n = yield* this.joinSteps(peers.primary, self, (key, i) => {
      const record = this.join(key, 'primary', key);
      // A bare entry knows nothing: its bit stays clear.
      if (record !== undefined) {
        record.incrementPrimary();
        knowledge.set(i, !record.want(limit));
      }
    });
    yield* this.joinSteps(
      peers.secondary,
      self,
      (key) => this.join(key, 'secondary', key)?.incrementSecondary(),
      n,
    );
    return yield* this.commitSteps({ index, peers, knowledge }, []);
  }

  /** A uniformly random retained set's index and our knowledge bits, or `undefined` if none. */
  bitVec(): BitVec | undefined {
    if (this.sets.size === 0) return undefined;
    const set = this.sets.at(this.#rng.int(0, this.sets.size))!;
    return { index: set.index, bits: set.knowledge.bits() };
  }

  /**
   * What to send a peer that sent `bitVec` at `now`: for each clear bit, the sharable `Info` of
   * that primary, unless it is dated after `now` (we do not spread records from the future);
   * at most `peerGossipMaxCount` of them, a uniformly random subset beyond that.
   */
  infos(bitVec: BitVec, now: number): InfosResult {
    const set = this.sets.get(bitVec.index);
    if (set === undefined) return { kind: 'unknownIndex' };
    if (bitVec.bits.length !== set.knowledge.size) return { kind: 'mismatch' };
    const max = this.#config.peerGossipMaxCount;
    const primaries = set.knowledge.peers;
    if (primaries.length <= 4 * (this.#active.size + 1)) {
      // A small set: scan its bits (a set bit costs no lookup).
      const out: InfoLike[] = [];
      for (let i = 0; i < primaries.length; i++) {
        if (bitVec.bits.get(i)) continue;
        const info = this.peers.get(primaries[i]!)?.sharable();
        if (info !== undefined && info.timestampMs <= now) out.push(info);
      }
      return { kind: 'infos', infos: this.#sample(out, max) };
    }
    // Only our record and connected ones are sharable: visit those (not every primary, which
    // at 65,536 peers is one long turn) and put them back in bit order (the same answer).
    const found: [number, InfoLike][] = [];
    const consider = (key: PublicKey, record: Record | undefined): void => {
      const info = record?.sharable();
      if (info === undefined || info.timestampMs > now) return;
      const i = set.knowledge.position(key);
      if (i !== undefined && !bitVec.bits.get(i)) found.push([i, info]);
    };
    consider(this.myself, this.peers.get(this.myself));
    for (const record of this.#active) consider(record.key, record);
    found.sort((a, b) => a[0] - b[0]);
    const out = found.map(([, info]) => info);
    return { kind: 'infos', infos: this.#sample(out, max) };
  }

  /**
   * Takes gossiped `infos` (already validated by the peer actor): an `Info` about a key without
   * a record is ignored, and one no newer than what we hold changes nothing. Returns the keys
   * whose record changed.
   */
  update(infos: readonly InfoLike[]): PublicKey[] {
    const changed: PublicKey[] = [];
    for (const info of infos) {
      const key = info.publicKey;
      const record = this.peers.get(key);
      if (record === undefined || !record.update(info)) continue;
      this.metrics.updates.inc({ peer: key.toHex() });
      this.#refresh(key, record);
      changed.push(key);
    }
    return changed;
  }

  // ---------- Connections ----------

  protected dialStatus(record: Record, now: number): DialStatus {
    const { allowPrivateIps, allowDns, dialFailLimit } = this.#config;
    return record.dialable(now, allowPrivateIps, allowDns, dialFailLimit);
  }

  /** A bare entry is a member whose `Info` we lack: no address, so never dialable. */
  protected override bareUndialable(): boolean {
    return true;
  }

  /**
   * Reserves `key` for an outbound dial: a primary or bootstrapper with an ingress allowed by
   * policy, eligible and reservable at `now`. Returns the reservation and the ingress to dial.
   */
  dial(key: PublicKey, now: number): DialReservation | undefined {
    const record = this.peers.get(key);
    if (record === undefined || !record.isOutboundTarget()) return undefined;
    const ingress = record.ingress(this.#config.dialFailLimit);
    if (ingress === undefined) return undefined;
    if (!isValidIngress(ingress, this.#config.allowPrivateIps, this.#config.allowDns)) {
      return undefined;
    }
    const reservation = this.reserve(Metadata.dialer(key, ingress), now);
    return reservation === undefined ? undefined : { reservation, ingress };
  }

  /**
   * Whether an inbound handshake from `key` may proceed at `now`: not blocked, eligible (in a
   * retained set, primary or secondary, or a bootstrapper), and a slot it may take (free, held by
   * a pending dial, or a simultaneous session it would win). Discovery does not filter by source
   * IP: `_sourceIp` is accepted for a uniform listener interface.
   */
  acceptable(key: PublicKey, _sourceIp: string, now: number): boolean {
    const record = this.peers.get(key);
    return record !== undefined && this.admitsInbound(key, record, now);
  }

  /**
   * Reserves `key` for an inbound connection once its handshake completed (re-checks
   * {@link acceptable}); `supersedes` says a live connection lost the slot and must be killed.
   */
  listen(key: PublicKey, _sourceIp: string, now: number): Inbound | undefined {
    return this.reserveInbound(key, now);
  }

  /**
   * Marks `key`'s reservation `generation` connected at `now` (`dialer`: we dialed it, so its
   * ingress works). `refused`: the connection must be closed instead (no record, superseded, or
   * no longer eligible); `superseded`: it took the slot of the other direction's connection,
   * which must be killed.
   */
  connect(key: PublicKey, dialer: boolean, now: number, generation?: number): Activation {
    const result = this.activate(key, now, dialer ? 'dialer' : 'listener', generation);
    if (result === 'refused') return result;
    const record = this.peers.get(key)!;
    if (dialer) record.dialSuccess();
    this.#active.set(record);
    this.#refresh(key, record);
    return result;
  }

  /** Every dialer release counts as a failed dial of the ingress it dialed. */
  protected override released(key: PublicKey, record: Record, metadata: Metadata): void {
    this.#active.delete(key);
    if (metadata.kind === 'dialer' && metadata.ingress !== undefined) {
      record.dialFailure(metadata.ingress);
    }
    this.#refresh(key, record);
  }

  // ---------- Inspection ----------

  /** A read-only view of `key`'s record, or `undefined` if it has none. */
  record(key: PublicKey): RecordView | undefined {
    return this.peers.get(key);
  }

  protected addressOf(record: Record): string | undefined {
    const ingress = record.ingress(this.#config.dialFailLimit);
    return ingress === undefined ? undefined : formatIngress(ingress);
  }

  /** A retained set with our knowledge bits (which primaries' signed records we hold). */
  protected override setStatus(set: DiscoverySet): SetStatus {
    return { ...super.setStatus(set), known: set.knowledge.bits() };
  }

  /** Our knowledge bit for `key` in the set at `index`, or `undefined` if not a primary there. */
  knows(index: number, key: PublicKey): boolean | undefined {
    const knowledge = this.sets.get(index)?.knowledge;
    const i = knowledge?.position(key);
    return i === undefined ? undefined : knowledge!.get(i);
  }

  // ---------- Helpers ----------

  /** Recomputes `key`'s knowledge bit in every retained set where it is a primary. */
  #refresh(key: PublicKey, record: Record): void {
    if (record.primarySets === 0) return;
    const known = !record.want(this.#config.dialFailLimit);
    for (const set of this.sets) set.knowledge.update(key, known);
  }

  /** `items` if short enough, else a uniformly random `max` of them (partial Fisher-Yates). */
  #sample<T>(items: T[], max: number): T[] {
    if (items.length <= max) return items;
    for (let i = 0; i < max; i++) {
      const j = this.#rng.int(i, items.length);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    items.length = max;
    return items;
  }
}
