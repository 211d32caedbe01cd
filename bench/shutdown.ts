/**
 * `npm run bench:shutdown`: how long `handle.stop()` takes to settle `handle.done` for a hub
 * with 100 connected lookup peers, on the Node runtime (loopback TCP) and on the deterministic
 * runtime (virtual time), and what is left open afterwards (issue 11 section 5: under 1 s,
 * leaving no socket, server or timer).
 *
 * One process runs the hub and its 100 peers; each peer's set is [hub, itself], so the hub holds
 * 100 connections and the peers one each.
 *
 * @module
 */

import { performance } from 'node:perf_hooks';
import { ed25519 } from '../src/crypto/index.js';
import { Config } from '../src/p2p/authenticated/lookup/config.js';
import { Network } from '../src/p2p/authenticated/lookup/network.js';
import { Quota } from '../src/quota/index.js';
import type { Context, Handle } from '../src/runtime/index.js';
import {
  deterministicRuntime,
  nodeRuntime,
  simulatedNetwork,
  withNetwork,
} from '../src/runtime/index.js';
import { round, table } from './common.js';

const PEERS = Number(process.argv.find((a) => a.startsWith('--peers='))?.slice(8) ?? 100);
const NAMESPACE = new TextEncoder().encode('authp2p-shutdown-bench');

interface Node {
  readonly pk: ed25519.PublicKey;
  readonly network: Network;
  readonly handle: Handle<void>;
  register(set: [ed25519.PublicKey, string][]): void;
}

function start(ctx: Context, i: number, listen: string, simulated: boolean): Node {
  const signer = ed25519.PrivateKey.fromSeed(BigInt(i + 1));
  const child = ctx.child(`n${i}`);
  const ip = listen.slice(0, listen.lastIndexOf(':'));
  const [network, oracle] = Network.create(
    simulated ? withNetwork(child, simulatedNetwork(ctx).host(ip)) : child,
    Config.local({
      signer,
      namespace: NAMESPACE,
      listen,
      maxPeersPerSet: PEERS + 1,
      maxMessageSize: 1024,
      dialFrequencyMs: 50,
      allowedHandshakeRatePerIp: Quota.perSecond(100_000),
      allowedHandshakeRatePerSubnet: Quota.perSecond(100_000),
      maxConcurrentHandshakes: PEERS + 1,
    }),
  );
  network.register(0, Quota.perSecond(1_000));
  const handle = network.start();
  return { pk: signer.publicKey, network, handle, register: (set) => oracle.register(0, set) };
}

/** Starts the hub and its peers, waits for every connection, stops the hub, times its `done`. */
async function measure(
  ctx: Context,
  addressOf: (i: number) => string,
  now: () => number,
  simulated: boolean,
): Promise<{ connectMs: number; hubStopMs: number; allStopMs: number }> {
  const t0 = now();
  const nodes = Array.from({ length: PEERS + 1 }, (_, i) => start(ctx, i, addressOf(i), simulated));
  const addresses: string[] = [];
  for (const n of nodes) {
    const bound = await n.network.address();
    if (bound === undefined) throw new Error('a node could not bind');
    addresses.push(`${bound.ip}:${bound.port}`);
  }
  const entry = (i: number): [ed25519.PublicKey, string] => [nodes[i]!.pk, addresses[i]!];
  nodes[0]!.register(nodes.map((_, i) => entry(i)));
  for (let i = 1; i <= PEERS; i++) nodes[i]!.register([entry(0), entry(i)]);
  for (let k = 0; k < 6_000 && nodes[0]!.network.connected().length < PEERS; k++) {
    await ctx.clock.sleep(10);
  }
  if (nodes[0]!.network.connected().length < PEERS) {
    throw new Error(`the hub connected only ${nodes[0]!.network.connected().length} of ${PEERS}`);
  }
  const connectMs = now() - t0;
  const t1 = now();
  nodes[0]!.handle.stop();
  await nodes[0]!.handle.done;
  const hubStopMs = now() - t1;
  const t2 = now();
  for (const n of nodes) n.handle.stop();
  await Promise.all(nodes.map((n) => n.handle.done));
  return { connectMs, hubStopMs, allStopMs: now() - t2 };
}

function openResources(): string {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
}

const before = openResources();
const node = await nodeRuntime().run(async (ctx) => {
  const m = await measure(
    ctx,
    () => '127.0.0.1:0',
    () => performance.now(),
    false,
  );
  return { ...m, left: openResources() };
});
const det = await deterministicRuntime({ seed: 1 }).run(async (ctx) =>
  measure(
    ctx,
    (i) => `10.0.${i >> 8}.${(i & 255) + 1}:3000`,
    () => ctx.clock.now(),
    true,
  ),
);
console.log(
  `hub with ${PEERS} connected lookup peers; load ${(await import('node:os'))
    .loadavg()
    .map((x) => round(x, 2))
    .join(' ')}`,
);
console.log(
  table([
    ['runtime', 'connect all (ms)', 'hub stop -> done (ms)', 'all stop -> done (ms)'],
    [
      'node (wall)',
      String(round(node.connectMs)),
      String(round(node.hubStopMs, 2)),
      String(round(node.allStopMs, 2)),
    ],
    [
      'deterministic (virtual)',
      String(det.result.connectMs),
      String(det.result.hubStopMs),
      String(det.result.allStopMs),
    ],
  ]),
);
console.log(`active resources before: ${before}; after every done (inside the run): ${node.left}`);
