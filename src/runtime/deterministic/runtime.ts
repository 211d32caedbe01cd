import { createCipheriv, createHash } from 'node:crypto';
import type { Context } from '../context.js';
import {
  type CoreServices,
  RuntimeContext,
  Scope,
  type TaskHooks,
  type TaskInfo,
  Tasks,
} from '../core.js';
import { RuntimeError } from '../errors.js';
import { type LogOption, makeLogger } from '../log.js';
import { MetricsRoot } from '../metrics.js';
import { afterMicrotasks, macrotask } from '../node/platform.js';
import { PoolRng } from '../rng.js';
import { TurnQueue } from '../turn.js';
import { Digest, EVENT } from './digest.js';
import { SimNetwork, type SimulatedNetwork, type SimulatedNetworkOptions } from './network.js';
import { Scheduler } from './scheduler.js';

/** Options of {@link deterministicRuntime}. */
export interface DeterministicRuntimeOptions extends SimulatedNetworkOptions {
  /** The seed of the RNG: a safe non-negative integer or a u64 bigint. */
  readonly seed: number | bigint;
  /** Virtual time at the start, in ms since the Unix epoch. Default 1 700 000 000 000. */
  readonly startTime?: number;
  /**
   * Fail the run with `RuntimeError('Timeout')` rather than let virtual time pass this many ms
   * after `startTime` (guards against programs that never finish). Default: no limit.
   */
  readonly timeLimitMs?: number;
  /** A pino-compatible logger, or a level for JSON lines (stamped with virtual time). Default silent. */
  readonly log?: LogOption;
}

/** The outcome of a deterministic run. */
export interface DeterministicResult<T> {
  readonly result: T;
  /** Hex SHA-256 over every event of the run: equal for equal seeds and programs. */
  readonly digest: string;
}

/** A deterministic runtime: virtual time, seeded randomness, an in-memory network. */
export interface DeterministicRuntime {
  /**
   * Runs `fn` to completion in virtual time. Resolves once `fn` has returned and every task has
   * ended (remaining tasks are stopped when `fn` returns). Rejects with `fn`'s error, with
   * `RuntimeError('TaskFailed')` if a task fails unexpectedly (after stopping everything), or
   * with `RuntimeError('Stalled')` when tasks wait and nothing can ever wake them.
   */
  run<T>(fn: (ctx: Context) => Promise<T>): Promise<DeterministicResult<T>>;
}

const sims = new WeakMap<CoreServices, SimNetwork>();

/** Who a throwing {@link Context.endOfTurn} callback is reported as. */
const END_OF_TURN: TaskInfo = { id: -1, label: '<end of turn>' };

/**
 * The test hooks of the in-memory network behind `ctx` (link delays, DNS, cut and reset).
 * Throws a TypeError for a context that does not come from a deterministic runtime.
 */
export function simulatedNetwork(ctx: Context): SimulatedNetwork {
  const sim = ctx instanceof RuntimeContext ? sims.get(ctx.core) : undefined;
  if (sim === undefined) throw new TypeError('not a deterministic runtime context');
  return sim;
}

/** Creates a deterministic runtime (see {@link DeterministicRuntimeOptions}). */
export function deterministicRuntime(options: DeterministicRuntimeOptions): DeterministicRuntime {
  const key = seedKey(options.seed);
  return {
    run: (fn) => runDeterministic(options, key, fn),
  };
}

function seedKey(seed: number | bigint): Buffer {
  const big = typeof seed === 'bigint' ? seed : BigInt(seed);
  if ((typeof seed === 'number' && !Number.isSafeInteger(seed)) || big < 0n || big >= 1n << 64n) {
    throw new RangeError(`seed must be a u64, got ${seed}`);
  }
  const le = Buffer.alloc(8);
  le.writeBigUInt64LE(big);
  return createHash('sha256').update('authp2p/runtime/deterministic/rng').update(le).digest();
}

/** A ChaCha20 keystream under the seed's key: fast, and as good as randomness gets. */
function chachaSource(key: Buffer): (buf: Uint8Array) => void {
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(4096);
  return (buf) => {
    for (let off = 0; off < buf.length; off += zeros.length) {
      const n = Math.min(zeros.length, buf.length - off);
      buf.set(cipher.update(zeros.subarray(0, n)), off);
    }
  };
}

const OUTCOME = { returned: 0, stopped: 1, failed: 2 } as const;

async function runDeterministic<T>(
  options: DeterministicRuntimeOptions,
  key: Buffer,
  fn: (ctx: Context) => Promise<T>,
): Promise<DeterministicResult<T>> {
  const startTime = options.startTime ?? 1_700_000_000_000;
  const limit = startTime + (options.timeLimitMs ?? Number.POSITIVE_INFINITY);
  const digest = new Digest();
  const scheduler = new Scheduler(startTime, digest);
  const network = new SimNetwork(scheduler, digest, options);
  const root = new Scope();
  let failure: { task: TaskInfo; error: unknown } | undefined;
  const hooks: TaskHooks = {
    started: (task) => {
      digest.kind(EVENT.taskStart).f64(task.id).str(task.label);
    },
    ended: (task, outcome) => {
      digest.kind(EVENT.taskEnd).f64(task.id).f64(OUTCOME[outcome]);
    },
    failed: (task, error) => {
      // Like a panic in commonware's deterministic runtime: the first failure ends the run.
      if (failure !== undefined) return;
      failure = { task, error };
      root.abort(new RuntimeError('TaskFailed', `task ${task.label} failed`, { cause: error }));
    },
  };
  const core: CoreServices = {
    clock: scheduler,
    rng: new PoolRng(chachaSource(key)),
    metrics: new MetricsRoot(),
    log: makeLogger(options.log, () => scheduler.now()),
    hooks,
    // A throwing end-of-turn callback fails the run like a failed task.
    turn: new TurnQueue(
      afterMicrotasks,
      (error) => hooks.failed(END_OF_TURN, error),
      (count) => digest.kind(EVENT.endOfTurn).f64(count),
    ),
  };
  sims.set(core, network);
  const tasks = new Tasks(hooks);
  const ctx = new RuntimeContext(core, tasks, '', root, network.host('127.0.0.1'));

  let outcome: { ok: true; value: T | undefined } | { ok: false; error: unknown } | undefined;
  tasks.spawn(ctx, fn).done.then(
    (value) => {
      outcome = { ok: true, value };
    },
    (error: unknown) => {
      outcome = { ok: false, error };
    },
  );

  let stopping = false;
  let fatal: RuntimeError | undefined;
  for (;;) {
    // Let every promise continuation run: only then is the program really waiting.
    await macrotask();
    if (!stopping && (outcome !== undefined || failure !== undefined)) {
      stopping = true;
      if (failure === undefined)
        root.abort(new RuntimeError('Shutdown', 'the root function returned'));
      continue;
    }
    if (stopping && tasks.size === 0) break;
    const next = scheduler.next();
    if (next === undefined) {
      const waiting = tasks.live().map((t) => (t.label === '' ? '<root>' : t.label));
      fatal = new RuntimeError(
        'Stalled',
        `${stopping ? 'tasks did not stop' : 'deadlock'} at virtual time ${scheduler.now()}: ` +
          `nothing is runnable and no timer or delivery is pending; waiting tasks: ${waiting.join(', ')}`,
      );
      break;
    }
    if (next > limit) {
      fatal = new RuntimeError(
        'Timeout',
        `virtual time limit of ${options.timeLimitMs} ms reached`,
      );
      break;
    }
    scheduler.step();
  }
  network.closeAll();
  if (fatal !== undefined) throw fatal;
  if (failure !== undefined) {
    const f = failure as { task: TaskInfo; error: unknown };
    throw new RuntimeError('TaskFailed', `task ${f.task.label} failed`, { cause: f.error });
  }
  if (outcome === undefined) throw new RuntimeError('Stalled', 'the root function never settled');
  if (!outcome.ok) throw outcome.error;
  return { result: outcome.value as T, digest: digest.hex() };
}
