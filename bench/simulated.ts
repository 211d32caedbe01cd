/**
 * The simulated network's scale benchmark (`npm run bench:simulated`).
 *
 * Usage: node build/bench/simulated.js [--peers N] [--bw-peers N] [--bw-messages N] [--json FILE]
 *
 * Both parts run on the deterministic runtime (virtual time: the figures are wall time spent
 * simulating, never waiting).
 *   1. broadcast: `--peers` (1,000) peers in one tracked set, a link each way between every two
 *      (latency uniform in 20-200 ms per link, jitter 5 ms, no loss), added with one
 *      `oracle.addLinks` call; setup (keys, registration, links) is timed apart. Then every peer
 *      sends one 1 KiB message to `Recipients.all()` and each waits for the n - 1 others:
 *      n (n - 1) deliveries (999,000). Reports the traffic's wall time, deliveries per wall
 *      second and the virtual time it covered. Target: <= 10 s of wall time for the traffic.
 *   2. bandwidth: `--bw-peers` (100) peers all-to-all, every peer's egress and ingress capped
 *      (three tiers: 1, 4 and 16 MB/s, by peer index), each broadcasting `--bw-messages` (10)
 *      1 KiB messages: exact max-min sharing over every concurrent flow. Same figures. Target:
 *      <= 10 s.
 * Peak RSS (the process's maximum resident set) is reported after each part.
 *
 * Output: progress on stderr; a table, then one JSON line, on stdout.
 *
 * @module
 */

import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { ed25519 } from '../src/crypto/index.js';
import { Network } from '../src/p2p/simulated/index.js';
import type { LinkOptions } from '../src/p2p/simulated/link.js';
import { Recipients } from '../src/p2p/types.js';
import { Quota } from '../src/quota/index.js';
import type { Context } from '../src/runtime/context.js';
import { deterministicRuntime } from '../src/runtime/index.js';
import { argValue, fmt, nowNs, round, secondsSince, table } from './common.js';

type PublicKey = ed25519.PublicKey;

interface Figures {
  readonly part: string;
  readonly peers: number;
  readonly deliveries: number;
  readonly setupS: number;
  readonly trafficS: number;
  readonly deliveriesPerS: number;
  readonly virtualMs: number;
  readonly peakRssMb: number;
}

const peakRssMb = (): number => round(process.resourceUsage().maxRSS / 1024, 0);

function makeKeys(n: number): PublicKey[] {
  return Array.from({ length: n }, (_, i) => ed25519.PrivateKey.fromSeed(BigInt(i)).publicKey);
}

async function run(
  n: number,
  messages: number,
  part: string,
  links: (ctx: Context, pks: PublicKey[]) => Iterable<[PublicKey, PublicKey, LinkOptions]>,
  caps?: (i: number) => number,
): Promise<Figures> {
  const { result } = await deterministicRuntime({ seed: 1 }).run(async (ctx) => {
    const t0 = nowNs();
    const pks = makeKeys(n);
    const [network, oracle] = Network.create(ctx, {
      maxSize: 1 << 16,
      maxPeersPerSet: n,
      disconnectOnBlock: true,
      trackedPeerSets: 1,
    });
    const handle = network.start();
    oracle.manager().register(0, pks);
    const quota = Quota.perSecond(1_000_000);
    const channels = pks.map((pk) => oracle.control(pk).register(0, quota));
    await oracle.addLinks(links(ctx, pks));
    if (caps !== undefined) {
      for (let i = 0; i < n; i++) await oracle.limitBandwidth(pks[i]!, caps(i), caps(i));
    }
    const setupS = secondsSince(t0);
    process.stderr.write(`${part}: setup ${round(setupS, 2)} s\n`);

    const t1 = nowNs();
    const v0 = ctx.clock.now();
    const expected = (n - 1) * messages;
    const payload = new Uint8Array(1024);
    let delivered = 0;
    const receivers = channels.map(async ([, receiver]) => {
      for (let k = 0; k < expected; k++) {
        await receiver.recv();
        delivered++;
      }
    });
    for (let m = 0; m < messages; m++) {
      for (const [sender] of channels) {
        const to = sender.send(Recipients.all(), payload, false);
        if (to.length !== n - 1) throw new Error(`sent to ${to.length} peers, expected ${n - 1}`);
      }
    }
    await Promise.all(receivers);
    const trafficS = secondsSince(t1);
    const virtualMs = ctx.clock.now() - v0;
    handle.stop();
    await handle.done;
    return {
      part,
      peers: n,
      deliveries: delivered,
      setupS: round(setupS, 2),
      trafficS: round(trafficS, 2),
      deliveriesPerS: Math.round(delivered / trafficS),
      virtualMs: round(virtualMs, 1),
      peakRssMb: peakRssMb(),
    };
  });
  return result;
}

function mesh(latency: (a: number, b: number) => LinkOptions) {
  return function* (
    _ctx: Context,
    pks: PublicKey[],
  ): Generator<[PublicKey, PublicKey, LinkOptions]> {
    for (let a = 0; a < pks.length; a++) {
      for (let b = 0; b < pks.length; b++) if (a !== b) yield [pks[a]!, pks[b]!, latency(a, b)];
    }
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const peers = Number(argValue(argv, '--peers') ?? 1000);
  const bwPeers = Number(argValue(argv, '--bw-peers') ?? 100);
  const bwMessages = Number(argValue(argv, '--bw-messages') ?? 10);
  const json = argValue(argv, '--json');

  // Per-link latency uniform in [20, 200] ms, from a fixed formula (no RNG draws at setup).
  const options = Array.from({ length: 181 }, (_, i) => ({
    latency: 20 + i,
    jitter: 5,
    successRate: 1,
  }));
  const latency = (a: number, b: number): LinkOptions =>
    options[(a * 7919 + b * 104729) % 181] as LinkOptions;
  const results: Figures[] = [];
  results.push(await run(peers, 1, 'broadcast', mesh(latency)));
  const tiers = [1_000_000, 4_000_000, 16_000_000];
  results.push(
    await run(bwPeers, bwMessages, 'bandwidth', mesh(latency), (i) => tiers[i % 3] as number),
  );

  const [l1, l5, l15] = loadavg();
  process.stdout.write(
    `${table([
      [
        'part',
        'peers',
        'deliveries',
        'setup s',
        'traffic s',
        'deliveries/s',
        'virtual ms',
        'peak RSS MB',
      ],
      ...results.map((r) => [
        r.part,
        fmt(r.peers),
        fmt(r.deliveries),
        fmt(r.setupS, 2),
        fmt(r.trafficS, 2),
        fmt(r.deliveriesPerS),
        fmt(r.virtualMs, 1),
        fmt(r.peakRssMb),
      ]),
    ])}\nload average: ${round(l1 ?? 0, 2)} ${round(l5 ?? 0, 2)} ${round(l15 ?? 0, 2)}\n`,
  );
  const line = JSON.stringify({ results, load: loadavg() });
  process.stdout.write(`${line}\n`);
  if (json !== undefined) writeFileSync(json, `${line}\n`);
}

await main();
