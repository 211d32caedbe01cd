/**
 * `npm run flood -- --nodes 8 --size 1024 --rate 1000 --seconds 10`: a load generator. Starts
 * `--nodes` lookup nodes in one process on 127.0.0.1 (every node given every address), waits
 * until they are all connected, then sends `--size`-byte messages at `--rate` messages per
 * second in total (round robin over the nodes, each to one random other node), until `--count`
 * messages are sent or `--seconds` have passed, whichever comes first. Each message carries its
 * send time (the runtime clock, ms); the receiver records the latency. Prints the delivered
 * rate and latency percentiles, and last a line `report {json}` for scripts.
 *
 * `--admin HOST:PORT` serves node 0's admin endpoint there (Prometheus can scrape its
 * `/metrics` during the run: see prometheus.yml and grafana-dashboard.json here).
 */
import { parseArgs } from 'node:util';
import { serveAdmin } from '../../src/admin/index.js';
import { ed25519 } from '../../src/crypto/index.js';
import { lookup, Quota, Recipients } from '../../src/index.js';
import { nodeRuntime } from '../../src/runtime/index.js';
import { intOption } from '../args.js';
import { freePorts } from '../demo/cluster.js';

function options() {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '8' },
      size: { type: 'string', default: '1024' },
      rate: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '10' },
      count: { type: 'string' },
      admin: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run flood -- [--nodes N (8)] [--size BYTES (1024)] [--rate MSGS/S (1000)]\n' +
        '                        [--seconds S (10)] [--count N (rate x seconds)] [--admin HOST:PORT]',
    );
    process.exit(0);
  }
  const rate = intOption('rate', values.rate, 1, 1_000_000);
  const seconds = intOption('seconds', values.seconds, 1, 3600);
  return {
    nodes: intOption('nodes', values.nodes, 2, 200),
    size: intOption('size', values.size, 8, 1 << 20),
    rate,
    seconds,
    count: values.count === undefined ? rate * seconds : intOption('count', values.count, 1, 1e9),
    admin: values.admin,
  };
}

/** The `q`-quantile (0..1) of sorted `xs` (nearest rank), 0 when empty. */
function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  return xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] ?? 0;
}

async function main(): Promise<number> {
  const opts = options();
  return nodeRuntime().run(async (ctx) => {
    const ports = await freePorts(opts.nodes);
    const keys = ports.map((_, i) => ed25519.PrivateKey.fromSeed(BigInt(i + 1)));
    const addresses = ports.map((p) => `127.0.0.1:${p}`);
    const peerSet = keys.map((k, i) => [k.publicKey, addresses[i]!] as const);
    const quota = Quota.perSecond(Math.max(opts.rate * 2, 1000));
    const latencies: number[] = [];
    const nodes = keys.map((key, i) => {
      const c = ctx.child(`node${i}`);
      const [network, oracle] = lookup.Network.create(
        c,
        lookup.Config.local({
          signer: key,
          namespace: new TextEncoder().encode('authp2p-flood'),
          listen: addresses[i]!,
          maxPeersPerSet: opts.nodes,
          maxMessageSize: Math.max(opts.size, 1024),
        }),
      );
      const [sender, receiver] = network.register(0, quota);
      const handle = network.start();
      oracle.register(0, peerSet);
      const recv = c.spawn('flood_recv', async (t) => {
        try {
          for (;;) {
            const [, msg] = await receiver.recv({ signal: t.signal });
            const sentAt = new DataView(msg.buffer, msg.byteOffset, msg.byteLength).getFloat64(0);
            if (latencies.length < opts.count) latencies.push(t.clock.now() - sentAt);
          }
        } catch {
          // Stopped, or NetworkClosed at shutdown.
        }
      });
      return { network, sender, handle, recv, c };
    });
    const admin =
      opts.admin === undefined
        ? undefined
        : await serveAdmin(nodes[0]!.c, nodes[0]!.network, { listen: opts.admin });
    if (admin !== undefined) console.log(`admin endpoint of node 0: ${admin.url}metrics`);

    // Wait (at most 10 s) until every node is connected to every other.
    const connectBy = ctx.clock.now() + 10_000;
    while (nodes.some((n) => n.network.connected().length < opts.nodes - 1)) {
      if (ctx.clock.now() > connectBy) throw new Error('nodes not all connected within 10 s');
      await ctx.clock.sleep(20);
    }
    console.log(
      `flood: ${opts.nodes} lookup nodes connected; ${opts.size}-byte messages at ${opts.rate}/s, ` +
        `up to ${opts.count} messages or ${opts.seconds} s`,
    );

    const payload = new Uint8Array(opts.size);
    const view = new DataView(payload.buffer);
    const start = ctx.clock.now();
    const deadline = start + opts.seconds * 1000;
    let sent = 0;
    let refused = 0;
    // Every 10 ms, send what the rate allows since the start.
    while (sent + refused < opts.count && ctx.clock.now() < deadline) {
      const due = Math.min(opts.count, Math.floor(((ctx.clock.now() - start) * opts.rate) / 1000));
      while (sent + refused < due) {
        const from = (sent + refused) % opts.nodes;
        let to = ctx.rng.int(0, opts.nodes - 1);
        if (to >= from) to += 1;
        view.setFloat64(0, ctx.clock.now());
        const got = nodes[from]!.sender.send(Recipients.one(keys[to]!.publicKey), payload, false);
        if (got.length === 1) sent++;
        else refused++;
      }
      await ctx.clock.sleep(10);
    }
    const sendEnd = ctx.clock.now();
    // Let messages in flight land (at most 2 s).
    const drainBy = sendEnd + 2000;
    while (latencies.length < sent && ctx.clock.now() < drainBy) await ctx.clock.sleep(10);
    const elapsedS = Math.max((ctx.clock.now() - start) / 1000, 0.001);
    await admin?.stop();
    for (const n of nodes) {
      n.recv.stop('flood over');
      n.handle.stop('flood over');
    }
    await Promise.allSettled(nodes.flatMap((n) => [n.handle.done, n.recv.done]));

    const sorted = [...latencies].sort((a, b) => a - b);
    const report = {
      nodes: opts.nodes,
      size: opts.size,
      rate: opts.rate,
      sent,
      refused,
      delivered: latencies.length,
      seconds: Number(elapsedS.toFixed(3)),
      deliveredPerSecond: Math.round(latencies.length / elapsedS),
      latencyMs: {
        p50: quantile(sorted, 0.5),
        p90: quantile(sorted, 0.9),
        p99: quantile(sorted, 0.99),
        max: sorted.at(-1) ?? 0,
      },
    };
    console.log(
      `sent ${sent} (refused ${refused}: over quota or not connected), delivered ` +
        `${report.delivered} in ${report.seconds} s = ${report.deliveredPerSecond} msgs/s; ` +
        `latency ms p50 ${report.latencyMs.p50} p90 ${report.latencyMs.p90} ` +
        `p99 ${report.latencyMs.p99} max ${report.latencyMs.max}`,
    );
    console.log(`report ${JSON.stringify(report)}`);
    return report.delivered > 0 ? 0 : 1;
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
