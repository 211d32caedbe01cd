import type { Clock, Context, Handle, Logger, Metrics, Network, Rng } from './context.js';
import type { MetricsRoot } from './metrics.js';
import type { TurnQueue } from './turn.js';
import { type Wake, wake } from './wake.js';

/**
 * A cancellation scope: an AbortController plus the scopes spawned beneath it. Aborting a scope
 * aborts its subtree synchronously, parents first (so abort listeners see a consistent tree).
 *
 * The AbortController is created on first use (reading {@link signal}, or aborting with no
 * reason, whose default reason only a controller builds): a task that never looks at its signal
 * (a Node AbortSignal carries an EventTarget and two Maps) costs a plain object. An abort before
 * the signal exists is recorded and replayed when the signal is first read, so observers see
 * the same `aborted`/`reason` either way.
 */
export class Scope {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  readonly #parent: Scope | undefined;
  #children: Set<Scope> | undefined;
  /** Callbacks of {@link onAbort}: none, one inline (the usual case), or a set. */
  #listeners: Wake | Set<Wake> | undefined;

  constructor(parent?: Scope) {
    this.#parent = parent;
    if (parent === undefined) return;
    if (parent.#aborted) {
      this.#aborted = true;
      this.#reason = parent.#reason;
      return;
    }
    parent.#children ??= new Set();
    parent.#children.add(this);
  }

  get signal(): AbortSignal {
    let c = this.#controller;
    if (c === undefined) {
      c = new AbortController();
      this.#controller = c;
      if (this.#aborted) c.abort(this.#reason);
    }
    return c.signal;
  }

  /** Whether the scope was aborted (without creating its signal). */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** The abort reason (undefined while not aborted), without creating the signal. */
  get reason(): unknown {
    return this.#reason;
  }

  /**
   * Calls `fn` (once, synchronously) when the scope aborts, after the signal's own listeners (if
   * the signal exists) and before the subtree aborts; never if it already has. The cheap
   * alternative to a listener on {@link signal}: the AbortController stays uncreated. `fn` may be
   * an object, whose `wake()` is called.
   */
  onAbort(fn: Wake): void {
    if (this.#aborted) return;
    const l = this.#listeners;
    if (l === undefined) this.#listeners = fn;
    else if (l instanceof Set) l.add(fn);
    else this.#listeners = new Set([l, fn]);
  }

  /** Removes a callback of {@link onAbort}. */
  offAbort(fn: Wake): void {
    const l = this.#listeners;
    if (l === fn) this.#listeners = undefined;
    else if (l instanceof Set) l.delete(fn);
  }

  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    if (this.#controller !== undefined || reason === undefined) {
      // The default reason is the controller's own DOMException: build it the same way.
      const signal = this.signal;
      (this.#controller as AbortController).abort(reason);
      this.#reason = signal.reason;
    } else {
      this.#reason = reason;
    }
    const actual: unknown = this.#reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners instanceof Set) for (const fn of listeners) wake(fn);
    else if (listeners !== undefined) wake(listeners);
    const children = this.#children;
    this.#children = undefined;
    if (children !== undefined) for (const c of children) c.abort(actual);
    this.detach();
  }

  /** Unlinks this scope from its parent (its task ended): no reference survives the task. */
  detach(): void {
    const parent = this.#parent;
    if (parent !== undefined) parent.#children?.delete(this);
  }
}

/** How a task ended. */
export type TaskOutcome = 'returned' | 'stopped' | 'failed';

/** A live task as the runtime tracks it. */
export interface TaskInfo {
  /** Sequential id, unique within a run (the root function is task 0). */
  readonly id: number;
  /** The task's label path (`''` for the root function). */
  readonly label: string;
}

/** What a runtime wants to hear about tasks. */
export interface TaskHooks {
  started(task: TaskInfo): void;
  ended(task: TaskInfo, outcome: TaskOutcome): void;
  /** An unexpected failure of a task that was not stopped (never the root function). */
  failed(task: TaskInfo, error: unknown): void;
}

/** The per-runtime services every context shares. */
export interface CoreServices {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly metrics: MetricsRoot;
  readonly log: Logger;
  readonly hooks: TaskHooks;
  /** The end-of-turn callbacks of {@link Context.endOfTurn}. */
  readonly turn: TurnQueue;
}

const LABEL = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Joined labels kept by {@link internLabel}: a program has few distinct ones. */
const LABELS = new Map<string, string>();
const LABELS_MAX = 1024;

/**
 * `${parent}_${label}`, one flat string per distinct result: every task of a kind (thousands of
 * `..._peer` tasks) shares it, where each would keep its own concatenation (two cons strings).
 * Past {@link LABELS_MAX} distinct labels, the rest are not kept.
 */
function internLabel(parent: string, label: string): string {
  // `join` builds a flat string (a template literal would make cons strings).
  const joined = [parent, label].join('_');
  const known = LABELS.get(joined);
  if (known !== undefined) return known;
  if (LABELS.size < LABELS_MAX) LABELS.set(joined, joined);
  return joined;
}

function noop(): void {}

/** How a task settled, kept until (unless) its `done` promise is asked for. */
type Settled<T> =
  | { readonly ok: true; readonly value: T | undefined }
  | { readonly ok: false; readonly error: unknown };

/**
 * @internal How a callback task ends (see {@link RuntimeContext.spawnCallback}): it calls one of
 * these once (later calls are ignored), as an async task's promise settles once.
 */
export interface TaskEnd<T> {
  /** The task returned `value`. */
  returned(value: T): void;
  /** The task threw `error` (the scope's abort reason counts as stopped, as for any task). */
  threw(error: unknown): void;
}

/** A callback task's start: runs on a microtask; ends by calling `end` (or by throwing). */
export type TaskStart<T> = (ctx: Context, end: TaskEnd<T>) => void;

class Task<T> implements TaskInfo, Handle<T>, TaskEnd<T> {
  readonly id: number;
  readonly label: string;
  readonly #scope: Scope;
  readonly #tasks: Tasks;
  /** The outcome, once settled (`done` made later replays it). */
  #settled: Settled<T> | undefined;
  #done: Promise<T | undefined> | undefined;
  #resolve: ((value: T | undefined) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;

  constructor(
    tasks: Tasks,
    id: number,
    ctx: RuntimeContext,
    fn: ((ctx: Context) => Promise<T>) | undefined,
    start?: TaskStart<T>,
  ) {
    this.id = id;
    this.label = ctx.label;
    this.#scope = ctx.scope;
    this.#tasks = tasks;
    // Start on a microtask: the spawner gets its handle first, and a synchronous throw in `fn`
    // becomes a failure like any other. One reaction on `fn`'s promise; `done` is made only if
    // someone reads it (thousands of peer tasks are never awaited one by one). A callback task
    // (`start`) has no promise at all: it calls `returned`/`threw` on this object.
    queueMicrotask(() => {
      let result: Promise<T>;
      try {
        if (fn === undefined) {
          (start as TaskStart<T>)(ctx, this);
          return;
        }
        result = Promise.resolve(fn(ctx));
      } catch (error) {
        this.threw(error);
        return;
      }
      this.#watch(result);
    });
  }

  /** The one reaction on the task's promise (its closures hold the task, not `fn` or `ctx`). */
  #watch(result: Promise<T>): void {
    result.then(
      (value) => this.returned(value),
      (error: unknown) => this.threw(error),
    );
  }

  /**
   * Settles when the task has ended (see {@link Handle.done}). Made at the first read; always
   * observed by the runtime, so an ignored failure is never an unhandled rejection.
   */
  get done(): Promise<T | undefined> {
    let done = this.#done;
    if (done === undefined) {
      const settled = this.#settled;
      if (settled === undefined) {
        done = new Promise<T | undefined>((resolve, reject) => {
          this.#resolve = resolve;
          this.#reject = reject;
        });
      } else {
        done = settled.ok ? Promise.resolve(settled.value) : Promise.reject(settled.error);
      }
      done.catch(noop);
      this.#done = done;
    }
    return done;
  }

  stop(reason?: unknown): void {
    this.#scope.abort(reason);
  }

  #settle(settled: Settled<T>): void {
    this.#settled = settled;
    const resolve = this.#resolve;
    const reject = this.#reject;
    this.#resolve = undefined;
    this.#reject = undefined;
    if (settled.ok) resolve?.(settled.value);
    else reject?.(settled.error);
  }

  /** @internal {@link TaskEnd.returned}; the first of `returned`/`threw` counts. */
  returned(value: T): void {
    if (this.#settled !== undefined) return;
    this.#tasks.end(this, this.#scope, 'returned');
    this.#settle({ ok: true, value });
  }

  /** @internal {@link TaskEnd.threw}; the first of `returned`/`threw` counts. */
  threw(error: unknown): void {
    if (this.#settled !== undefined) return;
    const scope = this.#scope;
    if (scope.aborted && error === scope.reason) {
      this.#tasks.end(this, scope, 'stopped');
      this.#settle({ ok: true, value: undefined });
      return;
    }
    this.#tasks.end(this, scope, 'failed');
    // Errors raised while a task unwinds after being stopped (a closed socket, a closed listener)
    // are shutdown noise: `done` still rejects with them, but the runtime does not fail.
    if (!scope.aborted && this.id !== 0) this.#tasks.hooks.failed(this, error);
    this.#settle({ ok: false, error });
  }
}

/** The set of live tasks of one runtime. */
export class Tasks {
  readonly hooks: TaskHooks;
  readonly #live = new Map<number, TaskInfo>();
  #nextId = 0;
  #idle: (() => void)[] = [];

  constructor(hooks: TaskHooks) {
    this.hooks = hooks;
  }

  spawn<T>(
    ctx: RuntimeContext,
    fn: ((ctx: Context) => Promise<T>) | undefined,
    start?: TaskStart<T>,
  ): Handle<T> {
    const task = new Task(this, this.#nextId++, ctx, fn, start);
    this.#live.set(task.id, task);
    this.hooks.started(task);
    return task;
  }

  /** @internal */
  end(task: TaskInfo, scope: Scope, outcome: TaskOutcome): void {
    scope.detach();
    this.#live.delete(task.id);
    this.hooks.ended(task, outcome);
    if (this.#live.size === 0 && this.#idle.length > 0) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const w of waiters) w();
    }
  }

  /** Number of live tasks. */
  get size(): number {
    return this.#live.size;
  }

  /** The live tasks, in spawn order. */
  live(): TaskInfo[] {
    return [...this.#live.values()];
  }

  /** Resolves once no task is live. */
  idle(): Promise<void> {
    if (this.#live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}

/** The one {@link Context} implementation both runtimes hand out. */
export class RuntimeContext implements Context {
  readonly label: string;
  readonly network: Network;
  /** @internal */
  readonly scope: Scope;
  /** @internal */
  readonly core: CoreServices;
  /** @internal */
  readonly tasks: Tasks;
  #metrics: Metrics | undefined;
  #log: Logger | undefined;

  constructor(core: CoreServices, tasks: Tasks, label: string, scope: Scope, network: Network) {
    this.core = core;
    this.tasks = tasks;
    this.label = label;
    this.scope = scope;
    this.network = network;
  }

  // The runtime's, read through `core`: two fields fewer per context (one per task).
  get clock(): Clock {
    return this.core.clock;
  }

  get rng(): Rng {
    return this.core.rng;
  }

  /** The task's stop signal (created on first read: see {@link Scope}). */
  get signal(): AbortSignal {
    return this.scope.signal;
  }

  get metrics(): Metrics {
    this.#metrics ??= this.core.metrics.view(this.label);
    return this.#metrics;
  }

  get log(): Logger {
    this.#log ??= this.label === '' ? this.core.log : this.core.log.child({ label: this.label });
    return this.#log;
  }

  #join(label: string): string {
    if (!LABEL.test(label)) {
      throw new TypeError(`invalid label ${JSON.stringify(label)}: use [A-Za-z][A-Za-z0-9_]*`);
    }
    return this.label === '' ? label : internLabel(this.label, label);
  }

  child(label: string): Context {
    return new RuntimeContext(this.core, this.tasks, this.#join(label), this.scope, this.network);
  }

  endOfTurn(fn: () => void): void {
    this.core.turn.defer(fn);
  }

  /** @internal The runtime's end-of-turn queue (see `turnsOf`). */
  get turns(): TurnQueue {
    return this.core.turn;
  }

  spawn<T>(label: string, fn: (ctx: Context) => Promise<T>): Handle<T> {
    return this.tasks.spawn(this.#childContext(label), fn);
  }

  /**
   * @internal {@link spawn} for a task driven by callbacks: `start(ctx, end)` runs on a
   * microtask and the task ends when it calls `end.returned(value)` or `end.threw(error)` (or
   * throws). The same task as `spawn` makes (label, scope, handle, failure reporting) without
   * the promise, its reaction and the resolving functions an async task holds while it waits:
   * the form for thousands of long-lived per-connection tasks.
   */
  spawnCallback<T>(label: string, start: TaskStart<T>): Handle<T> {
    return this.tasks.spawn(this.#childContext(label), undefined, start);
  }

  #childContext(label: string): RuntimeContext {
    return new RuntimeContext(
      this.core,
      this.tasks,
      this.#join(label),
      new Scope(this.scope),
      this.network,
    );
  }

  /** The same context (label, signal, services) with another network. */
  withNetwork(network: Network): RuntimeContext {
    return new RuntimeContext(this.core, this.tasks, this.label, this.scope, network);
  }
}
