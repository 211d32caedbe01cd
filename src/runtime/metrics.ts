import * as prom from 'prom-client';
import type { BoundCounter, Counter, Gauge, Histogram, Labels, Metrics } from './context.js';
import { Family, Series, SeriesTable } from './series.js';

type Kind = 'counter' | 'gauge' | 'histogram';

interface Entry {
  readonly kind: Kind;
  /** The family name in the exposition (a counter's carries `_total`). */
  readonly exposed: string;
  readonly help: string;
  readonly view: Counter | Gauge | Histogram;
  /** A counter's or gauge's series (kept here, not in prom-client: see `series.ts`). */
  readonly family?: Family;
  /** A histogram's label values (its series stay in prom-client). */
  readonly index?: SeriesIndex;
}

/**
 * The label values a histogram has seen, per label name, so that the series matching a partial
 * label set can be removed without scanning prom-client's internal map. Label values are bounded
 * by design (never attacker-chosen), so these sets are too.
 */
class SeriesIndex {
  readonly #names: readonly string[];
  readonly #seen: Map<string, Set<string | number>>;
  readonly #metric: prom.Histogram;

  constructor(names: readonly string[], metric: prom.Histogram) {
    this.#names = names;
    this.#seen = new Map(names.map((n) => [n, new Set()]));
    this.#metric = metric;
  }

  note(labels: Labels | undefined): void {
    if (labels === undefined) return;
    for (const n of this.#names) {
      const v = labels[n];
      if (v !== undefined) this.#seen.get(n)!.add(v);
    }
  }

  /** Removes every series whose labels include `partial`; forgets `partial`'s values. */
  forget(partial: Labels): void {
    for (const k of Object.keys(partial)) if (!this.#seen.has(k)) return;
    const free = this.#names.filter((n) => !(n in partial));
    const combos: Record<string, string | number>[] = [{ ...partial }];
    for (const n of free) {
      const values = [...this.#seen.get(n)!];
      const next: Record<string, string | number>[] = [];
      for (const c of combos) for (const v of values) next.push({ ...c, [n]: v });
      combos.splice(0, combos.length, ...next);
    }
    for (const c of combos) this.#metric.remove(c);
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

/**
 * A counter series and its bound handle in one object. `inc` adds to the series' value directly
 * (no label hashing, no pending count to fold in later); a handle held past `forget` counts into
 * the live series of its labels, made afresh if there is none.
 */
class CounterSeries extends Series implements BoundCounter {
  inc(value = 1): void {
    // prom-client's check, made eagerly so a bad value fails at the call site.
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new Error('It is not possible to decrease a counter');
    }
    // Nothing to count (and no series to make, as before).
    if (value === 0) return;
    if (this.seq > 0) this.value += value;
    else this.family.live(this).value += value;
  }
}

/** A gauge series: its own class, so that gauges' fractional values leave counters' Smis be. */
class GaugeSeries extends Series {}

function number(value: unknown, what: string): number {
  if (typeof value !== 'number') throw new TypeError(`${what} is not a valid number: ${value}`);
  return value;
}

function read(f: Family, labels: Labels | undefined): number {
  if (labels !== undefined && !f.knows(labels)) return 0;
  return f.find(labels)?.value ?? 0;
}

class CounterView implements Counter {
  readonly #f: Family;
  constructor(family: Family) {
    this.#f = family;
  }
  inc(labels?: Labels, value = 1): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (value < 0) throw new Error('It is not possible to decrease a counter');
    const f = this.#f;
    f.validate(labels);
    f.live(f.series(labels)).value += value;
  }
  get(labels?: Labels): number {
    return read(this.#f, labels);
  }
  bind(labels: Labels): BoundCounter {
    this.#f.validate(labels);
    return this.#f.series(labels) as CounterSeries;
  }
  /** @internal Series this counter holds (counted or only bound). */
  get seriesHeld(): number {
    return this.#f.size;
  }
}

class GaugeView implements Gauge {
  readonly #f: Family;
  constructor(family: Family) {
    this.#f = family;
  }
  #series(labels: Labels | undefined): Series {
    const f = this.#f;
    f.validate(labels);
    return f.live(f.series(labels));
  }
  set(labels: Labels | undefined, value: number): void {
    number(value, 'Value');
    this.#series(labels).value = value;
  }
  inc(labels?: Labels, value = 1): void {
    number(value, 'Delta');
    this.#series(labels).value += value;
  }
  dec(labels?: Labels, value = 1): void {
    number(value, 'Delta');
    this.#series(labels).value -= value;
  }
  get(labels?: Labels): number {
    return read(this.#f, labels);
  }
  remove(labels: Labels): void {
    this.#f.validate(labels);
    const s = this.#f.find(labels);
    if (s !== undefined) this.#f.remove(s);
  }
}

class HistogramView implements Histogram {
  readonly #m: prom.Histogram;
  readonly #series: SeriesIndex;
  constructor(m: prom.Histogram, series: SeriesIndex) {
    this.#m = m;
    this.#series = series;
  }
  observe(labels: Labels | undefined, value: number): void {
    if (labels === undefined) this.#m.observe(value);
    else {
      this.#series.note(labels);
      this.#m.observe(labels, value);
    }
  }
}

/** prom-client 15.1.x renders one metric's `get()` result; the method is not in its typings. */
interface Renders {
  getMetricsAsString(metric: { get(): Promise<unknown> }): Promise<string>;
}

/**
 * One prom-client `Registry` per runtime, shared by every context of that runtime. Views add
 * the context's prefix; registering a name twice returns the first registration. Counter and
 * gauge series live in the runtime's {@link SeriesTable}; prom-client holds their families (names,
 * help, validation) and renders their samples at scrape time.
 */
export class MetricsRoot {
  readonly registry: prom.Registry = new prom.Registry();
  readonly #entries = new Map<string, Entry>();
  readonly #views = new Map<string, MetricsView>();
  readonly #table = new SeriesTable();

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

  /** @internal Registers (or returns) the counter or gauge `name`, exposed as `exposed`. */
  family<E extends Counter | Gauge>(
    name: string,
    kind: 'counter' | 'gauge',
    exposed: string,
    help: string,
    labelNames: readonly string[],
    view: (f: Family) => E,
  ): E {
    const existing = this.#existing(name, kind);
    if (existing !== undefined) return existing.view as E;
    const config = { name: exposed, help, labelNames, registers: [this.registry] };
    // Validates the names and claims `exposed` in the registry; its own samples stay empty.
    const m = kind === 'counter' ? new prom.Counter(config) : new prom.Gauge(config);
    const family = new Family(
      labelNames,
      this.#table,
      kind === 'counter'
        ? (f, key, rest) => new CounterSeries(f, key, rest)
        : (f, key, rest) => new GaugeSeries(f, key, rest),
    );
    const entry: Entry = { kind, exposed, help, view: view(family), family };
    // Direct registry reads (`registry.metrics()`) see the series too.
    (m as unknown as { get(): Promise<unknown> }).get = () => this.#result(entry, undefined);
    this.#entries.set(name, entry);
    return entry.view as E;
  }

  /** @internal Registers (or returns) the histogram `name`. */
  histogram(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly string[],
  ): Histogram {
    const existing = this.#existing(name, 'histogram');
    if (existing !== undefined) return existing.view as Histogram;
    const m = new prom.Histogram({
      name,
      help,
      buckets: [...buckets],
      labelNames,
      registers: [this.registry],
    });
    const index = new SeriesIndex(labelNames, m);
    const view = new HistogramView(m, index);
    this.#entries.set(name, { kind: 'histogram', exposed: name, help, view, index });
    return view;
  }

  #existing(name: string, kind: Kind): Entry | undefined {
    const existing = this.#entries.get(name);
    if (existing !== undefined && existing.kind !== kind) {
      throw new TypeError(`metric ${name} is already registered as a ${existing.kind}`);
    }
    return existing;
  }

  /** @internal See {@link Metrics.forget}. */
  forget(prefix: string, labels: Labels): void {
    const names = Object.keys(labels);
    const families: Family[] = [];
    for (const [name, entry] of this.#entries) {
      if (!name.startsWith(prefix)) continue;
      const f = entry.family;
      if (f === undefined) entry.index?.forget(labels);
      // A family without every one of the label names keeps its series.
      else if (names.every((n) => f.names.includes(n))) families.push(f);
    }
    if (families.length > 0) this.#table.forget(families, labels);
  }

  /** prom-client's `get()` result for a counter or gauge family (one table pass if not given). */
  async #result(entry: Entry, series: readonly Series[] | undefined): Promise<unknown> {
    const f = entry.family!;
    const list = series ?? this.#table.collect(new Set([f])).get(f)!;
    return {
      name: entry.exposed,
      help: entry.help,
      type: entry.kind,
      values: list.map((s) => f.sample(s)),
      aggregator: 'sum',
    };
  }

  /** @internal */
  async encode(prefix: string): Promise<string> {
    const names = [...this.#entries.keys()].filter((n) => n.startsWith(prefix)).sort();
    const families = new Set<Family>();
    for (const n of names) {
      const f = this.#entries.get(n)!.family;
      if (f !== undefined) families.add(f);
    }
    const collected = families.size > 0 ? this.#table.collect(families) : undefined;
    const parts: string[] = [];
    for (const n of names) {
      const entry = this.#entries.get(n)!;
      const f = entry.family;
      if (f === undefined) {
        parts.push(await this.registry.getSingleMetricAsString(entry.exposed));
      } else {
        const got = this.#result(entry, collected!.get(f)!);
        parts.push(
          await (this.registry as unknown as Renders).getMetricsAsString({ get: () => got }),
        );
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
    return this.#root.family(
      full,
      'counter',
      counterName(full),
      help,
      labelNames,
      (f) => new CounterView(f),
    );
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    const full = this.#prefix + name;
    return this.#root.family(full, 'gauge', full, help, labelNames, (f) => new GaugeView(f));
  }

  histogram(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly string[] = [],
  ): Histogram {
    return this.#root.histogram(this.#prefix + name, help, buckets, labelNames);
  }

  encode(): Promise<string> {
    return this.#root.encode(this.#prefix);
  }

  forget(labels: Labels): void {
    this.#root.forget(this.#prefix, labels);
  }
}
