/**
 * The tracker's per-peer state machine for the discovery network.
 *
 * Mirrors commonware `p2p/src/authenticated/discovery/actors/tracker/record.rs`. The connection
 * state (status, set counts, reservation and dial timers) is the shared {@link RecordBase}; a
 * discovery record adds what we know of the peer's address: nothing yet (`unknown`), our own
 * signed `Info` (`myself`), a configured bootstrapper ingress (`bootstrapper`), or a peer's
 * signed `Info` learned by gossip with a count of failed dials to it (`discovered`).
 *
 * # Stale records of bootstrappers
 *
 * Any valid `Info` newer than the one held replaces it, and an `Info` of a bootstrapper replaces
 * its configured address. An attacker can replay an old but validly signed `Info` of a
 * bootstrapper (commonware's open issue on stale-record replay): newer than nothing, so it
 * displaces the configured address, and if the old address is dead or now someone else's, we
 * could never reach the bootstrapper again. So a bootstrapper's record keeps its configured
 * ingress as a fallback: once the learned ingress has failed `dialFailLimit` dials in a row,
 * the record dials the configured one instead, until a newer `Info` arrives (which the
 * bootstrapper's own greeting delivers as soon as that dial succeeds). The replay can cost a
 * few failed dials, never the bootstrapper.
 *
 * Pure: time (`now`, ms since the epoch) and randomness are parameters.
 *
 * @module
 */

import type { PublicKey } from '../../../../crypto/ed25519.js';
import { type Ingress, ingressEquals, isValidIngress } from '../../../address.js';
import { type DialStatus, RecordBase, type RecordBaseView } from '../../tracker/record.js';
import type { InfoLike } from './info.js';

export type { DialStatus, JitterRng, ReserveResult, Status } from '../../tracker/record.js';

/**
 * What a record knows of the peer's address. A bootstrapper's configured ingress stays with its
 * record once an `Info` is learned (`bootstrap`, the fallback; `undefined` for other peers).
 */
export type RecordAddress =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'myself'; readonly info: InfoLike }
  | { readonly kind: 'bootstrapper'; readonly ingress: Ingress }
  | {
      readonly kind: 'discovered';
      readonly info: InfoLike;
      readonly failures: number;
      readonly bootstrap: Ingress | undefined;
    };

const UNKNOWN: RecordAddress = Object.freeze({ kind: 'unknown' });
const UNAVAILABLE: DialStatus = Object.freeze({ kind: 'unavailable' });

/** Read-only view of a {@link Record}, for inspection outside the directory. */
export interface RecordView extends RecordBaseView {
  readonly address: RecordAddress;
  /** The configured ingress of a bootstrapper, kept as a fallback; `undefined` otherwise. */
  readonly bootstrap: Ingress | undefined;
  /** The signed `Info` we hold (ours, or a discovered peer's). */
  readonly info: InfoLike | undefined;
  ingress(dialFailLimit: number): Ingress | undefined;
  sharable(): InfoLike | undefined;
  want(dialFailLimit: number): boolean;
}

/** One peer's record. Mutated only by the directory that owns it. */
export class Record extends RecordBase implements RecordView {
  // ---------- State ----------
  // The only field of its own (a bootstrapper's configured ingress lives in it too): a
  // registration creates tens of thousands of records at once.
  #address: RecordAddress;

  private constructor(key: PublicKey, address: RecordAddress) {
    super(key);
    this.#address = address;
  }

  // ---------- Constructors ----------

  /** Peer `key`, named by a tracked set, of which we know nothing yet. */
  static unknown(key: PublicKey): Record {
    return new Record(key, UNKNOWN);
  }

  /** Configured bootstrapper `key`: persistent (dialable without set membership) at `ingress`. */
  static bootstrapper(key: PublicKey, ingress: Ingress): Record {
    return new Record(key, { kind: 'bootstrapper', ingress });
  }

  /**
   * The local node's record (its key is `info.publicKey`), holding our own signed `info`:
   * persistent, never eligible.
   */
  static myself(info: InfoLike): Record {
    return new Record(info.publicKey, { kind: 'myself', info });
  }

  // ---------- Getters ----------

  get address(): RecordAddress {
    return this.#address;
  }
  get bootstrap(): Ingress | undefined {
    const a = this.#address;
    if (a.kind === 'bootstrapper') return a.ingress;
    return a.kind === 'discovered' ? a.bootstrap : undefined;
  }
  get info(): InfoLike | undefined {
    const a = this.#address;
    return a.kind === 'myself' || a.kind === 'discovered' ? a.info : undefined;
  }

  isMyself(): boolean {
    return this.#address.kind === 'myself';
  }

  /** Ourselves and the configured bootstrappers (the only records with a configured ingress). */
  get persistent(): boolean {
    return this.#address.kind === 'myself' || this.bootstrap !== undefined;
  }

  /**
   * Where to dial: a bootstrapper's configured ingress; a discovered peer's ingress, or, for a
   * bootstrapper whose learned ingress failed `dialFailLimit` dials, the configured one (see the
   * module documentation). `undefined` when nothing is known, and for ourselves.
   */
  ingress(dialFailLimit: number): Ingress | undefined {
    const a = this.#address;
    if (a.kind === 'bootstrapper') return a.ingress;
    if (a.kind !== 'discovered') return undefined;
    if (a.bootstrap !== undefined && a.failures >= dialFailLimit) return a.bootstrap;
    return a.info.ingress;
  }

  /**
   * Whether the dialer may dial this peer at `now`: inert, a primary or a bootstrapper, with a
   * known ingress allowed by policy (global IP unless `allowPrivateIps`; DNS only if `allowDns`).
   */
  dialable(
    now: number,
    allowPrivateIps: boolean,
    allowDns: boolean,
    dialFailLimit: number,
  ): DialStatus {
    const ingress = this.ingress(dialFailLimit);
    if (ingress === undefined || !isValidIngress(ingress, allowPrivateIps, allowDns)) {
      return UNAVAILABLE;
    }
    return this.dialTiming(now);
  }

  /**
   * Whether an inbound connection from this peer may be considered: eligible. Whether the slot
   * is free (or may be taken over) is the directory's rule, shared by both flavours.
   */
  acceptable(): boolean {
    return this.eligible();
  }

  /**
   * The `Info` we may gossip about this peer: ours, or a discovered peer's while we are
   * connected to it (so we only vouch for addresses that currently work).
   */
  sharable(): InfoLike | undefined {
    const a = this.#address;
    if (a.kind === 'myself') return a.info;
    if (a.kind === 'discovered' && this.status === 'active') return a.info;
    return undefined;
  }

  /**
   * Whether we need fresh information about this peer (its knowledge bit is the negation):
   * never for ourselves; always while we know no `Info`; for a discovered peer, when it is not
   * connected and its ingress failed at least `dialFailLimit` dials.
   */
  want(dialFailLimit: number): boolean {
    const a = this.#address;
    if (a.kind === 'myself') return false;
    if (a.kind !== 'discovered') return true;
    return this.status !== 'active' && a.failures >= dialFailLimit;
  }

  // ---------- Setters ----------

  /**
   * Takes `info` if it is news: never for ourselves; always over an unknown or configured
   * address; over a discovered one only if strictly newer (which resets the failure count).
   * Returns whether the record changed.
   */
  update(info: InfoLike): boolean {
    const a = this.#address;
    if (a.kind === 'myself') return false;
    if (a.kind === 'discovered' && info.timestampMs <= a.info.timestampMs) return false;
    this.#address = { kind: 'discovered', info, failures: 0, bootstrap: this.bootstrap };
    return true;
  }

  /**
   * Counts a failed (or ended) dial to `ingress` if it is the discovered peer's ingress: a dial
   * to an address we no longer hold, or to a bootstrapper's fallback, says nothing about it.
   */
  dialFailure(ingress: Ingress): void {
    const a = this.#address;
    if (a.kind !== 'discovered' || !ingressEquals(a.info.ingress, ingress)) return;
    const failures = a.failures + 1;
    this.#address = { kind: 'discovered', info: a.info, failures, bootstrap: a.bootstrap };
  }

  /** A dial succeeded: the discovered ingress works. */
  dialSuccess(): void {
    const a = this.#address;
    if (a.kind === 'discovered' && a.failures > 0) {
      this.#address = { kind: 'discovered', info: a.info, failures: 0, bootstrap: a.bootstrap };
    }
  }
}
