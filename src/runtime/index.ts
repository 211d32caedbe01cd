/**
 * The runtime: everything a module takes from the outside world (time, randomness, sockets,
 * task spawning, metrics, logging) comes through a {@link Context}, so the same code runs on
 * real sockets in production and under a deterministic simulator in tests.
 *
 * ## Design
 *
 * - **Tasks form a tree.** `ctx.spawn(label, fn)` runs `fn` in a child context with its own
 *   cancellation scope linked to the parent: stopping a handle (or the runtime) aborts that
 *   task's `signal` and every task beneath it. Tasks treat abort as graceful shutdown. A task
 *   that ends by throwing its own abort reason counts as stopped, not failed. The runtime always
 *   observes `Handle.done`, so an ignored failure never becomes an unhandled rejection; an
 *   unexpected failure is reported to the runtime (the deterministic runtime fails the run, as a
 *   panic does in commonware; the Node runtime does the same unless `onTaskError` is given).
 * - **`run` owns its tasks.** It resolves once the root function has returned and every task
 *   has ended: tasks still running when the root returns are stopped and awaited. Listeners
 *   and connections left open are closed.
 * - **Labels prefix metrics.** `ctx.child('peer1')` registers metrics as `peer1_<name>`, so
 *   several networks share one registry; registering a name twice returns the same metric.
 * - **Connections** are duplex byte streams with exact-length reads (`recv(n)`), a non-consuming
 *   `peek`, batched writes with backpressure, read and write timeouts (60 s by default), and a
 *   bounded receive buffer. Any error poisons both halves.
 *
 * ## Runtimes
 *
 * - {@link nodeRuntime}: node:net TCP (no-delay), real timers, node:crypto randomness,
 *   dns.promises.
 * - {@link deterministicRuntime}: a virtual clock that jumps to the next timer only when every
 *   promise continuation has run, a seeded ChaCha20 RNG, an in-memory network with per-link
 *   delay, cut and reset hooks ({@link simulatedNetwork}), stall detection, and a digest of
 *   every event: the same seed and program give the same result and digest.
 *
 * @example
 * ```ts
 * import { deterministicRuntime } from 'authp2p/runtime';
 *
 * const { result, digest } = await deterministicRuntime({ seed: 7 }).run(async (ctx) => {
 *   const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
 *   const server = ctx.spawn('server', async () => {
 *     const conn = await listener.accept(ctx.signal);
 *     return conn.stream.recv(5);
 *   });
 *   const conn = await ctx.network.dial(listener.address);
 *   await conn.sink.send(new TextEncoder().encode('hello'));
 *   await ctx.clock.sleep(60 * 60 * 1000); // an hour of virtual time, instantly
 *   return new TextDecoder().decode(await server.done);
 * });
 * ```
 *
 * @module authp2p/runtime
 */

export type {
  ByteReader,
  Clock,
  Connection,
  Context,
  Counter,
  Gauge,
  Handle,
  Histogram,
  Labels,
  Listener,
  Logger,
  Metrics,
  Network,
  Rng,
  Sink,
  SocketAddr,
  Stream,
} from './context.js';
export type { TaskInfo, TaskOutcome } from './core.js';
export type {
  SimulatedConnectionInfo,
  SimulatedNetwork,
  SimulatedNetworkOptions,
} from './deterministic/network.js';
export {
  type DeterministicResult,
  type DeterministicRuntime,
  type DeterministicRuntimeOptions,
  deterministicRuntime,
  simulatedNetwork,
} from './deterministic/runtime.js';
export { RuntimeError, type RuntimeErrorCode } from './errors.js';
export { runningTasks, withNetwork } from './helpers.js';
export { JsonLogger, type LogLevel, type LogOption, silentLogger } from './log.js';
export type { NodeNetworkOptions } from './node/network.js';
export { type NodeRuntime, type NodeRuntimeOptions, nodeRuntime } from './node/runtime.js';
export { withTimeout } from './timeout.js';
