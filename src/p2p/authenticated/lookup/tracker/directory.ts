/**
 * The lookup tracker's state: every peer's {@link Record}, the retained peer sets, and the block
 * list.
 *
 * Mirrors commonware `p2p/src/authenticated/lookup/actors/tracker/directory.rs`. What both
 * flavours share (sets, blocks, reservations, metrics) is {@link DirectoryBase}; this file adds
 * what lookup alone has: a registered address per peer (`track` with addresses, `overwrite`),
 * connections made stale by an address change, the source-IP check on inbound connections and
 * the listener's allow-list.
 *
 * @module
 */

import type { PublicKey } from '../../../../crypto/ed25519.js';
import { isGlobal } from '../../../net.js';
import {
  formatRegisteredIngress,
  type RegisteredAddress,
  registeredEgressIp,
  sameAddress,
} from '../../../registered-address.js';
import type { AddressableTrackedPeers, TrackedPeers } from '../../../types.js';
import { DirectoryBase } from '../../tracker/directory.js';
import { Metadata } from '../../tracker/metadata.js';
import type { StoredSet } from '../../tracker/peer-sets.js';
import { sortedUnique, trackedPeersSteps } from '../../tracker/peer-sets.js';
import type { DialStatus } from '../../tracker/record.js';
import type { Reservation } from '../../tracker/reservation.js';
import { CHUNK, runSteps, type Steps } from '../../tracker/steps.js';
import type {
  Activation,
  DialReservation,
  DirectoryConfig as DirectoryConfigBase,
  DirectoryDependencies,
  Inbound,
} from '../../tracker/types.js';
import { BareAddresses } from './bare-addresses.js';
import { Record, type RecordView } from './record.js';

// ---------- Configuration ----------

/** Configuration of a lookup {@link Directory}, taken from the lookup network `Config`. */
export interface DirectoryConfig extends DirectoryConfigBase {
  /** Whether inbound connections skip the egress-IP check. */
  readonly bypassIpCheck: boolean;
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

// ---------- Results ----------

/** Result of {@link Directory.overwrite}. */
export interface OverwriteResult {
  /** Peers whose address changed (the listener allow-list must be refreshed if non-empty). */
  readonly updated: PublicKey[];
  /** Peers whose reservation or connection used the old address and must be killed. */
  readonly kill: PublicKey[];
}

const self = (key: PublicKey): PublicKey => key;

/** The keys of a registration, as the {@link TrackedPeers} it will be stored as, in steps. */
function keysSteps(peers: AddressableTrackedPeers): Steps<TrackedPeers> {
  return trackedPeersSteps(peers.primary, peers.secondary, self);
}

/** The lookup tracker's records, peer sets and block list. */
export class Directory extends DirectoryBase<Record, AddressableTrackedPeers, StoredSet> {
  readonly #config: DirectoryConfig;
  /** The addresses of bare entries (a peer that is only a set member is its bare key). */
  readonly #bare: BareAddresses;

  /**
   * @param myself - our own key (gets a persistent, never-eligible record).
   * @param config - see {@link DirectoryConfig}.
   * @param deps - `rng` for dial jitter, `releaser` called when a {@link Reservation} is
   *   released, and optional `metrics` (default: a no-op set).
   * @throws P2PError `InvalidConfig` if `trackedPeerSets` or `maxPeersPerSet` is not positive.
   */
  constructor(myself: PublicKey, config: DirectoryConfig, deps: DirectoryDependencies) {
    const bare = new BareAddresses();
    // A bare entry is the key; its record, once asked for, a `known` one at its address.
    super(Record.myself(myself), config, deps, {
      keyOf: self,
      materialize: (key: PublicKey) => Record.known(key, bare.get(key)),
    });
    this.#config = config;
    this.#bare = bare;
  }

  // ---------- Peer sets ----------

  /**
   * Throws unless the registration fits `maxPeersPerSet`: the distinct keys across both roles,
   * plus one for ourselves if we are not among them.
   *
   * @throws P2PError `InvalidPeerSet`.
   */
  checkSize(peers: AddressableTrackedPeers): void {
    this.checkRoleSizes(peers.primary, peers.secondary, self);
  }

  /**
   * Lookup's registration: a new key gets a `known` record at its address; a tracked key whose
   * address changed is updated, and killed if the change stales a live reservation or connection
   * (as are peers that lost their last set while reserved or connected). A key in both roles
   * counts as primary only, with the primary address.
   */
  protected *trackSteps(index: number, peers: AddressableTrackedPeers): Steps<PublicKey[]> {
    const set = yield* keysSteps(peers);
    this.checkKeys(set);
    const kill: PublicKey[] = [];
    const addresses = peers.primaryAddresses;
    const n = yield* this.joinSteps(peers.primary, self, (key, i) =>
      this.#upsert(key, addresses[i]!, 'primary', kill),
    );
    // `set.secondary` lacks the secondaries that are also primaries; usually there are none.
    let secondary = peers.secondary;
    let secondaryAddresses = peers.secondaryAddresses;
    if (set.secondary.length !== secondary.length) {
      const kept = new Set(set.secondary.map((k) => k.toHex()));
      const at = secondary.flatMap((k, i) => (kept.has(k.toHex()) ? [i] : []));
      secondary = at.map((i) => peers.secondary[i]!);
      secondaryAddresses = at.map((i) => peers.secondaryAddresses[i]!);
    }
    const others = secondaryAddresses;
    yield* this.joinSteps(
      secondary,
      self,
      (key, i) => this.#upsert(key, others[i]!, 'secondary', kill),
      n,
    );
    return yield* this.commitSteps({ index, peers: set }, kill);
  }

  /**
   * Replaces the addresses of already-tracked peers without registering a new set (upstream
   * `overwrite`). Unknown keys, ourselves and unchanged addresses are ignored.
   */
  overwrite(addresses: Iterable<readonly [PublicKey, RegisteredAddress]>): OverwriteResult {
    const updated: PublicKey[] = [];
    const kill: PublicKey[] = [];
    for (const [key, address] of addresses) {
      const record = this.peers.get(key);
      if (record === undefined || !record.update(address)) continue;
      this.metrics.updates.inc({ peer: key.toHex() });
      updated.push(key);
      if (record.needsTeardown()) kill.push(key);
    }
    return { updated: sortedUnique(updated), kill: sortedUnique(kill) };
  }

  // ---------- Connections ----------

  protected dialStatus(record: Record, now: number): DialStatus {
    return record.dialable(now, this.#config.allowPrivateIps, this.#config.allowDns);
  }

  /**
   * Reserves `key` for an outbound dial: it must be a primary with an ingress, eligible and
   * reservable at `now`. Returns the reservation and the ingress to dial, or `undefined`.
   * Ingress policy (private IPs, DNS) is the caller's to apply via {@link dialable}.
   */
  dial(key: PublicKey, now: number): DialReservation | undefined {
    const record = this.peers.get(key);
    if (record === undefined || !record.isOutboundTarget()) return undefined;
    const ingress = record.ingress();
    if (ingress === undefined) return undefined;
    const reservation = this.reserve(Metadata.dialer(key), now);
    return reservation === undefined ? undefined : { reservation, ingress };
  }

  /**
   * Whether an inbound handshake from `key`, connecting from `sourceIp`, may proceed at `now`:
   * not blocked, eligible, from the registered egress IP (unless `bypassIpCheck`), and a slot it
   * may take (free, held by a pending dial, or a simultaneous session it would win).
   */
  acceptable(key: PublicKey, sourceIp: string, now: number): boolean {
    const record = this.peers.get(key);
    if (record === undefined) return false;
    if (!record.acceptable(sourceIp, this.#config.bypassIpCheck)) return false;
    return this.admitsInbound(key, record, now);
  }

  /**
   * Reserves `key` for an inbound connection from `sourceIp` once its handshake completed.
   * Re-checks {@link acceptable} (state may have changed during the handshake) and the cooldown;
   * `supersedes` says a live connection lost the slot and must be killed.
   */
  listen(key: PublicKey, sourceIp: string, now: number): Inbound | undefined {
    // The slot rules are `reserveInbound`'s; only the source-IP check is lookup's own.
    if (this.peers.get(key)?.acceptable(sourceIp, this.#config.bypassIpCheck) !== true) {
      return undefined;
    }
    return this.reserveInbound(key, now);
  }

  /**
   * Marks `key`'s reservation `generation` (held by the dialer if `dialer`; by whoever holds it
   * if omitted) connected at `now`.
   * `refused`: the connection must be killed instead (no record, superseded, no longer eligible,
   * or stale: its address changed after the reservation was taken); `superseded`: it took the
   * slot of the other direction's connection, which must be killed.
   */
  connect(key: PublicKey, now: number, dialer?: boolean, generation?: number): Activation {
    const direction = dialer === undefined ? undefined : dialer ? 'dialer' : 'listener';
    return this.activate(key, now, direction, generation);
  }

  /**
   * The source IPs inbound connections may come from: the egress IPs of eligible, unblocked
   * peers whose egress IP is global (or private IPs are allowed). Several peers may share an IP
   * (NAT); it is listed while any of them qualifies. `any` is set while at least one eligible,
   * unblocked peer has a `named` address (no known egress IP): the listener then lets every
   * source IP reach the handshake.
   */
  listenerAllowList(now: number): ListenerAllowList {
    return runSteps(this.listenerAllowListSteps(now));
  }

  /**
   * {@link listenerAllowList} split into steps (it visits every entry). A bare entry (a set
   * member without a record: eligible, not ourselves) is read as its key and address, without
   * making a record for it.
   */
  *listenerAllowListSteps(now: number): Steps<ListenerAllowList> {
    const ips = new Set<string>();
    let any = false;
    let n = 0;
    for (const entry of this.peers.entries()) {
      if (++n % CHUNK === 0) yield;
      let key: PublicKey;
      let address: RegisteredAddress | undefined;
      if (this.peers.isRecord(entry)) {
        if (!entry.eligible()) continue;
        key = entry.key;
        address = entry.registered;
      } else {
        key = entry;
        address = this.#bare.get(entry);
      }
      // Ourselves is never eligible, so `address` is a peer's.
      if (address === undefined || this.isBlocked(key, now)) continue;
      const ip = registeredEgressIp(address);
      if (ip === undefined) {
        // A peer without a known egress IP.
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
    return this.peers.get(key);
  }

  protected addressOf(record: Record): string | undefined {
    const address = record.registered;
    return address === undefined ? undefined : formatRegisteredIngress(address);
  }

  // ---------- Helpers ----------

  protected override forgotten(key: PublicKey): void {
    this.#bare.delete(key);
  }

  /**
   * Counts `key` as a member in `role`, at `address`: a new key gets a bare entry (the key, its
   * address kept aside), a bare one its new address if it changed, a record its update (killing
   * a stale connection).
   */
  #upsert(
    key: PublicKey,
    address: RegisteredAddress,
    role: 'primary' | 'secondary',
    kill: PublicKey[],
  ): void {
    const before = this.peers.peek(key);
    const record = this.join(key, role, key);
    if (record === undefined) {
      if (before === undefined) {
        this.#bare.set(key, address);
      } else if (!sameAddress(this.#bare.get(key), address)) {
        // A bare entry is inert: a new address changes nothing else.
        this.#bare.set(key, address);
        this.metrics.updates.inc({ peer: key.toHex() });
      }
      return;
    }
    if (record.update(address)) {
      this.metrics.updates.inc({ peer: key.toHex() });
      if (record.needsTeardown()) kill.push(key);
    }
    if (role === 'primary') record.incrementPrimary();
    else record.incrementSecondary();
  }
}
