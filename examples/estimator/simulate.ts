/**
 * Runs a scenario on the simulated network (`authp2p/simulated`): one run per proposer, every
 * peer executing the scenario's commands in order on the deterministic runtime's virtual clock.
 * A peer's sample for a line is the virtual time (ms) from the start of the run until it
 * completed that line; a peer that does not reach a threshold within `timeoutMs` records a
 * timeout for that line and every later one.
 *
 * The network is reached through {@link SimulatedApi}, the part of `authp2p/simulated` the
 * estimator uses (API.md "Simulated network"), so this file depends only on its shape.
 */

import { ed25519 } from '../../src/crypto/index.js';
import type { Recipients as RecipientsType } from '../../src/p2p/types.js';
import { Recipients } from '../../src/p2p/types.js';
import type { ChannelReceiver, ChannelSender } from '../../src/p2p/utils/index.js';
import { Quota } from '../../src/quota/index.js';
import type { Context, Handle } from '../../src/runtime/context.js';
import { deterministicRuntime } from '../../src/runtime/index.js';
import type { PlacedPeer } from './distribution.js';
import type { LatencyTable } from './latency.js';
import { type Command, MAX_SIZE, required, type Scenario } from './scenario.js';

type PublicKey = ed25519.PublicKey;

/** The link options of `oracle.addLink` (ms, ms, probability). */
export interface LinkOptions {
  readonly latency: number;
  readonly jitter: number;
  readonly successRate: number;
}

/** The simulated network's oracle, as far as the estimator uses it. */
export interface SimulatedOracle {
  control(peer: PublicKey): {
    register(channel: number, quota: Quota): [ChannelSender, ChannelReceiver];
  };
  manager(): { register(index: number, peers: PublicKey[]): unknown };
  addLink(from: PublicKey, to: PublicKey, options: LinkOptions): Promise<void>;
  /** Adds many links at once, where the network offers it (faster than one call per link). */
  addLinks?(links: Iterable<readonly [PublicKey, PublicKey, LinkOptions]>): Promise<void>;
  limitBandwidth(peer: PublicKey, egress: number | null, ingress: number | null): Promise<void>;
}

/** The configuration `simulated.Network.create` takes. */
export interface SimulatedConfig {
  readonly maxSize: number;
  readonly maxPeersPerSet: number;
  readonly disconnectOnBlock: boolean;
  readonly trackedPeerSets: number;
}

/** `simulated.Network.create`, as far as the estimator uses it. */
export type SimulatedApi = (
  ctx: Context,
  config: SimulatedConfig,
) => [{ start(): Handle<void> }, SimulatedOracle];

/** Options of a run. */
export interface RunOptions {
  /** Probability that a message is delivered on every link (default 1). */
  readonly successRate?: number;
  /** Virtual ms a run may take before its unfinished waits count as timeouts (default 60 000). */
  readonly timeoutMs?: number;
}

/** One peer's completion time of one line: ms since the start, or `null` on timeout. */
export type Sample = number | null;

/**
 * Samples of one run: `samples[c][p]` is peer `p`'s sample for command `c`, or `undefined` if
 * the command does not apply to that peer (a `propose` or `collect` of another peer).
 */
export type RunSamples = (Sample | undefined)[][];

/** Whether `cmd` applies to a peer, given whether that peer is the proposer. */
export function applies(cmd: Command, isProposer: boolean): boolean {
  return (cmd.op !== 'propose' && cmd.op !== 'collect') || isProposer;
}

/** The deterministic test key of a placed peer. */
export function keyOf(peer: PlacedPeer): ed25519.PrivateKey {
  return ed25519.PrivateKey.fromSeed(BigInt(peer.index + 1));
}

class Tally {
  /** Distinct senders (hex) heard per message tag, own copy included. */
  readonly #from: Set<string>[];
  constructor(ids: number) {
    this.#from = Array.from({ length: ids }, () => new Set<string>());
  }
  add(tag: number, hex: string): void {
    this.#from[tag]?.add(hex);
  }
  count(tag: number): number {
    return this.#from[tag]!.size;
  }
}

/**
 * One run of `scenario` with `proposer` (an index into `peers`) under `ctx`: builds the
 * simulated network (one peer set of everyone, a link per ordered pair from `table`, bandwidth
 * limits from the placement), runs every peer and returns the samples.
 */
export async function runOnce(
  ctx: Context,
  create: SimulatedApi,
  peers: readonly PlacedPeer[],
  table: LatencyTable,
  scenario: Scenario,
  proposer: number,
  options: RunOptions = {},
): Promise<RunSamples> {
  const successRate = options.successRate ?? 1;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const n = peers.length;
  const keys = peers.map((p) => keyOf(p).publicKey);
  const hexes = keys.map((k) => k.toHex());
  const [network, oracle] = create(ctx.child('sim'), {
    maxSize: MAX_SIZE + 1,
    maxPeersPerSet: n,
    disconnectOnBlock: true,
    trackedPeerSets: 1,
  });
  const handle = network.start();
  // Every command may send once to each peer at the same instant: the burst allows it.
  const quota = Quota.perSecond(1000).allowBurst(scenario.commands.length + 1);
  const channels = keys.map((k) => oracle.control(k).register(0, quota));
  oracle.manager().register(0, keys);
  const links: [PublicKey, PublicKey, LinkOptions][] = [];
  const setup: Promise<void>[] = [];
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      if (a === b) continue;
      const link = table.link(peers[a]!.region, peers[b]!.region);
      links.push([keys[a]!, keys[b]!, { ...link, successRate }]);
    }
    const p = peers[a]!;
    if (p.egress !== null || p.ingress !== null) {
      setup.push(oracle.limitBandwidth(keys[a]!, p.egress, p.ingress));
    }
  }
  if (oracle.addLinks !== undefined) setup.push(oracle.addLinks(links));
  else for (const [a, b, link] of links) setup.push(oracle.addLink(a, b, link));
  await Promise.all(setup);

  const samples: RunSamples = scenario.commands.map(() => new Array(n).fill(undefined));
  const tags = new Map(scenario.ids.map((id, i) => [id, i]));
  const start = ctx.clock.now();
  // One controller per peer: a signal shared by every waiting peer would collect a listener each.
  const deadlines = peers.map(() => new AbortController());
  const timer = ctx.spawn('deadline', async (t) => {
    await t.clock.sleepUntil(start + timeoutMs, t.signal);
    const reason = new Error('timeout');
    for (const d of deadlines) d.abort(reason);
  });
  const tasks = peers.map((_, p) =>
    ctx.spawn(`peer${p}`, async (pctx) => {
      const [sender, receiver] = channels[p]!;
      const tally = new Tally(scenario.ids.length);
      const isProposer = p === proposer;
      const deadline = deadlines[p]!.signal;
      let timedOut = false;
      for (let c = 0; c < scenario.commands.length; c++) {
        const cmd = scenario.commands[c]!;
        if (!applies(cmd, isProposer)) continue;
        if (timedOut) {
          samples[c]![p] = null;
          continue;
        }
        const tag = tags.get(cmd.id)!;
        if ('threshold' in cmd) {
          const need = required(cmd.threshold, n);
          try {
            while (tally.count(tag) < need) {
              const [from, message] = await receiver.recv({ signal: deadline });
              tally.add(message[0]!, from.toHex());
            }
          } catch (err) {
            if (!deadline.aborted) throw err;
            timedOut = true;
            samples[c]![p] = null;
            continue;
          }
        } else {
          const to: RecipientsType =
            cmd.op === 'reply' ? Recipients.one(keys[proposer]!) : Recipients.all();
          // The proposer's own reply is counted, not sent.
          if (!(cmd.op === 'reply' && isProposer)) sender.send(to, payload(tag, cmd.size), false);
          tally.add(tag, hexes[p]!);
        }
        samples[c]![p] = pctx.clock.now() - start;
      }
    }),
  );
  try {
    await Promise.all(tasks.map((t) => t.done));
  } finally {
    timer.stop();
    await timer.done;
    handle.stop();
    await handle.done;
  }
  return samples;
}

/** A message: its tag byte, then `size` zero bytes. */
function payload(tag: number, size: number): Uint8Array {
  const out = new Uint8Array(1 + size);
  out[0] = tag;
  return out;
}

/** Every run of an estimate, with the digest of each deterministic run. */
export interface Estimate {
  /** `runs[r]` is the run whose proposer is peer `r`. */
  readonly runs: readonly RunSamples[];
  readonly digests: readonly string[];
}

/**
 * Runs `scenario` once per proposer (every peer in turn), each run on a fresh deterministic
 * runtime seeded with `seed + proposer`.
 */
export async function estimate(
  create: SimulatedApi,
  peers: readonly PlacedPeer[],
  table: LatencyTable,
  scenario: Scenario,
  seed: number,
  options: RunOptions = {},
): Promise<Estimate> {
  const runs: RunSamples[] = [];
  const digests: string[] = [];
  for (let proposer = 0; proposer < peers.length; proposer++) {
    const { result, digest } = await deterministicRuntime({ seed: seed + proposer }).run((ctx) =>
      runOnce(ctx, create, peers, table, scenario, proposer, options),
    );
    runs.push(result);
    digests.push(digest);
  }
  return { runs, digests };
}
