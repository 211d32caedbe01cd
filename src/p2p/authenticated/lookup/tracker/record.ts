/**
 * The tracker's per-peer state machine for the lookup network.
 *
 * Mirrors commonware `p2p/src/authenticated/lookup/actors/tracker/record.rs`. A record holds what
 * we know of one peer's address (`Myself` or a registered {@link Address}), its connection status
 * (`inert` -> `reserved` -> `active` -> `inert`), how many retained primary and secondary peer sets
 * name it, and the timers that throttle reservations (`nextReservableAt`) and dials (`nextDialAt`).
 *
 * Pure: time (`now`, ms since the epoch) and randomness are parameters.
 *
 * @module
 */

import type { Rng } from '../../../../runtime/context.js';
import {
  type Address,
  addressEquals,
  egressIp,
  type Ingress,
  ingressOf,
  isValidIngress,
} from '../../../address.js';
import { sameIp } from '../../../net.js';

/** What a record knows of the peer's address. */
export type RecordAddress =
  | { readonly kind: 'myself' }
  | { readonly kind: 'known'; readonly address: Address };

/**
 * Connection status. `inert`: no connection and no attempt. `reserved`: a dialer or listener
 * holds the single reservation and is handshaking. `active`: connected. Every non-inert status
 * returns to `inert` on release.
 */
export type Status = 'inert' | 'reserved' | 'active';

/** Outcome of {@link Record.reserve}. */
export type ReserveResult = 'reserved' | 'rateLimited' | 'unavailable';

/** Outcome of {@link Record.dialable}: dial now, not before `at` (ms), or not at all. */
export type DialStatus =
  | { readonly kind: 'now' }
  | { readonly kind: 'after'; readonly at: number }
  | { readonly kind: 'unavailable' };

/** The randomness a record needs: a uniform integer in `[min, max)` for dial jitter. */
export type JitterRng = Pick<Rng, 'int'>;

/** Read-only view of a {@link Record}, for inspection outside the directory. */
export interface RecordView {
  readonly address: RecordAddress;
  readonly status: Status;
  readonly primarySets: number;
  readonly secondarySets: number;
  readonly persistent: boolean;
  readonly nextReservableAt: number;
  readonly nextDialAt: number;
  readonly stale: boolean;
  ingress(): Ingress | undefined;
  egressIp(): string | undefined;
  eligible(): boolean;
  isOutboundTarget(): boolean;
  deletable(): boolean;
  needsTeardown(): boolean;
  isBlockable(): boolean;
}

/** One peer's record. Mutated only by the directory that owns it. */
export class Record implements RecordView {
  // ---------- State ----------
  #address: RecordAddress;
  #status: Status = 'inert';
  #primarySets = 0;
  #secondarySets = 0;
  readonly #persistent: boolean;
  // Both start at the epoch: a new record may be reserved and dialed at once.
  #nextReservableAt = 0;
  #nextDialAt = 0;
  // Set when the address changes under a reservation or connection: that connection was made
  // to (or accepted from) the old address and must not become or stay active.
  #stale = false;

  private constructor(address: RecordAddress, persistent: boolean) {
    this.#address = address;
    this.#persistent = persistent;
  }

  // ---------- Constructors ----------

  /** A record for a registered peer at `address`. */
  static known(address: Address): Record {
    return new Record({ kind: 'known', address }, false);
  }

  /** The local node's record: persistent, never eligible, never blockable. */
  static myself(): Record {
    return new Record({ kind: 'myself' }, true);
  }

  // ---------- Getters ----------

  get address(): RecordAddress {
    return this.#address;
  }
  get status(): Status {
    return this.#status;
  }
  get primarySets(): number {
    return this.#primarySets;
  }
  get secondarySets(): number {
    return this.#secondarySets;
  }
  get persistent(): boolean {
    return this.#persistent;
  }
  /** Earliest time (ms) a new reservation (inbound or outbound) is allowed. */
  get nextReservableAt(): number {
    return this.#nextReservableAt;
  }
  /** Earliest time (ms) the dialer should dial this peer again (cooldown plus jitter). */
  get nextDialAt(): number {
    return this.#nextDialAt;
  }
  /** Whether the current reservation or connection predates an address change. */
  get stale(): boolean {
    return this.#stale;
  }

  /** The ingress to dial, or `undefined` for ourselves. */
  ingress(): Ingress | undefined {
    return this.#address.kind === 'known' ? ingressOf(this.#address.address) : undefined;
  }

  /**
   * The IP inbound connections must come from, or `undefined` for ourselves and for a `named`
   * address (no known egress IP: accepted from any source IP).
   */
  egressIp(): string | undefined {
    return this.#address.kind === 'known' ? egressIp(this.#address.address) : undefined;
  }

  /** Only our own record cannot be blocked (the directory keeps the block list itself). */
  isBlockable(): boolean {
    return this.#address.kind !== 'myself';
  }

  /** Not ourselves, and in a retained primary or secondary set (or persistent). */
  eligible(): boolean {
    if (this.#address.kind === 'myself') return false;
    return this.#primarySets > 0 || this.#secondarySets > 0 || this.#persistent;
  }

  /** Whether we dial this peer: primaries only (secondaries are accepted inbound, never dialed). */
  isOutboundTarget(): boolean {
    return this.#primarySets > 0;
  }

  /**
   * Whether the dialer may dial this peer at `now`: inert, a primary, not ourselves, with an
   * ingress allowed by policy (global IP unless `allowPrivateIps`; DNS only if `allowDns`).
   */
  dialable(now: number, allowPrivateIps: boolean, allowDns: boolean): DialStatus {
    if (this.#status !== 'inert' || !this.isOutboundTarget()) return { kind: 'unavailable' };
    if (this.#address.kind === 'myself') return { kind: 'unavailable' };
    if (!isValidIngress(ingressOf(this.#address.address), allowPrivateIps, allowDns)) {
      return { kind: 'unavailable' };
    }
    return this.#nextDialAt > now ? { kind: 'after', at: this.#nextDialAt } : { kind: 'now' };
  }

  /**
   * Whether an inbound connection from this peer, arriving from `sourceIp`, may proceed: eligible,
   * inert (one connection per peer), and `sourceIp` equal to the registered egress IP unless
   * `bypassIpCheck`. A `named` address has no known egress IP, so any `sourceIp` is acceptable
   * (the handshake still authenticates the peer's key).
   */
  acceptable(sourceIp: string, bypassIpCheck: boolean): boolean {
    if (!this.eligible() || this.#status !== 'inert') return false;
    if (bypassIpCheck) return true;
    if (this.#address.kind === 'myself') return false;
    const expected = egressIp(this.#address.address);
    return expected === undefined || sameIp(expected, sourceIp);
  }

  /** No set membership, not persistent, and inert: nothing would be lost by deleting it. */
  deletable(): boolean {
    return (
      this.#primarySets === 0 &&
      this.#secondarySets === 0 &&
      !this.#persistent &&
      this.#status === 'inert'
    );
  }

  /** Holds a reservation or connection that must be torn down (stale, or no longer eligible). */
  needsTeardown(): boolean {
    return this.#status !== 'inert' && (this.#stale || !this.eligible());
  }

  // ---------- Setters ----------

  /**
   * Replaces the registered address. Returns `true` if it changed (never for ourselves). A change
   * under a live reservation or connection marks it stale, so it cannot become active and is
   * reported by {@link needsTeardown}.
   */
  update(address: Address): boolean {
    if (this.#address.kind === 'myself') return false;
    if (addressEquals(this.#address.address, address)) return false;
    this.#address = { kind: 'known', address };
    if (this.#status !== 'inert') this.#stale = true;
    return true;
  }

  incrementPrimary(): void {
    this.#primarySets += 1;
  }

  /** @throws Error if the count is already zero (a directory bookkeeping bug). */
  decrementPrimary(): void {
    if (this.#primarySets === 0) throw new Error('invariant: primary set count below zero');
    this.#primarySets -= 1;
  }

  incrementSecondary(): void {
    this.#secondarySets += 1;
  }

  /** @throws Error if the count is already zero (a directory bookkeeping bug). */
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
  reserve(now: number, cooldownMs: number, rng: JitterRng): ReserveResult {
    if (this.#address.kind === 'myself' || this.#status !== 'inert') return 'unavailable';
    if (now < this.#nextReservableAt) return 'rateLimited';
    const half = Math.floor(cooldownMs / 2);
    this.#status = 'reserved';
    this.#stale = false;
    this.#nextReservableAt = now + cooldownMs;
    this.#nextDialAt = this.#nextReservableAt + rng.int(0, 2 * half + 1);
    return 'reserved';
  }

  /**
   * Marks the reserved peer connected. Returns `false` (leaving it reserved) if the reservation
   * went stale: the caller must kill the connection, whose release then resets the record.
   *
   * @throws Error if the record is not reserved (a tracker bookkeeping bug).
   */
  connect(): boolean {
    if (this.#status !== 'reserved') throw new Error(`invariant: connect while ${this.#status}`);
    if (this.#stale) return false;
    this.#status = 'active';
    return true;
  }

  /**
   * Drops the reservation or connection.
   *
   * @throws Error if the record is already inert (a tracker bookkeeping bug).
   */
  release(): void {
    if (this.#status === 'inert') throw new Error('invariant: release of an inert record');
    this.#status = 'inert';
    this.#stale = false;
  }
}
