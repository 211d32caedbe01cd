import { randomFillSync } from 'node:crypto';
import type { Context } from '../context.js';
import { RuntimeContext, Scope, type TaskHooks, type TaskInfo, Tasks } from '../core.js';
import { RuntimeError } from '../errors.js';
import { type LogOption, makeLogger } from '../log.js';
import { MetricsRoot } from '../metrics.js';
import { PoolRng } from '../rng.js';
import { TurnQueue } from '../turn.js';
import { nodeClock } from './clock.js';
import { NodeNetwork, type NodeNetworkOptions } from './network.js';
import { afterMicrotasks } from './platform.js';

/** Options of {@link nodeRuntime}. */
export interface NodeRuntimeOptions extends NodeNetworkOptions {
  /** A pino-compatible logger, or a level to write JSON lines to stderr. Default: silent. */
  readonly log?: LogOption;
  /**
   * Called when a spawned task fails with an unexpected error (not after being stopped). When
   * absent, the first such failure fails the run like a panic: everything is stopped and `run`
   * rejects with `RuntimeError('TaskFailed')` whose `cause` is the task's error.
   */
  readonly onTaskError?: (error: unknown, task: TaskInfo) => void;
}

/** The production runtime: real sockets, timers and OS randomness. */
export interface NodeRuntime {
  /**
   * Runs `fn` with a root context. Resolves with its value once it has returned and every task
   * spawned under it has ended (remaining tasks are stopped when `fn` returns); rejects with its
   * error if it throws. Listeners and connections still open at the end are closed, and `run`
   * settles only once they have (their sockets and ports released).
   */
  run<T>(fn: (ctx: Context) => Promise<T>): Promise<T>;
}

/** Creates a Node runtime (see {@link NodeRuntimeOptions}). */
export function nodeRuntime(options: NodeRuntimeOptions = {}): NodeRuntime {
  return {
    run: (fn) => runNode(options, fn),
  };
}

async function runNode<T>(
  options: NodeRuntimeOptions,
  fn: (ctx: Context) => Promise<T>,
): Promise<T> {
  const log = makeLogger(options.log, nodeClock.now);
  const root = new Scope();
  let failure: { error: unknown; task: TaskInfo } | undefined;
  const hooks: TaskHooks = {
    started: (task) => log.trace({ task: task.label, id: task.id }, 'task started'),
    ended: (task, outcome) => log.trace({ task: task.label, id: task.id, outcome }, 'task ended'),
    failed: (task, error) => {
      log.error({ task: task.label, err: error }, 'task failed');
      if (options.onTaskError !== undefined) {
        options.onTaskError(error, task);
      } else if (failure === undefined) {
        failure = { error, task };
        root.abort(new RuntimeError('TaskFailed', `task ${task.label} failed`, { cause: error }));
      }
    },
  };
  const network = new NodeNetwork(options);
  const tasks = new Tasks(hooks);
  const ctx = new RuntimeContext(
    {
      clock: nodeClock,
      rng: new PoolRng(randomFillSync),
      metrics: new MetricsRoot(),
      log,
      hooks: tasks.hooks,
      turn: new TurnQueue(afterMicrotasks, (err) =>
        log.error({ err }, 'end-of-turn callback failed'),
      ),
    },
    tasks,
    '',
    root,
    network,
  );
  const main = tasks.spawn(ctx, fn);
  let outcome: { ok: true; value: T | undefined } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await main.done };
  } catch (error) {
    outcome = { ok: false, error };
  }
  root.abort(new RuntimeError('Shutdown', 'the root function returned'));
  await tasks.idle();
  await network.closeAll();
  if (failure !== undefined) {
    const f = failure as { error: unknown; task: TaskInfo };
    throw new RuntimeError('TaskFailed', `task ${f.task.label} failed`, { cause: f.error });
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.value as T;
}
