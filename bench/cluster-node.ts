/**
 * One host of `npm run cluster` (bench/cluster.ts), run inside its network namespace: a discovery
 * peer listening on `--ip`:4000 that knows only host 0 (the bootstrapper), registers the set of
 * every host's key, sends `--rate` 1 KiB messages per second to all its connected peers, and
 * prints one JSON line every 500 ms: `{ t, connected, delivered, bytes }` (totals since start).
 * Stops cleanly on SIGTERM or SIGINT.
 *
 * @module
 */

import { performance } from 'node:perf_hooks';
import { ed25519 } from '../src/crypto/index.js';
import { Config } from '../src/p2p/authenticated/discovery/config.js';
import { Network } from '../src/p2p/authenticated/discovery/network.js';
import { Recipients } from '../src/p2p/types.js';
import { Quota } from '../src/quota/index.js';
import { nodeRuntime } from '../src/runtime/index.js';
import { argValue } from './common.js';

/** The port every cluster host listens on. */
export const CLUSTER_PORT = 4000;
/** The key of cluster host `i`. */
export const clusterKey = (i: number): ed25519.PrivateKey =>
  ed25519.PrivateKey.fromSeed(BigInt(i + 1));
/** The IP of cluster host `i` (its own /24). */
export const clusterIp = (i: number): string => `10.77.${i + 1}.2`;

const argv = process.argv.slice(2);
const index = Number(argValue(argv, '--index'));
const hosts = Number(argValue(argv, '--hosts'));
const rate = Number(argValue(argv, '--rate') ?? 100);
const maxS = Number(argValue(argv, '--max-seconds') ?? 600);

if (process.argv[1]?.endsWith('cluster-node.js')) {
  const t0 = performance.now();
  const address = `${clusterIp(index)}:${CLUSTER_PORT}`;
  const boot = `${clusterIp(0)}:${CLUSTER_PORT}`;
  await nodeRuntime().run(async (ctx) => {
    const [network, oracle] = Network.create(
      ctx,
      Config.local({
        signer: clusterKey(index),
        namespace: new TextEncoder().encode('authp2p-cluster'),
        listen: address,
        dialable: address,
        bootstrappers: index === 0 ? [] : [[clusterKey(0).publicKey, boot] as const],
        maxPeersPerSet: hosts,
        maxMessageSize: 2048,
        dialFrequencyMs: 500,
      }),
    );
    const [sender, receiver] = network.register(0, Quota.perSecond(10_000));
    const handle = network.start();
    oracle.register(
      0,
      Array.from({ length: hosts }, (_, i) => clusterKey(i).publicKey),
    );
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      handle.stop();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    let delivered = 0;
    let bytes = 0;
    const drained = (async () => {
      try {
        for await (const [, msg] of receiver) {
          delivered++;
          bytes += msg.length;
        }
      } catch (e) {
        if ((e as { code?: string }).code !== 'NetworkClosed') throw e;
      }
    })();
    const payload = new Uint8Array(1024);
    const stepMs = 50;
    const perStep = rate * (stepMs / 1000);
    let owed = 0;
    let lastReport = 0;
    for (let k = 0; !stopped && k < (maxS * 1000) / stepMs; k++) {
      owed += perStep;
      for (; owed >= 1; owed--) sender.send(Recipients.all(), payload, false);
      const t = performance.now() - t0;
      if (t - lastReport >= 500) {
        lastReport = t;
        const connected = network.connected().length;
        process.stdout.write(
          `${JSON.stringify({ t: Math.round(t), connected, delivered, bytes })}\n`,
        );
      }
      await ctx.clock.sleep(stepMs);
    }
    handle.stop();
    await handle.done;
    await drained;
  });
}
