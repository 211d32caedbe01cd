import * as prom from 'prom-client';
import type { BoundCounter, Counter, Gauge, Histogram, Labels, Metrics } from './context.js';

type Kind = 'counter' | 'gauge' | 'histogram';

interface Entry {
  readonly kind: Kind;
  /** The family name in the exposition (a counter's carries `_total`). */
  readonly exposed: string;
  readonly view: Counter | Gauge | Histogram;
  readonly series: SeriesIndex;
}

/** What removing series needs of a prom-client metric. */
interface Removable {
  remove(labels: Record<string, string | number>): void;
}

/**
 * The label values each family has seen, per label name, so that the series matching a partial
 * label set can be removed without scanning prom-client's internal map. Label values are bounded
 * by design (never attacker-chosen), so these sets are too.
 */
class SeriesIndex {
  readonly #names: readonly string[];
  readonly #seen: Map<string, Set<string | number>>;
  #metric: Removable | undefined;

  constructor(names: readonly string[]) {
    this.#names = names;
    this.#seen = new Map(names.map((n) => [n, new Set()]));
  }

  attach(metric: Removable): void {
    this.#metric = metric;
  }

  note(labels: Labels | undefined): void {
    if (labels === undefined) return;
    for (const n of this.#names) {
      const v = labels[n];
      if (v !== undefined) this.#seen.get(n)!.add(v);
    }
  }

  /** A string naming the series of a full label set (values in label-name order). */
  key(labels: Labels): string {
    let k = '';
    for (const n of this.#names) k += `${String(labels[n])}\u0001`;
    return k;
  }

  /** Removes every series whose labels include `partial`; forgets `partial`'s values. */
  forget(partial: Labels, flush: () => void): void {
    const metric = this.#metric;
    if (metric === undefined) return;
    for (const k of Object.keys(partial)) if (!this.#seen.has(k)) return;
    flush();
    const free = this.#names.filter((n) => !(n in partial));
    const combos: Record<string, string | number>[] = [{ ...partial }];
    for (const n of free) {
      const values = [...this.#seen.get(n)!];
      const next: Record<string, string | number>[] = [];
      for (const c of combos) for (const v of values) next.push({ ...c, [n]: v });
      combos.splice(0, combos.length, ...next);
    }
    for (const c of combos) metric.remove(c);
    for (const [k, v] of Object.entries(partial)) this.#seen.get(k)!.delete(v);
  }
}

/**
 * The exposition name of a counter family: OpenMetrics and Prometheus' own validator
 * (`promtool check metrics`) require counters to end in `_total` (reference section 13: "Counters
 * get `_total` in exposition"). Code registers and reads counters by their bare name.
 */
export function counterName(name: string): string {
  return name.endsWith('_total') ? name : `${name}_total`;
}

/** A stored sample in prom-client's per-metric map (internal to prom-client 15.1.x). */
interface Sample {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
}

/** A counter's stored sample, which its bound handle adds to (see {@link Bound.sample}). */
interface MutableSample {
  value: number;
}

/** prom-client 15.1.x's `Counter.inc` returns the key of the series in its map. */
type IncWithHash = (labels: Labels, value: number) => { labelHash?: string } | undefined;

// prom-client only offers an async `get()` (it runs collect callbacks); our contract reads
// synchronously, so read the sample map directly. The version is pinned in package.json.
function read(metric: object, labels: Labels | undefined): number {
  const map = (metric as { hashMap?: Record<string, Sample> }).hashMap;
  if (map === undefined) return 0;
  for (const key in map) {
    const sample = map[key];
    if (sample !== undefined && sameLabels(sample.labels, labels)) return sample.value;
  }
  return 0;
}

function sameLabels(a: Readonly<Record<string, string | number>>, b: Labels | undefined): boolean {
  const aKeys = Object.keys(a);
  if (b === undefined) return aKeys.length === 0;
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const k of aKeys) {
    const v = b[k];
    if (v === undefined || String(v) !== String(a[k])) return false;
  }
  return true;
}

/**
 * A counter bound to one label set. `inc` only adds to a local count (prom-client hashes the
 * labels object on every `inc`, a few percent of a message's CPU on hot paths); the first
 * increment after a flush puts the handle on its counter's dirty set, and the counter folds
 * pending counts in before any read or exposition. A counter hands out one handle per series
 * (binding the same labels again, as a reconnecting peer does, returns the same handle; forgetting
 * the series drops it), so a node whose metrics nobody reads holds at most one handle per live
 * series, not one per connection it ever had (the soak found that growth). The dirty set is also
 * folded in whenever it reaches {@link MAX_DIRTY} handles.
 */
class Bound implements BoundCounter {
  readonly labels: Labels;
  readonly #owner: CounterView;
  pending = 0;
  /**
   * prom-client's stored sample of this series and its key in the counter's map, once a flush
   * made it: later flushes add to it directly while the map still holds it (no label hashing,
   * no key string per flush; a `remove` or reset replaces it, and the next flush goes through
   * `inc` again).
   */
  sample: MutableSample | undefined;
  hash = '';
  /** The next handle on its counter's dirty list (an intrusive list: no allocation per mark). */
  nextDirty: Bound | undefined;
  constructor(labels: Labels, owner: CounterView) {
    this.labels = labels;
    this.#owner = owner;
  }
  inc(value = 1): void {
    // prom-client's own check, made eagerly so a bad value fails at the call site.
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new Error('It is not possible to decrease a counter');
    }
    // Nothing to count (and no series to make, as before: a flush skips empty counts).
    if (value === 0) return;
    const first = this.pending === 0;
    this.pending += value;
    // After the increment: marking may flush, and the flush must see this count.
    if (first) this.#owner.markDirty(this);
  }
}

/** Dirty bound handles a counter holds before it folds them into prom-client. */
export const MAX_DIRTY = 1024;

class CounterView implements Counter {
  readonly #m: prom.Counter;
  /** Handles with pending counts, in the order they were first incremented (a linked list). */
  #dirtyHead: Bound | undefined;
  #dirtyTail: Bound | undefined;
  #dirtyCount = 0;
  /** The handle of each series bound so far, by {@link SeriesIndex.key}. */
  readonly #bound = new Map<string, Bound>();
  readonly #series: SeriesIndex;
  constructor(make: (collect: () => void) => prom.Counter, series: SeriesIndex) {
    this.#m = make(() => this.#flush());
    this.#series = series;
    series.attach(this.#m);
  }
  inc(labels?: Labels, value = 1): void {
    if (labels === undefined) this.#m.inc(value);
    else {
      this.#series.note(labels);
      this.#m.inc(labels, value);
    }
  }
  /** @internal See {@link Metrics.forget}. */
  forget(partial: Labels): void {
    this.#series.forget(partial, () => this.#flush());
    for (const [k, b] of this.#bound) {
      let match = true;
      for (const n in partial) if (String(b.labels[n]) !== String(partial[n])) match = false;
      if (match) this.#bound.delete(k);
    }
  }
  get(labels?: Labels): number {
    this.#flush();
    return read(this.#m, labels);
  }
  bind(labels: Labels): BoundCounter {
    this.#series.note(labels);
    const key = this.#series.key(labels);
    let b = this.#bound.get(key);
    if (b === undefined) {
      b = new Bound(labels, this);
      this.#bound.set(key, b);
    }
    return b;
  }
  /** @internal Handles this counter holds, one per bound series. */
  get boundHandles(): number {
    return this.#bound.size;
  }
  /** @internal A bound handle's first increment since the last flush. */
  markDirty(b: Bound): void {
    if (this.#dirtyTail === undefined) this.#dirtyHead = b;
    else this.#dirtyTail.nextDirty = b;
    this.#dirtyTail = b;
    if (++this.#dirtyCount >= MAX_DIRTY) this.#flush();
  }
  /** @internal Handles with unflushed increments (at most {@link MAX_DIRTY}). */
  get dirtyHandles(): number {
    return this.#dirtyCount;
  }
  #flush(): void {
    let b = this.#dirtyHead;
    if (b === undefined) return;
    this.#dirtyHead = undefined;
    this.#dirtyTail = undefined;
    this.#dirtyCount = 0;
    const m = this.#m as unknown as { hashMap?: Record<string, MutableSample | undefined> };
    const inc = this.#m.inc as unknown as IncWithHash;
    while (b !== undefined) {
      const next: Bound | undefined = b.nextDirty;
      b.nextDirty = undefined;
      const n = b.pending;
      b.pending = 0;
      const sample = b.sample;
      if (sample !== undefined && m.hashMap?.[b.hash] === sample) sample.value += n;
      else if (n > 0) {
        const hash = inc.call(this.#m, b.labels, n)?.labelHash;
        b.sample = hash === undefined ? undefined : m.hashMap?.[hash];
        b.hash = hash ?? '';
      }
      b = next;
    }
  }
}

class GaugeView implements Gauge {
  readonly #m: prom.Gauge;
  readonly #series: SeriesIndex;
  constructor(m: prom.Gauge, series: SeriesIndex) {
    this.#m = m;
    this.#series = series;
    series.attach(m);
  }
  set(labels: Labels | undefined, value: number): void {
    if (labels === undefined) this.#m.set(value);
    else {
      this.#series.note(labels);
      this.#m.set(labels, value);
    }
  }
  inc(labels?: Labels, value = 1): void {
    if (labels === undefined) this.#m.inc(value);
    else {
      this.#series.note(labels);
      this.#m.inc(labels, value);
    }
  }
  dec(labels?: Labels, value = 1): void {
    if (labels === undefined) this.#m.dec(value);
    else {
      this.#series.note(labels);
      this.#m.dec(labels, value);
    }
  }
  /** @internal See {@link Metrics.forget}. */
  forget(partial: Labels): void {
    this.#series.forget(partial, () => {});
  }
  get(labels?: Labels): number {
    return read(this.#m, labels);
  }
  remove(labels: Labels): void {
    this.#m.remove(labels);
  }
}

class HistogramView implements Histogram {
  readonly #m: prom.Histogram;
  readonly #series: SeriesIndex;
  constructor(m: prom.Histogram, series: SeriesIndex) {
    this.#m = m;
    this.#series = series;
    series.attach(m);
  }
  observe(labels: Labels | undefined, value: number): void {
    if (labels === undefined) this.#m.observe(value);
    else {
      this.#series.note(labels);
      this.#m.observe(labels, value);
    }
  }
}

/**
 * One prom-client `Registry` per runtime, shared by every context of that runtime. Views add
 * the context's prefix; registering a name twice returns the first registration.
 */
export class MetricsRoot {
  readonly registry: prom.Registry = new prom.Registry();
  readonly #entries = new Map<string, Entry>();
  readonly #views = new Map<string, MetricsView>();

  /** The view for a context with the given label path (`''` at the root). */
  view(label: string): Metrics {
    const prefix = label === '' ? '' : `${label}_`;
    let view = this.#views.get(prefix);
    if (view === undefined) {
      view = new MetricsView(this, prefix);
      this.#views.set(prefix, view);
    }
    return view;
  }

  /**
   * @internal `name` is the registered name, `exposed` the family name prom-client exposes.
   */
  register<E extends Counter | Gauge | Histogram>(
    name: string,
    kind: Kind,
    exposed: string,
    labelNames: readonly string[],
    make: (series: SeriesIndex) => E,
  ): E {
    const existing = this.#entries.get(name);
    if (existing !== undefined) {
      if (existing.kind !== kind) {
        throw new TypeError(`metric ${name} is already registered as a ${existing.kind}`);
      }
      return existing.view as E;
    }
    const series = new SeriesIndex(labelNames);
    const view = make(series);
    this.#entries.set(name, { kind, exposed, view, series });
    return view;
  }

  /** @internal See {@link Metrics.forget}. */
  forget(prefix: string, labels: Labels): void {
    for (const [name, entry] of this.#entries) {
      if (!name.startsWith(prefix)) continue;
      const view = entry.view as { forget?: (l: Labels) => void };
      if (view.forget !== undefined) view.forget(labels);
      else entry.series.forget(labels, () => {});
    }
  }

  /** @internal */
  async encode(prefix: string): Promise<string> {
    const parts: string[] = [];
    for (const [name, entry] of [...this.#entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (name.startsWith(prefix)) {
        parts.push(await this.registry.getSingleMetricAsString(entry.exposed));
      }
    }
    return parts.length === 0 ? '' : `${parts.join('\n\n')}\n`;
  }
}

class MetricsView implements Metrics {
  readonly #root: MetricsRoot;
  readonly #prefix: string;
  constructor(root: MetricsRoot, prefix: string) {
    this.#root = root;
    this.#prefix = prefix;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const full = this.#prefix + name;
    const exposed = counterName(full);
    const registers = [this.#root.registry];
    return this.#root.register(
      full,
      'counter',
      exposed,
      labelNames,
      (series) =>
        new CounterView(
          (collect) => new prom.Counter({ name: exposed, help, labelNames, registers, collect }),
          series,
        ),
    );
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    const full = this.#prefix + name;
    const registers = [this.#root.registry];
    return this.#root.register(
      full,
      'gauge',
      full,
      labelNames,
      (series) =>
        new GaugeView(new prom.Gauge({ name: full, help, labelNames, registers }), series),
    );
  }

  histogram(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly string[] = [],
  ): Histogram {
    const full = this.#prefix + name;
    const registers = [this.#root.registry];
    return this.#root.register(
      full,
      'histogram',
      full,
      labelNames,
      (series) =>
        new HistogramView(
          new prom.Histogram({ name: full, help, buckets: [...buckets], labelNames, registers }),
          series,
        ),
    );
  }

  encode(): Promise<string> {
    return this.#root.encode(this.#prefix);
  }

  forget(labels: Labels): void {
    this.#root.forget(this.#prefix, labels);
  }
}
