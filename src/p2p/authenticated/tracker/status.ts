/**
 * Status snapshots of a tracker (for operators: the admin endpoint's `/status`, `network.status()`):
 * the retained peer sets and one page of peers with their connection state, answered by the
 * tracker in turn with its other messages.
 *
 * @module
 */

import type { BitMap } from '../../../codec/bitmap.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import type { BlockList } from './blocks.js';
import type { RecordBase } from './record.js';
import { CHUNK, type Steps } from './steps.js';

/**
 * A peer's connection state: `connected` (active), `dialing` (our dial holds its reservation),
 * `reserved` (an inbound session holds it, handshaking), `disconnected` (no connection, no
 * attempt) or `blocked` (refused until `blockedUntil`).
 */
export type PeerState = 'connected' | 'dialing' | 'reserved' | 'disconnected' | 'blocked';

/** One peer as the tracker sees it. */
export interface PeerStatus {
  readonly key: PublicKey;
  /** Where we dial it (lookup: its registered address; discovery: its learned or configured ingress), if known. */
  readonly address: string | undefined;
  readonly state: PeerState;
  /** Since when it is in `state` (ms since the epoch), if known. */
  readonly since: number | undefined;
  /** When its block expires (ms since the epoch), while blocked. */
  readonly blockedUntil: number | undefined;
}

/** One retained peer set. */
export interface SetStatus {
  readonly index: number;
  readonly primary: readonly PublicKey[];
  readonly secondary: readonly PublicKey[];
  /** Discovery: our knowledge bit for each primary (set: we hold a usable signed record). */
  readonly known?: BitMap;
}

/** A tracker's answer to a status request. */
export interface TrackerStatus {
  /** The retained sets, ascending by index. */
  readonly sets: readonly SetStatus[];
  /** The page of peers asked for. */
  readonly peers: readonly PeerStatus[];
  /** Every peer the directory knows (records other than ours, plus blocked keys without one). */
  readonly total: number;
  /** Where the page starts. */
  readonly offset: number;
}

/** What {@link statusSteps} reads of a directory. */
export interface StatusInput<R extends RecordBase> {
  readonly sets: readonly SetStatus[];
  /** Every record, ourselves included (skipped), in the directory's order. */
  readonly records: {
    values(): Iterable<R>;
    has(key: PublicKey): boolean;
    readonly size: number;
  };
  readonly blocks: BlockList;
  readonly blockDurationMs: number;
  readonly addressOf: (record: R) => string | undefined;
}

/** A record's state: a block wins, then the reservation's holder decides dialing or reserved. */
export function peerState(record: RecordBase, blocked: boolean): PeerState {
  if (blocked) return 'blocked';
  if (record.status === 'active') return 'connected';
  if (record.status === 'reserved') return record.holder === 'dialer' ? 'dialing' : 'reserved';
  return 'disconnected';
}

/**
 * The status page `[offset, offset + limit)` at `now`: records in map order (ourselves skipped),
 * then blocked keys without a record. Skipping to `offset` visits that many records, a step per
 * {@link CHUNK}; the blocked keys without a record are counted in one pass over the block list.
 */
export function* statusSteps<R extends RecordBase>(
  input: StatusInput<R>,
  offset: number,
  limit: number,
  now: number,
): Steps<TrackerStatus> {
  const { records, blocks } = input;
  const peers: PeerStatus[] = [];
  let i = 0;
  for (const record of records.values()) {
    if (record.isMyself()) continue;
    const key = record.key;
    if (peers.length >= limit) break;
    if (i >= offset) {
      const blockedUntil = blocks.blockedUntil(key, now);
      peers.push({
        key,
        address: input.addressOf(record),
        state: peerState(record, blockedUntil !== undefined),
        since: blockedUntil === undefined ? record.since : blockedUntil - input.blockDurationMs,
        blockedUntil,
      });
    }
    if (++i % CHUNK === 0) yield;
  }
  let total = records.size - 1;
  for (const [key, blockedUntil] of blocks.entries(now)) {
    if (records.has(key)) continue;
    if (total >= offset && peers.length < limit) {
      const since = undefined;
      peers.push({ key, address: undefined, state: 'blocked', since, blockedUntil });
    }
    total++;
  }
  return { sets: input.sets, peers, total, offset };
}
