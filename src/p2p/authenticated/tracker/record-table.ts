/**
 * The directory's records, keyed by public key, where a peer that is only a set member holds no
 * record object of its own.
 *
 * A registration of tens of thousands of peers used to create one record per peer in one
 * burst. Each survived the young generation's next collection (a scavenge copies every live
 * young object, twice before promotion), so the scavenge that followed a 65,536-peer
 * registration copied ~4.7 MB and paused the process for 7-10 ms (BENCHMARKS.md). Most of those
 * peers never get more state than their membership: nothing reserved, dialed or learned. So an
 * entry is either a record or a *bare* value the flavour already holds (discovery: the key
 * itself; lookup: the registration's `[key, address]` pair), with its set counts implied (one
 * primary) or, when they differ, kept as a small integer in a side map: neither allocates an
 * object per peer. A bare entry is inert, not persistent and not ourselves.
 *
 * {@link RecordTable.get} turns a bare entry into a record (stored in its place, same position)
 * the first time anyone asks for it, so every caller that may change a record keeps working
 * unchanged; the bulk paths (a registration's members, an eviction, the scans of
 * {@link RecordTable.values}) use the bare-aware methods instead and allocate nothing that
 * lives.
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

// A bare entry's counts, when not the implied single primary: primary + secondary * 2^16.
const SECONDARY = 0x1_0000;
const ONE_PRIMARY = 1;

const encode = (primary: number, secondary: number): number => primary + secondary * SECONDARY;

/**
 * Records (`R`) and bare entries (`B`) under their keys' hex form, insertion-ordered (an entry
 * turned into a record keeps its position).
 */
export class RecordTable<R extends RecordBase, B extends object> {
  readonly #entries = new Map<string, R | B>();
  /** The counts of bare entries that are not exactly one primary (usually none). */
  readonly #counts = new Map<string, number>();
  readonly #codec: BareCodec<R, B>;

  constructor(codec: BareCodec<R, B>) {
    this.#codec = codec;
  }

  /** Number of entries (records and bare ones). */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether `key` has an entry. */
  has(key: PublicKey): boolean {
    return this.#entries.has(key.toHex());
  }

  /**
   * `key`'s record, made from its bare entry (and stored in its place) if it has none yet;
   * `undefined` if `key` has no entry.
   */
  get(key: PublicKey): R | undefined {
    const hex = key.toHex();
    const entry = this.#entries.get(hex);
    if (entry === undefined || entry instanceof RecordBase) return entry;
    const record = this.#view(hex, entry);
    this.#counts.delete(hex);
    this.#entries.set(hex, record);
    return record;
  }

  /** `key`'s entry as stored: its record, its bare value, or `undefined`. */
  peek(key: PublicKey): R | B | undefined {
    return this.#entries.get(key.toHex());
  }

  /** Whether `entry` (from {@link peek}) is a record rather than a bare value. */
  isRecord(entry: R | B): entry is R {
    return entry instanceof RecordBase;
  }

  /** Stores `record` under its key (in the place of any entry for it). */
  set(record: R): this {
    const hex = record.key.toHex();
    this.#counts.delete(hex);
    this.#entries.set(hex, record);
    return this;
  }

  /** Adds a bare entry for a key without one, a member of one set in `role`. */
  addBare(bare: B, role: Role): void {
    const hex = this.#codec.keyOf(bare).toHex();
    this.#entries.set(hex, bare);
    if (role === 'secondary') this.#counts.set(hex, encode(0, 1));
  }

  /**
   * Replaces the bare value of `key`'s bare entry (lookup: a new address), keeping its counts
   * and position.
   */
  replaceBare(bare: B): void {
    this.#entries.set(this.#codec.keyOf(bare).toHex(), bare);
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
    const c = this.#counts.get(hex) ?? ONE_PRIMARY;
    let primary = c % SECONDARY;
    let secondary = (c - primary) / SECONDARY;
    if (role === 'primary') primary += delta;
    else secondary += delta;
    if (primary < 0 || secondary < 0) throw new Error(`invariant: ${role} set count below zero`);
    if (primary === 0 && secondary === 0) {
      this.#counts.delete(hex);
      this.#entries.delete(hex);
      return true;
    }
    const next = encode(primary, secondary);
    if (next === ONE_PRIMARY) this.#counts.delete(hex);
    else this.#counts.set(hex, next);
    return false;
  }

  /** Removes `key`'s entry; returns whether it was present. */
  delete(key: PublicKey): boolean {
    const hex = key.toHex();
    this.#counts.delete(hex);
    return this.#entries.delete(hex);
  }

  /** Whether the next new entry may make the table grow (see {@link mayGrowAfter}). */
  mayGrowNext(): boolean {
    return mayGrowAfter(this.#entries.size);
  }

  /**
   * Every entry as a record, in insertion order, for reading only: a bare entry is shown as a
   * new record that is not stored (garbage once dropped; nothing survives a scan).
   */
  *values(): IterableIterator<R> {
    // Two aligned iterators: no `[key, value]` pair allocated per entry.
    const hexes = this.#entries.keys();
    for (const entry of this.#entries.values()) {
      const hex = hexes.next().value as string;
      yield entry instanceof RecordBase ? entry : this.#view(hex, entry);
    }
  }

  /**
   * {@link values} for a scan that has no use for some bare entries: each entry in insertion
   * order as a record (a view for a bare one, as there), or `undefined` for a bare entry
   * `skip` refuses, which costs no record. Yields once per entry, so that a chunked caller
   * counts the skipped ones too.
   */
  *scan(skip: (bare: B) => boolean): IterableIterator<R | undefined> {
    const codec = this.#codec;
    for (const entry of this.#entries.values()) {
      if (entry instanceof RecordBase) yield entry;
      else yield skip(entry) ? undefined : this.#view(codec.keyOf(entry).toHex(), entry);
    }
  }

  /** A record equal to the bare entry `bare` stored under `hex`. */
  #view(hex: string, bare: B): R {
    const record = this.#codec.materialize(bare);
    const c = this.#counts.get(hex) ?? ONE_PRIMARY;
    const primary = c % SECONDARY;
    for (let i = 0; i < primary; i++) record.incrementPrimary();
    for (let i = (c - primary) / SECONDARY; i > 0; i--) record.incrementSecondary();
    return record;
  }
}
