/**
 * The tracker's per-peer state machine for the lookup network.
 *
 * Mirrors commonware `p2p/src/authenticated/lookup/actors/tracker/record.rs`. The connection
 * state (status, set counts, reservation and dial timers) is the shared {@link RecordBase}; a
 * lookup record adds what we know of the peer's address (`Myself` or a
 * {@link RegisteredAddress}: the registered text, parsed when used, or an {@link Address}) and
 * whether the live reservation or connection predates an address change.
 *
 * Pure: time (`now`, ms since the epoch) and randomness are parameters.
 *
 * @module
 */

import type { PublicKey } from '../../../../crypto/ed25519.js';
import type { Address, Ingress } from '../../../address.js';
import { sameIp } from '../../../net.js';
import {
  isRegisteredDialable,
  type RegisteredAddress,
  registeredEgressIp,
  registeredIngress,
  sameAddress,
  toAddress,
} from '../../../registered-address.js';
import { type DialStatus, RecordBase, type RecordBaseView } from '../../tracker/record.js';

export type { DialStatus, JitterRng, ReserveResult, Status } from '../../tracker/record.js';

/** What a record knows of the peer's address. */
export type RecordAddress =
  | { readonly kind: 'myself' }
  | { readonly kind: 'known'; readonly address: Address };

const UNAVAILABLE: DialStatus = Object.freeze({ kind: 'unavailable' });
const MYSELF: RecordAddress = Object.freeze({ kind: 'myself' });

/** Read-only view of a {@link Record}, for inspection outside the directory. */
export interface RecordView extends RecordBaseView {
  readonly address: RecordAddress;
  /** The address as registered (text or parsed); `undefined` for ourselves. */
  readonly registered: RegisteredAddress | undefined;
  readonly stale: boolean;
  ingress(): Ingress | undefined;
  egressIp(): string | undefined;
}

/** One peer's record. Mutated only by the directory that owns it. */
export class Record extends RecordBase implements RecordView {
  // ---------- State ----------
  // The registered address; `undefined` for ourselves (no `RecordAddress` wrapper per record).
  #address: RegisteredAddress | undefined;
  // The dial target of a text address, parsed on first use (a record is dialed repeatedly).
  #ingress: Ingress | undefined;

  private constructor(key: PublicKey, address: RegisteredAddress | undefined) {
    super(key);
    this.#address = address;
  }

  // ---------- Constructors ----------

  /** A record for registered peer `key` at `address`. */
  static known(key: PublicKey, address: RegisteredAddress): Record {
    return new Record(key, address);
  }

  /** The local node's record (our `key`): persistent, never eligible, never blockable. */
  static myself(key: PublicKey): Record {
    return new Record(key, undefined);
  }

  // ---------- Getters ----------

  /** What we know of the address, parsed (a text address is parsed on every call). */
  get address(): RecordAddress {
    const address = this.#address;
    return address === undefined ? MYSELF : { kind: 'known', address: toAddress(address) };
  }

  get registered(): RegisteredAddress | undefined {
    return this.#address;
  }

  isMyself(): boolean {
    return this.#address === undefined;
  }

  /** Only ourselves: a lookup peer is kept by its sets. */
  get persistent(): boolean {
    return this.#address === undefined;
  }

  /** The ingress to dial, or `undefined` for ourselves. */
  ingress(): Ingress | undefined {
    if (this.#address === undefined) return undefined;
    this.#ingress ??= registeredIngress(this.#address);
    return this.#ingress;
  }

  /**
   * The IP inbound connections must come from, or `undefined` for ourselves and for a `named`
   * address (no known egress IP: accepted from any source IP).
   */
  egressIp(): string | undefined {
    return this.#address === undefined ? undefined : registeredEgressIp(this.#address);
  }

  /** Primaries only: a lookup record is persistent only when it is ourselves. */
  override isOutboundTarget(): boolean {
    return this.primarySets > 0;
  }

  /**
   * Whether the dialer may dial this peer at `now`: inert, a primary, not ourselves, with an
   * ingress allowed by policy (global IP unless `allowPrivateIps`; DNS only if `allowDns`).
   */
  dialable(now: number, allowPrivateIps: boolean, allowDns: boolean): DialStatus {
    const address = this.#address;
    if (address === undefined || !isRegisteredDialable(address, allowPrivateIps, allowDns)) {
      return UNAVAILABLE;
    }
    return this.dialTiming(now);
  }

  /**
   * Whether an inbound connection from this peer, arriving from `sourceIp`, may be considered:
   * eligible, and `sourceIp` equal to the registered egress IP unless
   * `bypassIpCheck`. A `named` address has no known egress IP, so any `sourceIp` is acceptable
   * (the handshake still authenticates the peer's key).
   */
  acceptable(sourceIp: string, bypassIpCheck: boolean): boolean {
    if (!this.eligible()) return false;
    if (bypassIpCheck) return true;
    if (this.#address === undefined) return false;
    const expected = registeredEgressIp(this.#address);
    return expected === undefined || sameIp(expected, sourceIp);
  }

  // ---------- Setters ----------

  /**
   * Replaces the registered address. Returns `true` if it changed (never for ourselves; another
   * text or form of the same address is no change, see `sameAddress`). A change under a live
   * reservation or connection marks it stale, so it cannot become active and is reported by
   * {@link needsTeardown}.
   */
  update(address: RegisteredAddress): boolean {
    if (this.#address === undefined) return false;
    if (sameAddress(this.#address, address)) return false;
    this.#address = address;
    this.#ingress = undefined;
    this.markStale();
    return true;
  }
}
