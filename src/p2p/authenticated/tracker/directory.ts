/**
 * The part of a tracker's directory both flavours share (commonware `tracker/directory.rs` in
 * `discovery` and `lookup`): the records, the window of retained peer sets, the block list, the
 * single reservation per peer and the metrics that follow them.
 *
 * A flavour's `Directory` extends {@link DirectoryBase} with its own record type and what it
 * alone does (lookup: addresses, `overwrite`, the listener allow-list; discovery: `Info`s,
 * knowledge bits, gossip answers). Pure logic owned by the tracker actor: time (`now`, ms since
 * the Unix epoch) and randomness are parameters, releases go out through an injected
 * {@link Releaser}, and metrics through an injected {@link DirectoryMetrics}. The records, sets
 * and blocks live in its base, `SetsDirectory` (`sets-directory.ts`); this file adds the
 * reservations and connection state.
 *
 * Invariants:
 * - at most one reservation per peer (a record is `inert`, `reserved` or `active`);
 * - a record exists for ourselves, for every persistent peer and for every peer named by a
 *   retained set, plus any peer still holding a reservation after its last set was evicted
 *   (deleted on release);
 * - the block list is the source of truth for blocking: it holds keys with or without records,
 *   survives record deletion, and an entry whose time has passed no longer blocks even before
 *   {@link DirectoryBase.unblockExpired} removes it.
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import { admission } from './admission.js';
import { Metadata } from './metadata.js';
import { type StoredSet, sortedUniqueSteps } from './peer-sets.js';
import type { DialStatus, JitterRng, RecordBase } from './record.js';
import type { BareCodec } from './record-table.js';
import { type Releaser, Reservation } from './reservation.js';
import { SetsDirectory } from './sets-directory.js';
import { CHUNK, runSteps, type Steps } from './steps.js';
import type {
  Activation,
  Admission,
  Dialable,
  DirectoryConfig,
  DirectoryDependencies,
  Inbound,
  ReleaseResult,
} from './types.js';

/**
 * Records, retained sets, blocks and reservations: the state both trackers share ({@link
 * SetsDirectory} holds the sets and blocks; this class the single reservation per peer and the
 * connection state). `R` is the flavour's record, `P` what a registration carries, `S` what a
 * retained set stores, `B` the flavour's bare entry (a peer that is only a set member).
 */
export abstract class DirectoryBase<
  R extends RecordBase,
  P,
  S extends StoredSet = StoredSet,
  B extends object = PublicKey,
> extends SetsDirectory<R, P, S, B> {
  // ---------- Collaborators ----------
  readonly #rng: JitterRng;
  readonly #handshakeTimeoutMs: number;
  readonly #releaser: Releaser;

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
    super(myself, config, deps, bare);
    this.#rng = deps.rng;
    this.#handshakeTimeoutMs = config.handshakeTimeoutMs ?? 5_000;
    this.#releaser = deps.releaser;
  }

  // ---------- Connections ----------

  /** Whether `key` may hold a connection: tracked (or persistent), not us, not blocked. */
  eligible(key: PublicKey, now: number): boolean {
    if (this.isBlocked(key, now)) return false;
    return this.peers.get(key)?.eligible() === true;
  }

  /** Whether `record` may be dialed at `now` as far as its address and policy go. */
  protected abstract dialStatus(record: R, now: number): DialStatus;

  /**
   * Whether a bare entry (a set member without a record) can never be dialable, so that the
   * dialer's scan skips it without making its record: true where a bare entry has no address
   * (discovery, before an `Info`); false by default (the record is judged).
   */
  protected bareUndialable(_bare: B): boolean {
    return false;
  }

  readonly #skipBare = (bare: B): boolean => this.bareUndialable(bare);

  /**
   * Peers the dialer may dial at `now`, sorted by key, and when to ask again: the earliest of
   * every pending dial time and every block expiry of an otherwise-tracked peer (a bare entry
   * the flavour calls never dialable, see {@link bareUndialable}, is skipped, blocked or not).
   */
  dialable(now: number): Dialable {
    return runSteps(this.dialableSteps(now));
  }

  /**
   * {@link dialable} in steps: it visits every record (and sorts what it finds), a step per
   * {@link CHUNK} records, so a directory of tens of thousands of peers answers the dialer
   * without one long event-loop turn.
   */
  *dialableSteps(now: number): Steps<Dialable> {
    const peers: PublicKey[] = [];
    let nextQueryAt: number | undefined;
    let n = 0;
    for (const record of this.peers.scan(this.#skipBare)) {
      if (++n % CHUNK === 0) yield;
      if (record === undefined) continue;
      const key = record.key;
      const until = this.blocks.size === 0 ? undefined : this.blocks.blockedUntil(key, now);
      if (until !== undefined) {
        if (nextQueryAt === undefined || until < nextQueryAt) nextQueryAt = until;
        continue;
      }
      const status = this.dialStatus(record, now);
      if (status.kind === 'now') peers.push(key);
      else if (status.kind === 'after' && (nextQueryAt === undefined || status.at < nextQueryAt)) {
        nextQueryAt = status.at;
      }
    }
    return { peers: yield* sortedUniqueSteps(peers), nextQueryAt };
  }

  /**
   * Takes `metadata.publicKey`'s single reservation at `now`: it must be eligible (tracked, not
   * blocked) and reservable (inert, past its cooldown; a refusal by the cooldown is counted in
   * `limits`).
   */
  protected reserve(metadata: Metadata, now: number): Reservation | undefined {
    const key = metadata.publicKey;
    if (!this.eligible(key, now)) return undefined;
    const record = this.peers.get(key)!;
    const holder = metadata.kind;
    switch (record.reserve(now, this.config.peerConnectionCooldownMs, this.#rng, holder)) {
      case 'reserved':
        this.metrics.reserved.inc();
        // The record's key object: the connection then holds no second copy of the peer's key.
        return new Reservation(
          Metadata.withGeneration(metadata, record.generation, record.key),
          this.#releaser,
        );
      case 'rateLimited':
        this.metrics.limits.inc({ peer: key.toHex() });
        return undefined;
      case 'unavailable':
        return undefined;
    }
  }

  /** {@link admission} for this directory (our key, our `handshakeTimeoutMs`). */
  protected admission(
    key: PublicKey,
    record: R,
    holder: 'dialer' | 'listener',
    now: number,
  ): Admission {
    return admission(this.myself, key, record, holder, now, this.#handshakeTimeoutMs);
  }

  /**
   * Whether an inbound session of `key` could be admitted at `now` (for the handshake's bouncer,
   * before any cryptography): eligible, and a slot it may take under {@link admission}.
   */
  protected admitsInbound(key: PublicKey, record: R, now: number): boolean {
    return this.#inbound(key, record, now) !== 'refuse';
  }

  /** {@link admission} of an inbound session, refused outright if `key` is blocked or ineligible. */
  #inbound(key: PublicKey, record: R, now: number): Admission {
    if (this.isBlocked(key, now) || !record.eligible()) return 'refuse';
    return this.admission(key, record, 'listener', now);
  }

  /**
   * Reserves `key` for an authenticated inbound session at `now`: the free slot (subject to the
   * cooldown), or, per {@link admission}, the slot of a pending dial or of the losing direction
   * of a simultaneous dial (`supersedes`: the caller kills that connection).
   */
  protected reserveInbound(key: PublicKey, now: number): Inbound | undefined {
    const record = this.peers.get(key);
    const decision = record === undefined ? 'refuse' : this.#inbound(key, record, now);
    if (record === undefined || decision === 'refuse') return undefined;
    if (decision === 'reserve') {
      const reservation = this.reserve(Metadata.listener(key), now);
      return reservation === undefined ? undefined : { reservation, supersedes: false };
    }
    const supersedes = record.status === 'active';
    if (supersedes) this.metrics.connected.remove({ peer: key.toHex() });
    record.takeOver('listener');
    const metadata = Metadata.withGeneration(Metadata.listener(record.key), record.generation);
    return { reservation: new Reservation(metadata, this.#releaser), supersedes };
  }

  /**
   * Marks `key`'s reservation `generation`, held from `holder`'s direction (default: whoever
   * holds it), active at `now`.
   * `connected`: it was the current reservation; `superseded`: it wins over the other
   * direction's session (per {@link admission}), whose connection the caller must kill;
   * `refused`: the connection must be closed (no record, a superseded reservation, no longer
   * eligible, or refused by the flavour's record).
   */
  protected activate(
    key: PublicKey,
    now: number,
    direction: 'dialer' | 'listener' | undefined,
    generation: number | undefined,
  ): Activation {
    const record = this.peers.get(key);
    if (record === undefined || !this.eligible(key, now)) return 'refused';
    const holder = direction ?? record.holder;
    if (holder === undefined) return 'refused';
    let result: Activation = 'connected';
    const current = record.status === 'reserved' && record.holder === holder;
    if (!current || (generation !== undefined && generation !== record.generation)) {
      // A dial that completed after an inbound session took its slot.
      if (holder !== 'dialer' || record.holder !== 'listener') return 'refused';
      if (this.admission(key, record, 'dialer', now) !== 'supersede') return 'refused';
      result = record.status === 'active' ? 'superseded' : 'connected';
      // The dial's own reservation stays the current one: its release must end the connection.
      record.takeOver('dialer', generation);
    }
    if (!record.connect(now)) return 'refused';
    this.metrics.connected.set({ peer: key.toHex() }, now);
    return result;
  }

  /**
   * Ends the reservation or connection described by `metadata` (sent by
   * {@link Reservation.release}). Deletes the record if nothing references it any more. A
   * release of a superseded reservation (another took the slot) changes nothing. A release for
   * an unknown key or an inert record is a bookkeeping slip: nothing changes and the slip is
   * returned for the caller to log and count.
   */
  release(metadata: Metadata, now?: number): ReleaseResult {
    const key = metadata.publicKey;
    const record = this.peers.get(key);
    if (record === undefined) return 'unknown';
    if (metadata.generation !== undefined && metadata.generation !== record.generation) {
      return 'superseded';
    }
    if (record.status === 'inert') return 'inert';
    record.release(now);
    this.metrics.connected.remove({ peer: key.toHex() });
    this.metrics.reserved.dec();
    this.released(key, record, metadata);
    this.deleteIfNeeded(key);
    return 'released';
  }

  /** Called after `record` was released, before it may be deleted. */
  protected released(_key: PublicKey, _record: R, _metadata: Metadata): void {}
}
