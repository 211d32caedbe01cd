import type { Context, Network } from './context.js';
import { RuntimeContext } from './core.js';

function own(ctx: Context): RuntimeContext {
  if (!(ctx instanceof RuntimeContext)) throw new TypeError('not a context of an authp2p runtime');
  return ctx;
}

/**
 * The same context (label, signal, clock, metrics) with another network: for example
 * `withNetwork(ctx, simulatedNetwork(ctx).host('10.0.0.2'))` makes a simulated node dial from
 * its own IP. Children and tasks of the result inherit the network.
 */
export function withNetwork(ctx: Context, network: Network): Context {
  return own(ctx).withNetwork(network);
}

/** The labels of the tasks of `ctx`'s runtime that are still running, in spawn order. */
export function runningTasks(ctx: Context): string[] {
  return own(ctx)
    .tasks.live()
    .map((t) => t.label);
}
