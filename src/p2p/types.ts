/**
 * Types shared by every p2p flavour (commonware `p2p/src/lib.rs`): who a message goes to
 * ({@link Recipients}), which peers are tracked ({@link TrackedPeers}, and the lookup flavour's
 * {@link AddressableTrackedPeers} carrying an address per peer) and the notification a
 * subscriber receives when the tracked sets change ({@link PeerSetUpdate}).
 *
 * Peer-set indices are commonware `u64`s. They never travel on the wire in the lookup flavour,
 * are chosen by the application (typically an epoch counter) and are compared, not computed with,
 * so this port represents them as `number`: a non-negative safe integer (at most 2^53 - 1). The
 * discovery flavour, whose BitVec carries the index on the wire, checks the narrowing when it
 * decodes.
 *
 * @module
 */

import type { PublicKey } from '../crypto/ed25519.js';
import { type AddressInput, parseAddress } from './address.js';
import { P2PError } from './errors.js';
import type { RegisteredAddress } from './registered-address.js';

// ---------- Recipients ----------

/** The recipients of a message: every connected peer, one peer, or a list of peers. */
export type Recipients =
  | { readonly kind: 'all' }
  | { readonly kind: 'one'; readonly publicKey: PublicKey }
  | { readonly kind: 'some'; readonly publicKeys: readonly PublicKey[] };

const ALL: Recipients = Object.freeze({ kind: 'all' });

/** Constructors for {@link Recipients}. */
export const Recipients = {
  /** Every connected peer. */
  all(): Recipients {
    return ALL;
  },
  /** Exactly `publicKey`. */
  one(publicKey: PublicKey): Recipients {
    return Object.freeze({ kind: 'one', publicKey });
  },
  /** Each of `publicKeys` (copied; duplicates are kept and deduplicated by the router). */
  some(publicKeys: readonly PublicKey[]): Recipients {
    return Object.freeze({ kind: 'some', publicKeys: Object.freeze([...publicKeys]) });
  },
} as const;

// ---------- Peer-set indices ----------

/**
 * Checks that `index` is a valid peer-set index: a non-negative safe integer.
 *
 * @throws P2PError `InvalidPeerSet` otherwise.
 */
export function checkPeerSetIndex(index: number): number {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new P2PError(
      'InvalidPeerSet',
      `peer set index must be a non-negative safe integer, got ${index}`,
    );
  }
  return index;
}

// ---------- Tracked peers ----------

/** Sorts keys by byte order and drops duplicates. */
function sortedSet(keys: Iterable<PublicKey>): PublicKey[] {
  const out = [...keys].sort((a, b) => a.compare(b));
  return out.filter((k, i) => i === 0 || !k.equals(out[i - 1]!));
}

/**
 * The peers tracked at one index (or across all retained indices). Both lists are sorted by key
 * byte order and deduplicated; a key in both roles is listed as primary only.
 *
 * Primaries are dialed and accepted; secondaries are only accepted inbound (they receive
 * `Recipients.all()` traffic once connected but are never dialed).
 */
export interface TrackedPeers {
  readonly primary: readonly PublicKey[];
  readonly secondary: readonly PublicKey[];
}

/** Constructors and helpers for {@link TrackedPeers}. */
export const TrackedPeers = {
  /** Normalises `primary` and `secondary` (sort, deduplicate, drop secondaries that are primary). */
  from(primary: Iterable<PublicKey>, secondary: Iterable<PublicKey> = []): TrackedPeers {
    const p = sortedSet(primary);
    const hex = new Set(p.map((k) => k.toHex()));
    const s = sortedSet(secondary).filter((k) => !hex.has(k.toHex()));
    return Object.freeze({ primary: Object.freeze(p), secondary: Object.freeze(s) });
  },
  /** No peers. */
  empty(): TrackedPeers {
    return TrackedPeers.from([]);
  },
  /** Every key in either role, sorted and deduplicated. */
  union(peers: TrackedPeers): PublicKey[] {
    return sortedSet([...peers.primary, ...peers.secondary]);
  },
} as const;

/** A change of the tracked sets, as delivered to subscribers. */
export interface PeerSetUpdate {
  /** The newest (highest) tracked index. */
  readonly index: number;
  /** The peers tracked at `index`. */
  readonly latest: TrackedPeers;
  /** The peers across every retained index (primary if primary in any retained set). */
  readonly all: TrackedPeers;
}

// ---------- Addressable tracked peers (lookup) ----------

/**
 * A peer and its address, as registered with the lookup network: the address validated, as
 * canonical text or parsed (see `RegisteredAddress`).
 */
export type PeerAddress = readonly [publicKey: PublicKey, address: RegisteredAddress];

/**
 * The lookup flavour's registration, by columns: the keys of each role, and at the same
 * positions their addresses (no object per peer: a 65,536-peer registration is two arrays per
 * role, so nothing per peer is left for the young generation to copy). A key appears at most
 * once per role; the keys may come in any order (the tracker sorts them, in steps). A key in
 * both roles counts as primary only, with the primary address.
 */
export interface AddressableTrackedPeers {
  readonly primary: readonly PublicKey[];
  /** `primaryAddresses[i]` is `primary[i]`'s address. */
  readonly primaryAddresses: readonly RegisteredAddress[];
  readonly secondary: readonly PublicKey[];
  /** `secondaryAddresses[i]` is `secondary[i]`'s address. */
  readonly secondaryAddresses: readonly RegisteredAddress[];
}

/** What callers may pass where `AddressableTrackedPeers` is expected. */
export type AddressableInput =
  | Iterable<readonly [PublicKey, AddressInput]>
  | {
      readonly primary: Iterable<readonly [PublicKey, AddressInput]>;
      readonly secondary?: Iterable<readonly [PublicKey, AddressInput]>;
    };

function sortedEntries(
  entries: Iterable<readonly [PublicKey, AddressInput]>,
  role: string,
): PeerAddress[] {
  const out: PeerAddress[] = [];
  for (const [pk, addr] of entries) out.push([pk, parseAddress(addr)]);
  out.sort((a, b) => a[0].compare(b[0]));
  for (let i = 1; i < out.length; i++) {
    if (out[i]![0].equals(out[i - 1]![0])) {
      throw new P2PError('InvalidPeerSet', `duplicate ${role} peer ${out[i]![0].toHex()}`);
    }
  }
  return out;
}

/** Constructors for {@link AddressableTrackedPeers}. */
export const AddressableTrackedPeers = {
  /**
   * Normalises a registration: a bare list is primary-only; addresses are parsed with
   * {@link parseAddress}; lists are sorted by key; secondaries that are also primaries are dropped.
   *
   * @throws P2PError `InvalidPeerSet` if a key repeats within one list, `InvalidAddress` if an
   *   address does not parse.
   */
  from(input: AddressableInput): AddressableTrackedPeers {
    const isSplit = typeof input === 'object' && input !== null && 'primary' in input;
    const primaryIn = isSplit
      ? input.primary
      : (input as Iterable<readonly [PublicKey, AddressInput]>);
    const secondaryIn = isSplit ? (input.secondary ?? []) : [];
    const primary = sortedEntries(primaryIn, 'primary');
    const hex = new Set(primary.map(([k]) => k.toHex()));
    const secondary = sortedEntries(secondaryIn, 'secondary').filter(([k]) => !hex.has(k.toHex()));
    const keys = (entries: PeerAddress[]) => Object.freeze(entries.map(([k]) => k));
    const addresses = (entries: PeerAddress[]) => Object.freeze(entries.map(([, a]) => a));
    return Object.freeze({
      primary: keys(primary),
      primaryAddresses: addresses(primary),
      secondary: keys(secondary),
      secondaryAddresses: addresses(secondary),
    });
  },
} as const;
