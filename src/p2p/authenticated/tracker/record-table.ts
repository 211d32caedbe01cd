/**
 * The directory's records, keyed by public key, where a peer that is only a set member holds no
 * record object of its own.
 *
 * A registration of tens of thousands of peers used to create one record per peer in one
 * burst. Each survived the young generation's next collection (a scavenge copies every live
 * young object, twice before promotion), so the scavenge that followed a 65,536-peer
 * registration copied ~4.7 MB and paused the process for 7-10 ms (BENCHMARKS.md). Most of those
 * peers never get more state than their membership: nothing reserved, dialed or learned. So an
 * entry is either a record or a *bare* value the flavour already holds (the key itself; lookup
 * keeps a bare entry's address aside, in `lookup/tracker/bare-addresses.ts`), with its set
 * counts implied (one primary) or, when they differ, kept as a small integer in a side map:
 * neither allocates an object per peer. A bare entry is inert, not persistent and not ourselves.
 *
 * {@link RecordTable.get} turns a bare entry into a record (stored in its place, same position)
 * the first time anyone asks for it, so every caller that may change a record keeps working
 * unchanged; the bulk paths (a registration's members, an eviction, the scans of
 * {@link RecordTable.values}) use the bare-aware methods instead and allocate nothing that
 * lives.
 *
 * The entries are split into {@link SHARDS} hash tables by the key's first hex digit. A single
 * `Map` of 65,536 entries rehashes all of them at once when it grows past its capacity (and
 * again when it shrinks below a quarter of it), 6-11 ms in one insertion: the longest event-loop
 * turn of a large registration however finely the rest of it is chunked (BENCHMARKS.md). A shard
 * holds a sixteenth of the entries, so its rehash costs a sixteenth; keys are ed25519 public
 * keys, uniform in their first digit, and only registered keys get an entry. The table's order
 * is shard by shard (`0` to `f`), first inserted first within a shard; nothing depends on it
 * beyond being stable (the dialer sorts what it finds, a status page walks it).
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import { mayGrowAfter } from '../../peer-map.js';
import { RecordBase } from './record.js';

/** A membership role in a retained set. */
export type Role = 'primary' | 'secondary';

/** How a flavour's bare values relate to its records. */
export interface BareCodec<R extends RecordBase, B> {
  /** The key a bare value is stored under. */
  keyOf(bare: B): PublicKey;
  /** A new record for `bare` with no set membership (the table adds the counts). */
  materialize(bare: B): R;
}

/** Number of hash tables the entries are split into, by the first hex digit of their key. */
export const SHARDS = 16;

/** The shard of the hex key `hex`: its first digit's value (`0-9`, `a-f`). */
export const shardOf = (hex: string): number => {
  const c = hex.charCodeAt(0);
  return (c & 15) + (c >> 6) * 9;
};

// A bare entry's counts, when not the implied single primary: primary + secondary * 2^16.
const SECONDARY = 0x1_0000;
const ONE_PRIMARY = 1;

const encode = (primary: number, secondary: number): number => primary + secondary * SECONDARY;

/**
 * Records (`R`) and bare entries (`B`) under their keys' hex form, in {@link SHARDS} hash tables
 * (see the module's doc for the order; an entry turned into a record keeps its position).
 */
export class RecordTable<R extends RecordBase, B extends object> {
  readonly #entries: Map<string, R | B>[] = Array.from({ length: SHARDS }, () => new Map());
  /** The counts of bare entries that are not exactly one primary (usually none), by shard. */
  readonly #counts: Map<string, number>[] = Array.from({ length: SHARDS }, () => new Map());
  readonly #codec: BareCodec<R, B>;
  #size = 0;

  constructor(codec: BareCodec<R, B>) {
    this.#codec = codec;
  }

  /** Number of entries (records and bare ones). */
  get size(): number {
    return this.#size;
  }

  /** Whether `key` has an entry. */
  has(key: PublicKey): boolean {
    const hex = key.toHex();
    return this.#shard(hex).has(hex);
  }

  /**
   * `key`'s record, made from its bare entry (and stored in its place) if it has none yet;
   * `undefined` if `key` has no entry.
   */
  get(key: PublicKey): R | undefined {
    const hex = key.toHex();
    const shard = this.#shard(hex);
    const entry = shard.get(hex);
    if (entry === undefined || entry instanceof RecordBase) return entry;
    const record = this.#view(hex, entry);
    this.#countsOf(hex).delete(hex);
    shard.set(hex, record);
    return record;
  }

  /** `key`'s entry as stored: its record, its bare value, or `undefined`. */
  peek(key: PublicKey): R | B | undefined {
    const hex = key.toHex();
    return this.#shard(hex).get(hex);
  }

  /** Whether `entry` (from {@link peek}) is a record rather than a bare value. */
  isRecord(entry: R | B): entry is R {
    return entry instanceof RecordBase;
  }

  /** Stores `record` under its key (in the place of any entry for it). */
  set(record: R): this {
    const hex = record.key.toHex();
    this.#countsOf(hex).delete(hex);
    this.#put(hex, record);
    return this;
  }

  /** Adds a bare entry for a key without one, a member of one set in `role`. */
  addBare(bare: B, role: Role): void {
    const hex = this.#codec.keyOf(bare).toHex();
    this.#put(hex, bare);
    if (role === 'secondary') this.#countsOf(hex).set(hex, encode(0, 1));
  }

  /**
   * Replaces the bare value of `key`'s bare entry (lookup: a new address), keeping its counts
   * and position.
   */
  replaceBare(bare: B): void {
    this.#put(this.#codec.keyOf(bare).toHex(), bare);
  }

  /**
   * Counts one membership more (`delta` 1) or less (-1) in `role` for the bare entry of `key`
   * (the caller checked it is bare). At no membership left the entry is deleted; returns
   * whether it was.
   *
   * @throws Error if a count would go below zero (a directory bookkeeping bug).
   */
  countBare(key: PublicKey, role: Role, delta: 1 | -1): boolean {
    const hex = key.toHex();
    const counts = this.#countsOf(hex);
    const c = counts.get(hex) ?? ONE_PRIMARY;
    let primary = c % SECONDARY;
    let secondary = (c - primary) / SECONDARY;
    if (role === 'primary') primary += delta;
    else secondary += delta;
    if (primary < 0 || secondary < 0) throw new Error(`invariant: ${role} set count below zero`);
    if (primary === 0 && secondary === 0) {
      counts.delete(hex);
      this.#remove(hex);
      return true;
    }
    const next = encode(primary, secondary);
    if (next === ONE_PRIMARY) counts.delete(hex);
    else counts.set(hex, next);
    return false;
  }

  /** Removes `key`'s entry; returns whether it was present. */
  delete(key: PublicKey): boolean {
    const hex = key.toHex();
    this.#countsOf(hex).delete(hex);
    return this.#remove(hex);
  }

  /**
   * Whether a new entry for `key` may make its shard's hash table grow (see
   * {@link mayGrowAfter}), a rehash of every entry in that shard in one step.
   */
  mayGrowFor(key: PublicKey): boolean {
    return mayGrowAfter(this.#shard(key.toHex()).size);
  }

  /**
   * Every entry as a record, in the table's order, for reading only: a bare entry is shown as a
   * new record that is not stored (garbage once dropped; nothing survives a scan).
   */
  *values(): IterableIterator<R> {
    for (const shard of this.#entries) {
      // Two aligned iterators: no `[key, value]` pair allocated per entry.
      const hexes = shard.keys();
      for (const entry of shard.values()) {
        const hex = hexes.next().value as string;
        yield entry instanceof RecordBase ? entry : this.#view(hex, entry);
      }
    }
  }

  /**
   * Every entry as stored, in the table's order: a record, or a bare value (nothing made for
   * it), for scans that read a bare entry directly (lookup's allow-list: a bare entry is a
   * member, so eligible, and its address is kept aside). Read only.
   */
  *entries(): IterableIterator<R | B> {
    for (const shard of this.#entries) yield* shard.values();
  }

  /**
   * {@link values} for a scan that has no use for some bare entries: each entry in the table's
   * order as a record (a view for a bare one, as there), or `undefined` for a bare entry `skip`
   * refuses, which costs no record. Yields once per entry, so that a chunked caller counts the
   * skipped ones too.
   */
  *scan(skip: (bare: B) => boolean): IterableIterator<R | undefined> {
    const codec = this.#codec;
    for (const shard of this.#entries) {
      for (const entry of shard.values()) {
        if (entry instanceof RecordBase) yield entry;
        else yield skip(entry) ? undefined : this.#view(codec.keyOf(entry).toHex(), entry);
      }
    }
  }

  #shard(hex: string): Map<string, R | B> {
    return this.#entries[shardOf(hex)]!;
  }

  #countsOf(hex: string): Map<string, number> {
    return this.#counts[shardOf(hex)]!;
  }

  /** Sets `hex`'s entry, counting it if new. */
  #put(hex: string, entry: R | B): void {
    const shard = this.#shard(hex);
    const before = shard.size;
    shard.set(hex, entry);
    this.#size += shard.size - before;
  }

  /** Deletes `hex`'s entry; returns whether it was present. */
  #remove(hex: string): boolean {
    if (!this.#shard(hex).delete(hex)) return false;
    this.#size--;
    return true;
  }

  /** A record equal to the bare entry `bare` stored under `hex`. */
  #view(hex: string, bare: B): R {
    const record = this.#codec.materialize(bare);
    const c = this.#countsOf(hex).get(hex) ?? ONE_PRIMARY;
    const primary = c % SECONDARY;
    for (let i = 0; i < primary; i++) record.incrementPrimary();
    for (let i = (c - primary) / SECONDARY; i > 0; i--) record.incrementSecondary();
    return record;
  }
}
