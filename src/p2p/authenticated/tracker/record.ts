/**
 * The connection state every tracker record has, whatever the flavour (commonware
 * `tracker/record.rs` in both `discovery` and `lookup`).
 *
 * A record's status moves `inert` -> `reserved` -> `active` -> `inert` (a reservation may also
 * end before it becomes active). It counts how many retained primary and secondary peer sets
 * name the peer, whether it is persistent (ourselves; discovery's bootstrappers), and the two
 * timers that throttle reservations (`nextReservableAt`) and dials (`nextDialAt`). A flavour's
 * record extends {@link RecordBase} with what it knows of the peer's address.
 *
 * Pure: time (`now`, ms since the epoch) and randomness are parameters.
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Rng } from '../../../runtime/context.js';

/**
 * Connection status. `inert`: no connection and no attempt. `reserved`: a dialer or listener
 * holds the single reservation and is handshaking. `active`: connected. Every non-inert status
 * returns to `inert` on release.
 */
export type Status = 'inert' | 'reserved' | 'active';

/** Who holds a reservation: the dialer (outbound) or the listener (inbound). */
export type Holder = 'dialer' | 'listener';

/** Outcome of {@link RecordBase.reserve}. */
export type ReserveResult = 'reserved' | 'rateLimited' | 'unavailable';

/** Outcome of a record's `dialable`: dial now, not before `at` (ms), or not at all. */
export type DialStatus =
  | { readonly kind: 'now' }
  | { readonly kind: 'after'; readonly at: number }
  | { readonly kind: 'unavailable' };

/** The randomness a record needs: a uniform integer in `[min, max)` for dial jitter. */
export type JitterRng = Pick<Rng, 'int'>;

const UNAVAILABLE: DialStatus = Object.freeze({ kind: 'unavailable' });
const NOW: DialStatus = Object.freeze({ kind: 'now' });

/** Read-only view of the connection state of a record. */
export interface RecordBaseView {
  /** The peer's key (a directory stores the record under it). */
  readonly key: PublicKey;
  readonly status: Status;
  readonly primarySets: number;
  readonly secondarySets: number;
  readonly persistent: boolean;
  readonly nextReservableAt: number;
  readonly nextDialAt: number;
  eligible(): boolean;
  isOutboundTarget(): boolean;
  deletable(): boolean;
  needsTeardown(): boolean;
  isBlockable(): boolean;
}

/**
 * The reservation timers and bookkeeping of a record, allocated at its first reservation: most
 * records of a large set are never reserved, and a smaller record is less for the young
 * generation to copy while a registration creates tens of thousands of them.
 */
interface Connection {
  // Never `inert` while a reservation is held; `inert` again after its release.
  status: Status;
  nextReservableAt: number;
  nextDialAt: number;
  // Who holds the current reservation, which one it is (a superseded holder's release carries an
  // older generation and is ignored), and since when it is active.
  holder: Holder | undefined;
  generation: number;
  activeSince: number | undefined;
  // When the status last changed (ms), if known: for status snapshots.
  since: number | undefined;
  // `nextReservableAt` before the current reservation, restored if it never connects.
  priorReservableAt: number;
  // The current reservation's premise changed (lookup: the peer's address) after it was taken:
  // it must not become or stay active.
  stale: boolean;
}

/** One peer's connection state. Mutated only by the directory that owns it. */
export abstract class RecordBase implements RecordBaseView {
  /** The peer's key: the directory's map reads it from the record (no second map of keys). */
  readonly key: PublicKey;

  // ---------- State ----------
  // Few fields: a registration creates tens of thousands of records at once, and the young
  // generation copies each (whether the record is persistent is the flavour's to derive).
  #primarySets = 0;
  #secondarySets = 0;
  // Allocated by the first reservation; until then the record is inert, both timers are at the
  // epoch (a new record may be reserved and dialed at once), the generation is 0 and nothing is
  // held.
  #conn: Connection | undefined;

  /** @param key - the peer's key. */
  protected constructor(key: PublicKey) {
    this.key = key;
  }

  /** The reservation state; only called where a reservation exists (status not inert). */
  #held(): Connection {
    const c = this.#conn;
    if (c === undefined) throw new Error(`invariant: no reservation while ${this.status}`);
    return c;
  }

  /** Whether this is our own record: never eligible, reserved, dialed or blocked. */
  abstract isMyself(): boolean;

  // ---------- Getters ----------

  get status(): Status {
    return this.#conn?.status ?? 'inert';
  }
  get primarySets(): number {
    return this.#primarySets;
  }
  get secondarySets(): number {
    return this.#secondarySets;
  }
  /** Kept without set membership (ourselves, a bootstrapper). */
  abstract get persistent(): boolean;
  /** Earliest time (ms) a new reservation (inbound or outbound) is allowed. */
  get nextReservableAt(): number {
    return this.#conn?.nextReservableAt ?? 0;
  }
  /** Earliest time (ms) the dialer should dial this peer again (cooldown plus jitter). */
  get nextDialAt(): number {
    return this.#conn?.nextDialAt ?? 0;
  }
  /** Who holds the current reservation (`undefined` while inert). */
  get holder(): Holder | undefined {
    return this.#conn?.holder;
  }
  /** The current reservation's generation (each reservation or take-over gets a new one). */
  get generation(): number {
    return this.#conn?.generation ?? 0;
  }
  /** When the current connection became active (ms), or `undefined` if not active. */
  get activeSince(): number | undefined {
    return this.#conn?.activeSince;
  }
  /** When the status last changed (ms), or `undefined` if it never did or the time is unknown. */
  get since(): number | undefined {
    return this.#conn?.since;
  }

  /** Only our own record cannot be blocked (the directory keeps the block list itself). */
  isBlockable(): boolean {
    return !this.isMyself();
  }

  /** Not ourselves, and in a retained primary or secondary set (or persistent). */
  eligible(): boolean {
    if (this.isMyself()) return false;
    return this.#primarySets > 0 || this.#secondarySets > 0 || this.persistent;
  }

  /**
   * Whether we dial this peer: a primary, or persistent (a bootstrapper). Secondaries are
   * accepted inbound, never dialed; ourselves never.
   */
  isOutboundTarget(): boolean {
    if (this.isMyself()) return false;
    return this.#primarySets > 0 || this.persistent;
  }

  /** No set membership, not persistent, and inert: nothing would be lost by deleting it. */
  deletable(): boolean {
    return (
      this.#primarySets === 0 &&
      this.#secondarySets === 0 &&
      !this.persistent &&
      this.status === 'inert'
    );
  }

  /**
   * Whether the current reservation or connection is stale: taken before a change that voids
   * it (lookup: the peer's address changed). Never while inert; a new reservation, a take-over
   * and a release clear it.
   */
  get stale(): boolean {
    return this.#conn?.stale === true;
  }

  /** Holds a reservation or connection that must be torn down (stale, or no longer eligible). */
  needsTeardown(): boolean {
    return this.status !== 'inert' && (this.stale || !this.eligible());
  }

  /**
   * When an outbound target may be dialed, ignoring the address (the flavour checks that):
   * `unavailable` unless inert and an outbound target, else `now` or `after(nextDialAt)`.
   */
  protected dialTiming(now: number): DialStatus {
    if (this.status !== 'inert' || !this.isOutboundTarget()) return UNAVAILABLE;
    const at = this.#conn?.nextDialAt ?? 0;
    return at > now ? { kind: 'after', at } : NOW;
  }

  // ---------- Setters ----------

  /** Counts one more retained set naming the peer as a primary. */
  incrementPrimary(): void {
    this.#primarySets += 1;
  }

  /**
   * Counts one retained primary membership less (its set was evicted).
   *
   * @throws Error if the count is already zero (a directory bookkeeping bug).
   */
  decrementPrimary(): void {
    if (this.#primarySets === 0) throw new Error('invariant: primary set count below zero');
    this.#primarySets -= 1;
  }

  /** Counts one more retained set naming the peer as a secondary. */
  incrementSecondary(): void {
    this.#secondarySets += 1;
  }

  /**
   * Counts one retained secondary membership less (its set was evicted).
   *
   * @throws Error if the count is already zero (a directory bookkeeping bug).
   */
  decrementSecondary(): void {
    if (this.#secondarySets === 0) throw new Error('invariant: secondary set count below zero');
    this.#secondarySets -= 1;
  }

  /**
   * Takes the peer's single reservation. `unavailable` for ourselves or when not inert;
   * `rateLimited` before `nextReservableAt`. On success `nextReservableAt = now + cooldownMs` and
   * `nextDialAt = nextReservableAt + U[0, 2 * floor(cooldownMs / 2)]`: the jitter breaks the
   * symmetry of two peers dialing each other at the same instant (each side's listener refuses
   * the other while reserved, so both attempts fail; jitter makes the retries diverge).
   */
  reserve(
    now: number,
    cooldownMs: number,
    rng: JitterRng,
    holder: Holder = 'dialer',
  ): ReserveResult {
    if (this.isMyself() || this.status !== 'inert') return 'unavailable';
    if (now < this.nextReservableAt) return 'rateLimited';
    const half = Math.floor(cooldownMs / 2);
    this.#conn ??= {
      status: 'inert',
      nextReservableAt: 0,
      nextDialAt: 0,
      holder: undefined,
      generation: 0,
      activeSince: undefined,
      since: undefined,
      priorReservableAt: 0,
      stale: false,
    };
    const c = this.#conn;
    c.status = 'reserved';
    c.since = now;
    c.holder = holder;
    c.generation += 1;
    c.priorReservableAt = c.nextReservableAt;
    c.nextReservableAt = now + cooldownMs;
    c.nextDialAt = c.nextReservableAt + rng.int(0, 2 * half + 1);
    c.stale = false;
    return 'reserved';
  }

  /**
   * Hands the slot to a new holder without waiting for the current one to release it: a pending
   * dial abandoned for an authenticated inbound session, or the losing side of a simultaneous
   * dial. The record becomes `reserved` by `holder` under a new generation (or under
   * `generation`, the one the new holder's own reservation was granted with); the superseded
   * reservation's release is then ignored (no cooldown, no failure counted), and its
   * connection, if any, must be killed by the caller.
   */
  takeOver(holder: Holder, generation?: number): void {
    if (this.isMyself() || this.status === 'inert') {
      throw new Error(`invariant: take over while ${this.status}`);
    }
    const c = this.#held();
    c.status = 'reserved';
    c.holder = holder;
    c.generation = generation ?? c.generation + 1;
    c.activeSince = undefined;
    // The new holder's connection is fresh.
    c.stale = false;
  }

  /**
   * Marks the current reservation or connection {@link stale} (nothing while inert): it cannot
   * become active, and {@link needsTeardown} reports it.
   */
  protected markStale(): void {
    const c = this.#conn;
    if (c !== undefined && c.status !== 'inert') c.stale = true;
  }

  /**
   * Marks the reserved peer connected. Returns `true`, or `false` (leaving it reserved) if the
   * reservation went {@link stale}: the caller must kill the connection, whose release then
   * resets the record.
   *
   * @throws Error if the record is not reserved (a tracker bookkeeping bug).
   */
  connect(now = 0): boolean {
    if (this.status !== 'reserved') throw new Error(`invariant: connect while ${this.status}`);
    const c = this.#held();
    if (c.stale) return false;
    c.status = 'active';
    c.activeSince = now;
    c.since = now;
    return true;
  }

  /**
   * Drops the reservation or connection (at `now`, ms, when the caller knows it).
   *
   * @throws Error if the record is already inert (a tracker bookkeeping bug).
   */
  release(now?: number): void {
    if (this.status === 'inert') throw new Error('invariant: release of an inert record');
    // An attempt that never connected imposes no cooldown: the next reservation (an inbound
    // session from a peer we could not reach, say) may be taken at once. Redials stay paced by
    // `nextDialAt`.
    const c = this.#held();
    if (c.status === 'reserved') c.nextReservableAt = c.priorReservableAt;
    c.status = 'inert';
    c.stale = false;
    c.since = now;
    c.holder = undefined;
    c.activeSince = undefined;
  }
}
