/**
 * `npm run demo`: a cluster of discovery (default) or lookup peers on 127.0.0.1 in one process.
 *
 * Every peer gets a deterministic test key (`PrivateKey.fromSeed(i + 1)`) and the whole cluster
 * is registered as peer set 0. With `--network discovery` the set is keys only: peer 0 is the
 * bootstrapper and knows nobody's address, every other peer knows only peer 0's, and they find
 * each other by gossip of signed address records. With `--network lookup` every peer is given
 * every address. Each peer sends on two channels: channel 0 broadcasts to every peer (low
 * priority), channel 1 sends to one random peer (high priority). A live table shows discovery
 * (how many peers' signed records each peer holds), connections and traffic; the run ends with
 * a summary and exit code 0 only when every peer has heard from every other peer on the
 * broadcast channel.
 *
 * Options: --network discovery|lookup (discovery), --peers N (8), --duration S (20),
 * --size BYTES (256), --rate MSGS_PER_S (20), --quota MSGS_PER_S (per peer and channel,
 * default 4 x rate), --verbose.
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { ed25519 } from '../../src/crypto/index.js';
import { discovery, lookup, Quota, Recipients } from '../../src/index.js';
import type { Receiver, Sender } from '../../src/p2p/authenticated/lookup/index.js';
import type { Context, Handle } from '../../src/runtime/index.js';
import { nodeRuntime } from '../../src/runtime/index.js';

type Flavour = 'discovery' | 'lookup';

interface Options {
  network: Flavour;
  peers: number;
  durationS: number;
  size: number;
  rate: number;
  quota: number;
  verbose: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      network: { type: 'string', default: 'discovery' },
      peers: { type: 'string', default: '8' },
      duration: { type: 'string', default: '20' },
      size: { type: 'string', default: '256' },
      rate: { type: 'string', default: '20' },
      quota: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      [
        'usage: npm run demo -- [--network discovery|lookup] [--peers N] [--duration S]',
        '                       [--size BYTES] [--rate MSGS/S] [--quota MSGS/S] [--verbose]',
        '',
        '  --network   discovery (default): peers know only the bootstrapper (peer 0, which knows',
        '              nobody) and find each other by gossip of signed address records;',
        "              lookup: every peer is given every peer's address",
        '  --peers     peers in the cluster, 2..200 (default 8)',
        '  --duration  seconds to run, 1..3600 (default 20)',
        '  --size      bytes per message, 8..1048576 (default 256)',
        '  --rate      messages per second per peer and channel (default 20)',
        '  --quota     inbound and outbound limit per peer and channel, msgs/s (default 4 x rate)',
        '  --verbose   network log lines (debug) on stdout',
        '',
        'Exits 0 only when every peer heard from every other peer on the broadcast channel.',
      ].join('\n'),
    );
    process.exit(0);
  }
  if (values.network !== 'discovery' && values.network !== 'lookup') {
    console.error(`--network must be discovery or lookup, got ${values.network}`);
    process.exit(2);
  }
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      console.error(`--${name} must be an integer in [${min}, ${max}], got ${v}`);
      process.exit(2);
    }
    return n;
  };
  const rate = int('rate', values.rate, 1, 100_000);
  return {
    network: values.network,
    peers: int('peers', values.peers, 2, 200),
    durationS: int('duration', values.duration, 1, 3600),
    size: int('size', values.size, 8, 1 << 20),
    rate,
    quota: values.quota === undefined ? rate * 4 : int('quota', values.quota, 1, 1_000_000),
    verbose: values.verbose ?? false,
  };
}

/** Finds `n` free TCP ports on 127.0.0.1 (bind to port 0, read the port, release it). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === 'string') throw new Error('no port');
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

interface PeerStats {
  sent: number;
  received: number;
  rateLimited: number;
  sentLast: number;
  receivedLast: number;
  heardFrom: Set<number>;
  connected: number;
  discovered: number;
  dropped: number;
  inboundLimited: number;
}

/** The distinct `peer` labels of the metrics whose name matches `pattern`. */
function peerLabels(text: string, pattern: RegExp): Set<string> {
  const peers = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const name = line.split(/[{ ]/, 1)[0] ?? '';
    if (!pattern.test(name)) continue;
    const m = /[{,]peer="([0-9a-f]+)"/.exec(line);
    if (m !== null) peers.add(m[1]!);
  }
  return peers;
}

/** What the demo needs of a network, whichever the flavour. */
interface DemoNetwork {
  register(channel: number, quota: Quota): [Sender, Receiver];
  start(): Handle<void>;
  connectedPeers(): ed25519.PublicKey[];
}

/**
 * Creates peer `i`'s network and registers peer set 0. Discovery: the set is keys only, peer 0
 * bootstraps nobody, every other peer bootstraps from peer 0. Lookup: the set carries every
 * peer's address.
 */
function createNetwork(
  ctx: Context,
  opts: Options,
  i: number,
  keys: readonly ed25519.PrivateKey[],
  addresses: readonly string[],
  namespace: Uint8Array,
): [DemoNetwork, () => void] {
  const shared = {
    signer: keys[i]!,
    namespace,
    listen: addresses[i]!,
    maxPeersPerSet: opts.peers,
    maxMessageSize: Math.max(opts.size, 1024),
  };
  if (opts.network === 'lookup') {
    const [network, oracle] = lookup.Network.create(ctx, lookup.Config.local(shared));
    const peerSet = keys.map((k, j) => [k.publicKey, addresses[j]!] as const);
    return [network, () => void oracle.register(0, peerSet)];
  }
  const config = discovery.Config.local({
    ...shared,
    dialable: addresses[i]!,
    bootstrappers: i === 0 ? [] : [[keys[0]!.publicKey, addresses[0]!]],
  });
  const [network, oracle] = discovery.Network.create(ctx, config);
  return [
    network,
    () =>
      void oracle.register(
        0,
        keys.map((k) => k.publicKey),
      ),
  ];
}

/** Sums every sample of the metrics whose name matches `pattern` in a Prometheus text dump. */
function sumMetric(text: string, pattern: RegExp): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const name = line.split(/[{ ]/, 1)[0] ?? '';
    if (!pattern.test(name)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

async function main(): Promise<number> {
  const opts = options();
  const ports = await freePorts(opts.peers);
  const keys = Array.from({ length: opts.peers }, (_, i) =>
    ed25519.PrivateKey.fromSeed(BigInt(i + 1)),
  );
  const index = new Map(keys.map((k, i) => [k.publicKey.toHex(), i]));
  const addresses = ports.map((port) => `127.0.0.1:${port}`);
  const stats: PeerStats[] = keys.map(() => ({
    sent: 0,
    received: 0,
    rateLimited: 0,
    sentLast: 0,
    receivedLast: 0,
    heardFrom: new Set<number>(),
    connected: 0,
    discovered: 0,
    dropped: 0,
    inboundLimited: 0,
  }));
  const namespace = new TextEncoder().encode('authp2p-demo');

  console.log(
    `authp2p demo: ${opts.peers} ${opts.network} peers on 127.0.0.1, ${opts.durationS} s, ` +
      `${opts.size}-byte messages at ${opts.rate}/s per peer and channel (quota ${opts.quota}/s)`,
  );
  if (opts.network === 'discovery') {
    console.log(
      `peer 0 (${addresses[0]}) is the bootstrapper and knows no address; the others know only ` +
        'its address and learn the rest by gossip',
    );
  }

  return nodeRuntime(opts.verbose ? { log: 'debug' } : {}).run(async (ctx) => {
    const networks: { ctx: Context; handle: Handle<void>; network: DemoNetwork }[] = [];
    const senders: Handle<void>[] = [];
    const receivers: Handle<void>[] = [];
    for (let i = 0; i < opts.peers; i++) {
      const peerCtx = ctx.child(`peer${i}`);
      const [network, registerPeerSet] = createNetwork(
        peerCtx,
        opts,
        i,
        keys,
        addresses,
        namespace,
      );
      const quota = Quota.perSecond(opts.quota);
      const [broadcast, broadcastIn] = network.register(0, quota);
      const [direct, directIn] = network.register(1, quota);
      const handle = network.start();
      registerPeerSet();
      networks.push({ ctx: peerCtx, handle, network });

      const s = stats[i]!;
      const others = keys.filter((_, j) => j !== i).map((k) => k.publicKey);
      // Sender: both channels, `rate` messages per second each.
      senders.push(
        peerCtx.spawn('demo_sender', async (c) => {
          const payload = new Uint8Array(opts.size);
          const view = new DataView(payload.buffer);
          let seq = 0;
          const interval = 1000 / opts.rate;
          let next = c.clock.now();
          while (!c.signal.aborted) {
            view.setUint16(0, i);
            view.setUint32(2, seq++);
            const all = broadcast.send(Recipients.all(), payload, false);
            const target = others[c.rng.int(0, others.length)]!;
            const one = direct.send(Recipients.one(target), payload, true);
            s.sent += all.length + one.length;
            if (one.length === 0) s.rateLimited += 1;
            next += interval;
            await c.clock.sleepUntil(next, c.signal).catch(() => undefined);
          }
        }),
      );
      for (const [label, receiver] of [
        ['demo_broadcast', broadcastIn],
        ['demo_direct', directIn],
      ] as const) {
        receivers.push(
          peerCtx.spawn(label, async (c) => {
            try {
              for (;;) {
                const [from, msg] = await receiver.recv({ signal: c.signal });
                s.received += 1;
                if (label === 'demo_broadcast' && msg.length >= 2) {
                  const j = index.get(from.toHex());
                  if (j !== undefined) s.heardFrom.add(j);
                }
              }
            } catch {
              // Stopping the task (or NetworkClosed at shutdown) ends the loop.
            }
          }),
        );
      }
    }

    const start = ctx.clock.now();
    // Drops (full relay queues, full channel inboxes) and inbound rate limiting, from metrics.
    const refresh = async (): Promise<void> => {
      for (let i = 0; i < opts.peers; i++) {
        const text = await networks[i]!.ctx.metrics.encode();
        stats[i]!.dropped = sumMetric(
          text,
          /(channel_mailbox_dropped|relay_(high|low)_backoff)_total$/,
        );
        stats[i]!.inboundLimited = sumMetric(text, /messages_rate_limited_total$/);
        // Discovery: one `updates{peer}` sample per peer whose signed record was accepted.
        stats[i]!.discovered = peerLabels(text, /_tracker_updates_total$/).size;
      }
    };
    const deadline = start + opts.durationS * 1000;
    let lastPrint = start;
    /** Prints the table; rates are since the last print, or over the whole run when `final`. */
    const table = (final: boolean): void => {
      const lines: string[] = [];
      const now = ctx.clock.now();
      const t = ((now - start) / 1000).toFixed(0);
      const seconds = Math.max((final ? deadline - start : now - lastPrint) / 1000, 0.001);
      const rate = (n: number): string => String(Math.round(n / seconds)).padStart(6);
      const discovering = opts.network === 'discovery';
      lines.push(
        `t=${t}s   peer  ${discovering ? 'discovered  ' : ''}connected  heard-from  ` +
          'sent/s  recv/s   sent total  recv total  limited  dropped',
      );
      for (let i = 0; i < opts.peers; i++) {
        const s = stats[i]!;
        const connected = networks[i]!.network.connectedPeers().length;
        s.connected = connected;
        const discovered = discovering
          ? `${`${s.discovered}/${opts.peers - 1}`.padStart(10)}  `
          : '';
        lines.push(
          `       ${String(i).padStart(4)}  ${discovered}${`${connected}/${opts.peers - 1}`.padStart(9)}  ` +
            `${`${s.heardFrom.size}/${opts.peers - 1}`.padStart(10)}  ` +
            `${final ? rate(s.sent) : rate(s.sent - s.sentLast)}  ` +
            `${final ? rate(s.received) : rate(s.received - s.receivedLast)}  ` +
            `${String(s.sent).padStart(11)}  ${String(s.received).padStart(10)}  ${String(s.rateLimited + s.inboundLimited).padStart(7)}  ${String(s.dropped).padStart(7)}`,
        );
        s.sentLast = s.sent;
        s.receivedLast = s.received;
      }
      lastPrint = now;
      if (process.stdout.isTTY && !final) process.stdout.write('\x1b[H\x1b[2J');
      console.log(lines.join('\n'));
    };

    while (ctx.clock.now() < deadline) {
      await ctx.clock.sleep(Math.min(1000, deadline - ctx.clock.now()));
      if (process.stdout.isTTY || Math.round((ctx.clock.now() - start) / 1000) % 5 === 0) {
        await refresh();
        table(false);
      }
    }

    // Stop sending, give messages in flight a moment to land, then stop receiving.
    for (const t of senders) t.stop('demo over');
    await Promise.allSettled(senders.map((t) => t.done));
    await ctx.clock.sleep(500);
    for (const t of receivers) t.stop('demo over');
    await Promise.allSettled(receivers.map((t) => t.done));
    await refresh();
    console.log('\nsummary');
    table(true);
    for (const n of networks) n.handle.stop('demo over');
    const stopStarted = ctx.clock.now();
    await Promise.allSettled(networks.map((n) => n.handle.done));
    const everyone = stats.every((s) => s.heardFrom.size === opts.peers - 1);
    const sent = stats.reduce((a, s) => a + s.sent, 0);
    const received = stats.reduce((a, s) => a + s.received, 0);
    console.log(
      `\n${opts.peers} peers, ${sent} messages sent, ${received} received, ` +
        `shutdown in ${ctx.clock.now() - stopStarted} ms`,
    );
    console.log(
      'sent counts the recipients Sender.send returned: peers connected at the time and within\n' +
        'quota (a direct send that returned none, unconnected or over quota, counts in limited);\n' +
        'a counted message can still be dropped by a full queue (dropped) or lost with its connection.',
    );
    if (opts.network === 'discovery') {
      const full = stats.filter((s) => s.discovered === opts.peers - 1).length;
      console.log(
        `discovery: ${full} of ${opts.peers} peers hold a signed record of every other peer ` +
          '(discovered counts the peers whose signed address record a peer accepted, from a ' +
          'Greeting or by gossip).',
      );
    }
    console.log(
      everyone
        ? 'OK: every peer heard from every other peer.'
        : 'FAILED: some peers never heard from some others.',
    );
    return everyone ? 0 : 1;
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
