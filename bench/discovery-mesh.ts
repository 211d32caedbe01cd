/**
 * Discovery convergence measurements for bench/discovery.ts: `n` discovery peers that know only
 * peer 0's address (peer 0 knows nobody's) register the same set of all `n` and find each other
 * by gossip, on the deterministic runtime (simulated network, virtual time) or on loopback TCP
 * under the Node runtime (one process).
 *
 * "Peer p knows q" means p's tracker took an `Info` of q: its `updates{peer=q}` counter is at
 * least 1 (a greeting or a gossiped record, the only ways an `Info` reaches the tracker).
 *
 * @module
 */

import { performance } from 'node:perf_hooks';
import { ed25519 } from '../src/crypto/index.js';
import type { ConfigInput } from '../src/p2p/authenticated/discovery/config.js';
import { Config } from '../src/p2p/authenticated/discovery/config.js';
import { Network } from '../src/p2p/authenticated/discovery/network.js';
import type { Oracle } from '../src/p2p/authenticated/discovery/oracle.js';
import { Quota } from '../src/quota/index.js';
import type { Context, Counter, Handle } from '../src/runtime/index.js';
import {
  deterministicRuntime,
  nodeRuntime,
  simulatedNetwork,
  withNetwork,
} from '../src/runtime/index.js';
import { freePorts } from './common.js';

const NAMESPACE = new TextEncoder().encode('authp2p-discovery-bench');

/** Config overrides a measurement may apply (stated in its output). */
export type Overrides = Omit<Partial<ConfigInput>, 'signer' | 'namespace'>;

interface MeshPeer {
  readonly pk: ed25519.PublicKey;
  readonly hex: string;
  readonly address: string;
  readonly network: Network;
  readonly oracle: Oracle;
  readonly handle: Handle<void>;
  readonly updates: Counter;
  /** Indices of the peers whose `Info` this one has not taken yet. */
  unknown: number[];
}

function startPeer(
  ctx: Context,
  i: number,
  ip: string,
  port: number,
  boot: MeshPeer | undefined,
  n: number,
  overrides: Overrides,
): MeshPeer {
  const key = ed25519.PrivateKey.fromSeed(BigInt(i + 1));
  const address = `${ip}:${port}`;
  const config = Config.local({
    signer: key,
    namespace: NAMESPACE,
    listen: address,
    dialable: address,
    bootstrappers: boot === undefined ? [] : [[boot.pk, boot.address] as const],
    maxPeersPerSet: n + 1,
    maxMessageSize: 1024,
    ...overrides,
  });
  const [network, oracle] = Network.create(ctx, config);
  network.register(0, Quota.perSecond(1000));
  const handle = network.start();
  const updates = ctx.child('network').child('tracker').metrics.counter('updates', '', ['peer']);
  return {
    pk: key.publicKey,
    hex: key.publicKey.toHex(),
    address,
    network,
    oracle,
    handle,
    updates,
    unknown: [],
  };
}

/** Prunes each peer's unknown list; returns how many (peer, record) pairs are still unknown. */
function stillUnknown(peers: readonly MeshPeer[]): number {
  let missing = 0;
  for (const p of peers) {
    p.unknown = p.unknown.filter((j) => p.updates.get({ peer: peers[j]!.hex }) < 1);
    missing += p.unknown.length;
  }
  return missing;
}

function fullMesh(peers: readonly MeshPeer[]): boolean {
  for (const p of peers) if (p.network.connectedPeers().length < peers.length - 1) return false;
  return true;
}

function connections(peers: readonly MeshPeer[]): number {
  let c = 0;
  for (const p of peers) c += p.network.connectedPeers().length;
  return c / 2;
}

/** What {@link converge} measures. */
export interface Convergence {
  n: number;
  seed: number;
  gossipMs: number;
  /** Virtual (deterministic) or wall (loopback) ms from the start until every peer knew all. */
  knownAtMs: number | undefined;
  /** knownAtMs / gossipMs. */
  rounds: number | undefined;
  /** Ms until every peer was connected to every other (if measured and reached). */
  meshAtMs: number | undefined;
  /** Connections (each counted once) when every record was known. */
  connectionsAtKnown: number | undefined;
  /** Unknown (peer, record) pairs when the run ended (0 if converged). */
  missingAtEnd: number;
  /** Wall time of the run (s). */
  wallS: number;
  /** Heap used at the end (MiB). */
  heapMiB: number;
  overrides: Overrides;
  stoppedBy: string | undefined;
  /** Longest wall time of one pass over the counters (the bench's own cost). */
  pollMaxMs: number;
  /** Connections (each counted once) at the end, and every 10 s while waiting for the mesh. */
  connectionsAtEnd: number;
  timeline: [ms: number, connections: number][];
  /**
   * While waiting for every record to be known, every 10 s of the runtime's clock: unknown
   * (peer, record) pairs, connections, heap used (MiB) and wall time (s) so far.
   */
  progress: [ms: number, missing: number, connections: number, heapMiB: number, wallS: number][];
}

/** Options of {@link converge}. */
export interface ConvergeOptions {
  readonly n: number;
  readonly seed?: number;
  /** `deterministic`: simulated network, virtual time; `loopback`: TCP on 127.0.0.1. */
  readonly runtime: 'deterministic' | 'loopback';
  /** Also wait for a full mesh after every record is known. */
  readonly mesh?: boolean;
  /** Bound in (virtual or wall) ms of the measured time. */
  readonly limitMs: number;
  /** Bound in wall ms of the whole run. */
  readonly wallLimitMs: number;
  /** Polling step (ms of the runtime's clock). */
  readonly stepMs?: number;
  readonly overrides?: Overrides;
  /** Called with each {@link Convergence.progress} sample (e.g. to log it). */
  readonly onProgress?: (sample: Convergence['progress'][number]) => void;
}

/**
 * Starts `n` peers bootstrapped from peer 0, registers the set of all of them at index 0 on
 * every peer, and polls until every peer knows every record (then, with `mesh`, until a full
 * mesh), within `limitMs` of the runtime's clock and `wallLimitMs` of wall time.
 */
export async function converge(opts: ConvergeOptions): Promise<Convergence> {
  const overrides = opts.overrides ?? {};
  const n = opts.n;
  const seed = opts.seed ?? 0;
  const stepMs = opts.stepMs ?? 100;
  const ports = opts.runtime === 'loopback' ? await freePorts(n) : [];
  const wall0 = performance.now();
  const body = async (root: Context): Promise<Convergence> => {
    const peers: MeshPeer[] = [];
    for (let i = 0; i < n; i++) {
      const deterministic = opts.runtime === 'deterministic';
      // 10.0.x.y with y in 1..200: never a network or broadcast address.
      const ip = deterministic ? `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}` : '127.0.0.1';
      const ctx = deterministic
        ? withNetwork(root.child(`p${i}`), simulatedNetwork(root).host(ip))
        : root.child(`p${i}`);
      peers.push(startPeer(ctx, i, ip, deterministic ? 3000 : ports[i]!, peers[0], n, overrides));
    }
    const keys = peers.map((p) => p.pk);
    for (const [i, p] of peers.entries()) {
      p.unknown = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
      p.oracle.register(0, keys);
    }
    const gossipMs = Config.local({
      signer: ed25519.PrivateKey.fromSeed(1n),
      namespace: NAMESPACE,
      listen: '127.0.0.1:1',
      dialable: '127.0.0.1:1',
      bootstrappers: [],
      maxPeersPerSet: n + 1,
      maxMessageSize: 1024,
      ...overrides,
    }).gossipBitVecFrequencyMs;
    const clock = root.clock;
    const t0 = clock.now();
    const result: Convergence = {
      n,
      seed,
      gossipMs,
      knownAtMs: undefined,
      rounds: undefined,
      meshAtMs: undefined,
      connectionsAtKnown: undefined,
      missingAtEnd: n * (n - 1),
      wallS: 0,
      heapMiB: 0,
      overrides,
      stoppedBy: undefined,
      pollMaxMs: 0,
      connectionsAtEnd: 0,
      timeline: [],
      progress: [],
    };
    const bounded = (): string | undefined => {
      if (clock.now() - t0 > opts.limitMs) return `limit of ${opts.limitMs} ms`;
      if (performance.now() - wall0 > opts.wallLimitMs)
        return `wall limit of ${opts.wallLimitMs} ms`;
      return undefined;
    };
    let nextProgress = 0;
    for (;;) {
      const p0 = performance.now();
      const missing = stillUnknown(peers);
      result.pollMaxMs = Math.max(result.pollMaxMs, performance.now() - p0);
      result.missingAtEnd = missing;
      const t = clock.now() - t0;
      if (t >= nextProgress || missing === 0) {
        const sample: Convergence['progress'][number] = [
          Math.round(t),
          missing,
          connections(peers),
          Math.round(process.memoryUsage().heapUsed / 1048576),
          Math.round((performance.now() - wall0) / 1000),
        ];
        result.progress.push(sample);
        opts.onProgress?.(sample);
        nextProgress = t + 10_000;
      }
      if (missing === 0) {
        result.knownAtMs = clock.now() - t0;
        result.rounds = result.knownAtMs / gossipMs;
        result.connectionsAtKnown = connections(peers);
        break;
      }
      result.stoppedBy = bounded();
      if (result.stoppedBy !== undefined) break;
      await clock.sleep(stepMs);
    }
    if (opts.mesh === true && result.knownAtMs !== undefined) {
      let nextSample = 0;
      for (;;) {
        const t = clock.now() - t0;
        if (t >= nextSample) {
          result.timeline.push([Math.round(t), connections(peers)]);
          nextSample = t + 10_000;
        }
        if (fullMesh(peers)) {
          result.meshAtMs = clock.now() - t0;
          break;
        }
        result.stoppedBy = bounded();
        if (result.stoppedBy !== undefined) break;
        await clock.sleep(stepMs);
      }
    }
    result.connectionsAtEnd = connections(peers);
    result.heapMiB = process.memoryUsage().heapUsed / 1048576;
    for (const p of peers) p.handle.stop();
    await Promise.all(peers.map((p) => p.handle.done.catch(() => undefined)));
    result.wallS = (performance.now() - wall0) / 1000;
    return result;
  };
  if (opts.runtime === 'deterministic') {
    return (await deterministicRuntime({ seed }).run(body)).result;
  }
  return nodeRuntime().run(body);
}
