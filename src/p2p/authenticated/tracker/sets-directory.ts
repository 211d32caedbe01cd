/**
 * The half of the shared tracker directory that does not deal with connections: the records,
 * the window of retained peer sets, the block list and their metrics. {@link SetsDirectory} is
 * the base of `DirectoryBase` (`directory.ts`, which holds the module essay, the invariants and
 * the single reservation per peer).
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import { P2PError } from '../../errors.js';
import { checkPeerSetIndex, type PeerSetUpdate, type TrackedPeers } from '../../types.js';
import { checkPeerSetSize } from '../oracle.js';
import { BlockList } from './blocks.js';
import { DirectoryMetrics } from './metrics.js';
import { containsHex, PeerSetWindow, type StoredSet, sortedUnique } from './peer-sets.js';
import type { RecordBase } from './record.js';
import { type BareCodec, RecordTable, type Role } from './record-table.js';
import { type SetStatus, statusSteps, type TrackerStatus } from './status.js';
import { CHUNK, PAUSE, runSteps, type Steps } from './steps.js';
import type { DirectoryConfig, DirectoryDependencies } from './types.js';

/**
 * Records, retained sets and blocks: the half of the shared directory that does not deal with
 * connections (see `directory.ts` for the module essay and {@link DirectoryBase} for the other
 * half). `R` is the flavour's record, `P` what a registration carries, `S` what a retained set
 * stores, `B` what stands for a record of a peer that is only a set member (see
 * {@link RecordTable}).
 */
export abstract class SetsDirectory<
  R extends RecordBase,
  P,
  S extends StoredSet = StoredSet,
  B extends object = PublicKey,
> {
  // ---------- Configuration ----------
  /** The directory's configuration. */
  protected readonly config: DirectoryConfig;
  readonly #myself: PublicKey;

  // ---------- State ----------
  /**
   * Every record, ourselves included, under its own key, in the table's order (by the key's
   * first hex digit, first seen first within one); a peer that is only a set member may be a
   * bare entry (`get` makes its record).
   */
  protected readonly peers: RecordTable<R, B>;
  /** The retained sets, ascending by index. */
  protected readonly sets: PeerSetWindow<S>;
  /** The block list (the source of truth for blocking). */
  protected readonly blocks: BlockList;

  // ---------- Collaborators ----------
  /** The directory's metrics. */
  protected readonly metrics: DirectoryMetrics;

  /**
   * @param myself - our own record (persistent, never eligible), holding our key.
   * @param bare - how the flavour's bare entries relate to its records.
   * @throws P2PError `InvalidConfig` if `trackedPeerSets` or `maxPeersPerSet` is not a positive
   *   integer.
   */
  protected constructor(
    myself: R,
    config: DirectoryConfig,
    deps: DirectoryDependencies,
    bare: BareCodec<R, B>,
  ) {
    if (!Number.isSafeInteger(config.trackedPeerSets) || config.trackedPeerSets < 1) {
      throw new P2PError('InvalidConfig', 'trackedPeerSets must be a positive integer');
    }
    if (!Number.isSafeInteger(config.maxPeersPerSet) || config.maxPeersPerSet < 1) {
      throw new P2PError('InvalidConfig', 'maxPeersPerSet must be a positive integer');
    }
    this.config = config;
    this.#myself = myself.key;
    this.peers = new RecordTable<R, B>(bare);
    this.metrics = deps.metrics ?? DirectoryMetrics.noop();
    this.sets = new PeerSetWindow<S>(config.trackedPeerSets);
    this.blocks = new BlockList(config.blockDurationMs, this.metrics.blocked);
    this.peers.set(myself);
    this.metrics.tracked.set(undefined, 0);
  }

  /** Our own key. */
  get myself(): PublicKey {
    return this.#myself;
  }

  // ---------- Peer sets ----------

  /**
   * Throws unless a set of `primary` and `secondary` keys fits `maxPeersPerSet`: the distinct
   * keys across both roles, plus one for ourselves if we are not among them (we always occupy a
   * connection slot's worth of identity in every set).
   *
   * @throws P2PError `InvalidPeerSet`.
   */
  /**
   * {@link checkKeys} for members in any order (what the oracle checks at the call): counts the
   * distinct keys with a set, linear, no sort.
   *
   * @throws P2PError `InvalidPeerSet` if the set is larger than `maxPeersPerSet`.
   */
  protected checkKeyCount(keys: Iterable<PublicKey>): void {
    checkPeerSetSize(keys, this.#myself, this.config.maxPeersPerSet);
  }

  /**
   * {@link checkKeyCount} over a registration's two roles, each item carrying its key (`keyOf`):
   * when even every item being distinct and not us fits (`primary + secondary + 1 <=
   * maxPeersPerSet`, the usual case) nothing is counted; otherwise the distinct keys are.
   *
   * @throws P2PError `InvalidPeerSet` if the set is larger than `maxPeersPerSet`.
   */
  protected checkRoleSizes<T>(
    primary: readonly T[],
    secondary: readonly T[],
    keyOf: (item: T) => PublicKey,
  ): void {
    if (primary.length + secondary.length + 1 <= this.config.maxPeersPerSet) return;
    this.checkKeyCount([...primary, ...secondary].map(keyOf));
  }

  protected checkKeys(peers: TrackedPeers): void {
    const me = this.#myself.toHex();
    const hasMe = containsHex(peers.primary, me) || containsHex(peers.secondary, me);
    const count = peers.primary.length + peers.secondary.length + (hasMe ? 0 : 1);
    if (count > this.config.maxPeersPerSet) {
      throw new P2PError(
        'InvalidPeerSet',
        `peer set has ${count} peers (including self) but maxPeersPerSet is ${this.config.maxPeersPerSet}`,
      );
    }
  }

  /**
   * Tracks `peers` at `index` and evicts the lowest indices beyond `trackedPeerSets`.
   *
   * Returns `undefined` (nothing changes) if `index` is not greater than every retained index.
   * Otherwise returns the deduplicated, sorted list of peers whose connection must be killed
   * (see the flavour's {@link trackSteps}).
   *
   * @throws P2PError `InvalidPeerSet` if `index` is not a non-negative safe integer or the set is
   *   larger than `maxPeersPerSet` (checked before any change).
   */
  track(index: number, peers: P): PublicKey[] | undefined {
    const job = this.beginTrack(index, peers);
    return job === undefined ? undefined : runSteps(job);
  }

  /**
   * {@link track} split into steps: checks the index at once (throwing as `track` does, or
   * returning `undefined` for an index that does not increase) and returns the steps that check
   * the size (throwing before any change) and apply the set. The caller must run them to
   * completion before any other call.
   *
   * @throws P2PError `InvalidPeerSet` for an invalid index (at once) or an oversized set (from
   *   the first steps).
   */
  beginTrack(index: number, peers: P): Steps<PublicKey[]> | undefined {
    if (!this.admits(index)) return undefined;
    return this.trackSteps(index, peers);
  }

  /**
   * The flavour's registration of `peers` at an admitted `index`, in steps: check the size
   * ({@link checkKeys}) before any change, give every member a record and its count, then
   * {@link commitSteps}.
   */
  protected abstract trackSteps(index: number, peers: P): Steps<PublicKey[]>;

  /**
   * The first step of {@link beginTrack}: throws on an invalid index; returns whether `index`
   * exceeds every retained index (if not, the registration is ignored).
   *
   * @throws P2PError `InvalidPeerSet` if `index` is not a non-negative safe integer.
   */
  protected admits(index: number): boolean {
    checkPeerSetIndex(index);
    return this.sets.accepts(index);
  }

  /**
   * The last steps of a flavour's `track`, once the set's members have their counts: stores
   * `set`, evicts the lowest indices beyond `trackedPeerSets` (decrementing their members,
   * queueing for kill those that now need teardown, deleting inert ones with no membership),
   * and returns `kill` deduplicated and sorted.
   */
  protected *commitSteps(set: S, kill: PublicKey[]): Steps<PublicKey[]> {
    let n = 0;
    for (const evicted of this.sets.push(set)) {
      for (const key of evicted.peers.primary) {
        this.#evict(key, 'primary', kill);
        if (++n % CHUNK === 0) yield;
      }
      for (const key of evicted.peers.secondary) {
        this.#evict(key, 'secondary', kill);
        if (++n % CHUNK === 0) yield;
      }
    }
    return sortedUnique(kill);
  }

  /** Adds `record` under its key (counted in the `tracked` gauge). */
  protected insert(record: R): R {
    this.peers.set(record);
    this.metrics.tracked.inc();
    return record;
  }

  /**
   * Counts one membership of `bare`'s key in `role` for a set being registered: a key without
   * an entry gets `bare` as its entry (counted in the `tracked` gauge), a bare entry its count;
   * returns the record if the key has one (its count is the caller's to add), else
   * `undefined`. Called from {@link joinSteps}, which paces the insertions. (The bare value
   * itself, not a function making it: a closure per member would be garbage for every one.)
   */
  protected join(key: PublicKey, role: Role, bare: B): R | undefined {
    const entry = this.peers.peek(key);
    if (entry === undefined) {
      this.peers.addBare(bare, role);
      this.metrics.tracked.inc();
      return undefined;
    }
    if (this.peers.isRecord(entry)) return entry;
    this.peers.countBare(key, role, 1);
    return undefined;
  }

  /**
   * Steps through a registration's `members`, calling `add(member, i)` for each: a step per
   * {@link CHUNK} of them, and the insertion that may grow the records' table (a rehash of every
   * entry at once) alone in its turn, with a PAUSE before and after it. `n` continues the
   * member count of an earlier call (primaries, then secondaries); returns it.
   */
  protected *joinSteps<T>(
    members: readonly T[],
    keyOf: (member: T) => PublicKey,
    add: (member: T, i: number) => void,
    n = 0,
  ): Steps<number> {
    const peers = this.peers;
    for (let i = 0; i < members.length; i++) {
      const member = members[i] as T;
      const key = keyOf(member);
      const grows = peers.mayGrowFor(key) && !peers.has(key);
      if (grows) yield PAUSE;
      add(member, i);
      if (grows) yield PAUSE;
      else if (++n % CHUNK === 0) yield;
    }
    return n;
  }

  /** The peers tracked at `index`, or `undefined` if that index is not retained. */
  peerSet(index: number): TrackedPeers | undefined {
    return this.sets.get(index)?.peers;
  }

  /** The highest retained index, if any. */
  latestIndex(): number | undefined {
    return this.sets.latest()?.index;
  }

  /** Every tracked peer: primary if primary in any retained set, else secondary. */
  all(): TrackedPeers {
    return runSteps(this.sets.allSteps());
  }

  /** The update to send subscribers: the latest set and the union of all, or `undefined`. */
  latestUpdate(): PeerSetUpdate | undefined {
    return runSteps(this.latestUpdateSteps());
  }

  /** {@link latestUpdate} in steps (the union is a merge over every retained set). */
  *latestUpdateSteps(): Steps<PeerSetUpdate | undefined> {
    const last = this.sets.latest();
    if (last === undefined) return undefined;
    return { index: last.index, latest: last.peers, all: yield* this.sets.allSteps() };
  }

  // ---------- Blocking ----------

  /**
   * Blocks `key` until `now + blockDurationMs`. Works for keys without a record (the block
   * applies when they are later tracked). No-op while an unexpired block exists, and for
   * ourselves. Returns whether a block was added. The caller kills any connection.
   */
  block(key: PublicKey, now: number): boolean {
    if (this.peers.get(key)?.isBlockable() === false) return false;
    return this.blocks.block(key, now);
  }

  /** Whether `key` is blocked at `now` (an entry exists and has not expired). */
  isBlocked(key: PublicKey, now: number): boolean {
    // Most directories block nobody: skip hashing the key then.
    return this.blocks.size > 0 && this.blocks.isBlocked(key, now);
  }

  /** Removes every block that has expired by `now`; returns the unblocked keys in expiry order. */
  unblockExpired(now: number): PublicKey[] {
    return this.blocks.unblockExpired(now);
  }

  /** When the earliest block expires (ms), or `undefined` if nothing is blocked. */
  nextUnblockAt(): number | undefined {
    return this.blocks.nextUnblockAt();
  }

  /** Number of block entries (including expired ones not yet swept). */
  get blockedCount(): number {
    return this.blocks.size;
  }

  // ---------- Inspection ----------

  /** Where `record`'s peer is dialed, as `host:port`, if known (for status snapshots). */
  protected abstract addressOf(record: R): string | undefined;

  /** A retained set as a status snapshot shows it (a flavour may add to it). */
  protected setStatus(set: S): SetStatus {
    return { index: set.index, primary: set.peers.primary, secondary: set.peers.secondary };
  }

  /**
   * The retained sets and the peers at `[offset, offset + limit)` at `now`, in the directory's
   * order (records by their key's first hex digit, first seen first within one, ourselves
   * excluded; then blocked keys without a record), in steps (see {@link statusSteps}).
   */
  status(offset: number, limit: number, now: number): Steps<TrackerStatus> {
    return statusSteps(
      {
        sets: [...this.sets].map((s) => this.setStatus(s)),
        records: this.peers,

        blocks: this.blocks,
        blockDurationMs: this.config.blockDurationMs,
        addressOf: (r) => this.addressOf(r),
      },
      offset,
      limit,
      now,
    );
  }

  /** Number of records, excluding ourselves. */
  get trackedCount(): number {
    return this.peers.size - 1;
  }

  // ---------- Helpers ----------

  /** Counts one membership of `key` in `role` less (its set was evicted). */
  #evict(key: PublicKey, role: Role, kill: PublicKey[]): void {
    const entry = this.peers.peek(key)!;
    if (!this.peers.isRecord(entry)) {
      // A bare entry is inert: deleted with its last membership.
      if (this.peers.countBare(key, role, -1)) this.#forget(key);
      return;
    }
    if (role === 'primary') entry.decrementPrimary();
    else entry.decrementSecondary();
    // A record that needs teardown is not inert, so not deletable either.
    if (entry.needsTeardown()) kill.push(key);
    else this.deleteIfNeeded(key, entry);
  }

  /** Deletes `key`'s record if it is {@link RecordBase.deletable}; returns whether it did. */
  protected deleteIfNeeded(key: PublicKey, record: R | undefined = this.peers.get(key)): boolean {
    if (record === undefined || !record.deletable()) return false;
    this.peers.delete(key);
    this.#forget(key);
    return true;
  }

  /**
   * Called when `key`'s entry (a record or a bare one) has been deleted, for a flavour that
   * keeps more per key (lookup: a bare entry's address).
   */
  protected forgotten(_key: PublicKey): void {}

  /** What follows the deletion of `key`'s entry. */
  #forget(key: PublicKey): void {
    this.forgotten(key);
    this.metrics.tracked.dec();
    this.metrics.forget(key.toHex());
    // The block entry (and its gauge) outlive the record: a block persists until it expires.
    this.blocks.restoreGauge(key);
  }
}
