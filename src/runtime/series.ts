/**
 * Compact storage of counter and gauge series (internal to the runtime's metrics).
 *
 * prom-client keeps, per series, a key string of every label (`message:ping,peer:<64 hex>,`), a
 * sample object and the caller's labels object, in a per-metric dictionary; with a bound handle,
 * a key string of our own and a map entry besides. At thousands of peers with a few series each
 * that was the larger part of what a connection's metrics cost. Here a series is one object (the
 * counter's bound handle is the series itself) holding its labels' values, not a labels object,
 * and every series of every family of one runtime hangs off one map keyed by the value of its
 * family's first label (the peer's key in hex for the per-peer families: one map entry per peer,
 * whatever the number of families, and the key is the string the caller already holds). The
 * exposition builds prom-client's `{ labels, value }` samples at scrape time, in the order the
 * series were first counted (as prom-client's own map would list them) and with the labels in
 * the family's label-name order (as every caller passes them), so the text is the same.
 *
 * @module
 */

import type { Labels } from './context.js';

/** The values of a family's labels after the first: the second's, or an array for three or more. */
type Rest = string | undefined | readonly (string | undefined)[];

/** A label value as prom-client tells series apart: its string form (`undefined`: absent). */
function str(v: string | number | undefined): string | undefined {
  return typeof v === 'string' || v === undefined ? v : String(v);
}

function sameRest(a: Rest, b: Rest): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Exposition order: a series' `seq` once counted; 0 while never counted; -1 once removed. */
const HIDDEN = 0;
const DETACHED = -1;
/** Sequence numbers stay Smis: past this the live ones are renumbered from 1. */
const MAX_SEQ = 2 ** 30;

/**
 * One series: its family, its labels' values and its value. `next` links the series sharing a
 * head in the {@link SeriesTable}; once the series is removed (while a bound handle may still
 * hold it) `next` instead points at the live series of the same labels its counts now go to.
 */
export class Series {
  readonly family: Family;
  /** The value of the family's first label (`undefined`: absent). */
  readonly key: string | undefined;
  readonly rest: Rest;
  value = 0;
  seq = HIDDEN;
  next: Series | undefined = undefined;
  constructor(family: Family, key: string | undefined, rest: Rest) {
    this.family = family;
    this.key = key;
    this.rest = rest;
  }
}

/** Every series of one runtime's counter and gauge families. */
export class SeriesTable {
  /** Chains by first label value; series without one chain under their family. */
  readonly #heads = new Map<string | Family, Series>();
  #seq = 0;

  /** @internal */
  head(key: string | Family): Series | undefined {
    return this.#heads.get(key);
  }

  /** @internal Links `s` in, not yet counted (it must not be linked). */
  insert(s: Series): void {
    const k = s.key ?? s.family;
    s.seq = HIDDEN;
    s.next = this.#heads.get(k);
    this.#heads.set(k, s);
  }

  /** @internal Unlinks `s` and marks it removed. */
  remove(s: Series): void {
    const k = s.key ?? s.family;
    let prev: Series | undefined;
    let c = this.#heads.get(k);
    while (c !== undefined && c !== s) {
      prev = c;
      c = c.next;
    }
    if (c === undefined) return;
    if (prev !== undefined) prev.next = s.next;
    else if (s.next !== undefined) this.#heads.set(k, s.next);
    else this.#heads.delete(k);
    s.next = undefined;
    s.seq = DETACHED;
    s.value = 0;
  }

  /** @internal Puts `s` (linked, never counted) in the exposition, after every other series. */
  show(s: Series): void {
    if (this.#seq >= MAX_SEQ) this.#renumber();
    s.seq = ++this.#seq;
  }

  /** Calls `fn` for every linked series (counted or not). */
  each(fn: (s: Series) => void): void {
    for (const head of this.#heads.values()) {
      for (let s: Series | undefined = head; s !== undefined; s = s.next) fn(s);
    }
  }

  /** Series linked. */
  get size(): number {
    let n = 0;
    this.each(() => n++);
    return n;
  }

  /**
   * The counted series of each family in `families`, in exposition order (one pass over the
   * table for all of them).
   */
  collect(families: ReadonlySet<Family>): Map<Family, Series[]> {
    const out = new Map<Family, Series[]>();
    for (const f of families) out.set(f, []);
    this.each((s) => {
      if (s.seq > 0) out.get(s.family)?.push(s);
    });
    for (const list of out.values()) list.sort((a, b) => a.seq - b.seq);
    return out;
  }

  /**
   * Removes the series of `families` whose labels include `partial` (reference `forget`): one
   * chain when the families' first label is in `partial` (the per-peer case), else every series.
   */
  forget(families: readonly Family[], partial: Labels): void {
    const byHead = new Map<string, Set<Family>>();
    const scan = new Set<Family>();
    for (const f of families) {
      const first = f.names[0];
      const v = first === undefined ? undefined : str(partial[first]);
      if (v === undefined) scan.add(f);
      else {
        let set = byHead.get(v);
        if (set === undefined) {
          set = new Set();
          byHead.set(v, set);
        }
        set.add(f);
      }
    }
    const doomed: Series[] = [];
    for (const [key, set] of byHead) {
      for (let s = this.#heads.get(key); s !== undefined; s = s.next) {
        if (set.has(s.family) && s.family.matches(s, partial)) doomed.push(s);
      }
    }
    if (scan.size > 0) {
      this.each((s) => {
        if (scan.has(s.family) && s.family.matches(s, partial)) doomed.push(s);
      });
    }
    for (const s of doomed) this.remove(s);
  }

  #renumber(): void {
    const live: Series[] = [];
    this.each((s) => {
      if (s.seq > 0) live.push(s);
    });
    live.sort((a, b) => a.seq - b.seq);
    this.#seq = 0;
    for (const s of live) s.seq = ++this.#seq;
  }
}

/** The label names and series of one counter or gauge family. */
export class Family {
  readonly names: readonly string[];
  readonly #table: SeriesTable;
  readonly #make: (f: Family, key: string | undefined, rest: Rest) => Series;

  constructor(
    names: readonly string[],
    table: SeriesTable,
    make: (f: Family, key: string | undefined, rest: Rest) => Series,
  ) {
    this.names = names;
    this.#table = table;
    this.#make = make;
    // prom-client lists an unlabelled family's series (at 0) from the start.
    if (names.length === 0) this.#table.show(this.series(undefined));
  }

  /** prom-client's check: every label name must be one of the family's. */
  validate(labels: Labels | undefined): void {
    if (labels === undefined) return;
    for (const k in labels) {
      if (!this.names.includes(k)) {
        throw new Error(
          `Added label "${k}" is not included in initial labelset: [ ${this.names.map((n) => `'${n}'`).join(', ')} ]`,
        );
      }
    }
  }

  #key(labels: Labels | undefined): string | undefined {
    const first = this.names[0];
    return labels === undefined || first === undefined ? undefined : str(labels[first]);
  }

  #rest(labels: Labels | undefined): Rest {
    const names = this.names;
    if (labels === undefined || names.length < 2) return undefined;
    if (names.length === 2) return str(labels[names[1]!]);
    const out: (string | undefined)[] = [];
    for (let i = 1; i < names.length; i++) out.push(str(labels[names[i]!]));
    return out;
  }

  #find(key: string | undefined, rest: Rest): Series | undefined {
    for (let s = this.#table.head(key ?? this); s !== undefined; s = s.next) {
      if (s.family === this && s.key === key && sameRest(s.rest, rest)) return s;
    }
    return undefined;
  }

  /** The linked series of `labels` (validated), if any. */
  find(labels: Labels | undefined): Series | undefined {
    return this.#find(this.#key(labels), this.#rest(labels));
  }

  /** The series of `labels` (validated), made and linked (not yet counted) if new. */
  series(labels: Labels | undefined): Series {
    const key = this.#key(labels);
    const rest = this.#rest(labels);
    let s = this.#find(key, rest);
    if (s === undefined) {
      s = this.#make(this, key, rest);
      this.#table.insert(s);
    }
    return s;
  }

  /**
   * The live series `s`'s counts go to, shown: `s` itself if linked; for a removed `s` (a handle
   * kept past `forget`), the live series of its labels, linking `s` again if there is none.
   */
  live(s: Series): Series {
    if (s.seq === DETACHED) {
      let t = s.next;
      if (t === undefined || t.seq === DETACHED) {
        t = this.#find(s.key, s.rest);
        if (t === undefined) {
          this.#table.insert(s);
          t = s;
        } else s.next = t;
      }
      s = t;
    }
    if (s.seq === HIDDEN) this.#table.show(s);
    return s;
  }

  /** Series of this family linked (counted or not). */
  get size(): number {
    let n = 0;
    this.#table.each((s) => {
      if (s.family === this) n++;
    });
    return n;
  }

  /** Unlinks `s`. */
  remove(s: Series): void {
    this.#table.remove(s);
  }

  /** Whether the labels of `s` include `partial` (values compared as strings). */
  matches(s: Series, partial: Labels): boolean {
    for (const k in partial) {
      const want = str(partial[k]);
      if (want === undefined) continue;
      const i = this.names.indexOf(k);
      if (i < 0) return false;
      const rest = s.rest;
      const have = i === 0 ? s.key : typeof rest === 'object' ? rest[i - 1] : rest;
      if (have !== want) return false;
    }
    return true;
  }

  /** Whether every name in `labels` is one of the family's (else no series matches). */
  knows(labels: Labels): boolean {
    for (const k in labels) if (!this.names.includes(k)) return false;
    return true;
  }

  /** prom-client's sample of `s`: a labels object in label-name order and the value. */
  sample(s: Series): { labels: Record<string, string>; value: number } {
    const labels: Record<string, string> = {};
    const names = this.names;
    if (s.key !== undefined) labels[names[0]!] = s.key;
    const rest = s.rest;
    if (typeof rest === 'object') {
      for (let i = 0; i < rest.length; i++) {
        const v = rest[i];
        if (v !== undefined) labels[names[i + 1]!] = v;
      }
    } else if (rest !== undefined) labels[names[1]!] = rest;
    return { labels, value: s.value };
  }
}
