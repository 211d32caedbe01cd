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
 * Peer 0 serves the admin endpoint (`serveAdmin`): its live web view, `/status` and `/metrics`
 * at the URL printed at the start (`--admin HOST:PORT`, default a free loopback port). The
 * table's connection counts come from `network.connected()`, its disconnection counts from
 * `network.events()`, and its drops, rate limits and discovered records from `network.status()`:
 * nothing is parsed out of the Prometheus text.
 *
 * Options: --network discovery|lookup (discovery), --peers N (8), --duration S (20),
 * --size BYTES (256), --rate MSGS_PER_S (20), --quota MSGS_PER_S (per peer and channel,
 * default 4 x rate), --admin HOST:PORT (127.0.0.1:0), --verbose.
 */
import { parseArgs } from 'node:util';
import { serveAdmin } from '../../src/admin/index.js';
import { nodeRuntime } from '../../src/runtime/index.js';
import { intOption } from '../args.js';
import { type ClusterPeer, type Flavour, startCluster } from './cluster.js';

interface Options {
  network: Flavour;
  peers: number;
  durationS: number;
  size: number;
  rate: number;
  quota: number;
  admin: string;
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
      admin: { type: 'string', default: '127.0.0.1:0' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      [
        'usage: npm run demo -- [--network discovery|lookup] [--peers N] [--duration S]',
        '                       [--size BYTES] [--rate MSGS/S] [--quota MSGS/S]',
        '                       [--admin HOST:PORT] [--verbose]',
        '',
        '  --network   discovery (default): peers know only the bootstrapper (peer 0, which knows',
        '              nobody) and find each other by gossip of signed address records;',
        "              lookup: every peer is given every peer's address",
        '  --peers     peers in the cluster, 2..200 (default 8)',
        '  --duration  seconds to run, 1..3600 (default 20)',
        '  --size      bytes per message, 8..1048576 (default 256)',
        '  --rate      messages per second per peer and channel (default 20)',
        '  --quota     inbound and outbound limit per peer and channel, msgs/s (default 4 x rate)',
        "  --admin     where peer 0's admin endpoint and web view listen (default 127.0.0.1:0)",
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
  const rate = intOption('rate', values.rate, 1, 100_000);
  return {
    network: values.network,
    peers: intOption('peers', values.peers, 2, 200),
    durationS: intOption('duration', values.duration, 1, 3600),
    size: intOption('size', values.size, 8, 1 << 20),
    rate,
    quota: values.quota === undefined ? rate * 4 : intOption('quota', values.quota, 1, 1_000_000),
    admin: values.admin ?? '127.0.0.1:0',
    verbose: values.verbose ?? false,
  };
}

/** What the table shows of one peer, refreshed from its network. */
interface Row {
  connected: number;
  disconnects: number;
  discovered: number;
  dropped: number;
  inboundLimited: number;
  sentLast: number;
  receivedLast: number;
}

/** Counts `peer`'s disconnections from its connection events until its network stops. */
async function watch(peer: ClusterPeer, row: Row): Promise<void> {
  for await (const e of peer.network.events()) if (e.kind === 'disconnected') row.disconnects++;
}

/** Refreshes `row` from `peer`'s status: drops, inbound rate limits, known signed records. */
async function refresh(peer: ClusterPeer, row: Row): Promise<void> {
  row.connected = peer.network.connected().length;
  const status = await peer.network.status({ limit: 10_000 });
  if (status === undefined) return;
  row.dropped = status.peers.reduce((a, p) => a + p.dropped, 0);
  row.inboundLimited = status.peers.reduce((a, p) => a + p.rateLimited, 0);
  // Discovery: the set's knowledge bits, less our own.
  const known = status.sets.at(-1)?.known;
  row.discovered = known === undefined ? 0 : known.count() - 1;
}

/**
 * Prints the table `lines`. On a TTY the table redraws in place: the cursor moves up over the
 * `drawn` lines of the previous table and clears to the end of the screen first (ANSI CSI `A`
 * and `J`); returns how many lines are now on screen. Piped, it prints plain lines (returns 0).
 */
function redraw(lines: readonly string[], drawn: number): number {
  if (!process.stdout.isTTY) {
    console.log(lines.join('\n'));
    return 0;
  }
  process.stdout.write(`${drawn > 0 ? `\x1b[${drawn}A\r\x1b[0J` : ''}${lines.join('\n')}\n`);
  return lines.length;
}

async function main(): Promise<number> {
  const opts = options();
  console.log(
    `authp2p demo: ${opts.peers} ${opts.network} peers on 127.0.0.1, ${opts.durationS} s, ` +
      `${opts.size}-byte messages at ${opts.rate}/s per peer and channel (quota ${opts.quota}/s)`,
  );

  return nodeRuntime(opts.verbose ? { log: 'debug' } : {}).run(async (ctx) => {
    const peers = await startCluster(ctx, opts);
    if (opts.network === 'discovery') {
      console.log(
        `peer 0 (${peers[0]!.address}) is the bootstrapper and knows no address; the others ` +
          'know only its address and learn the rest by gossip',
      );
    }
    const admin = await serveAdmin(peers[0]!.ctx, peers[0]!.network, { listen: opts.admin });
    console.log(
      `web view of peer 0: ${admin.url}  (status: ${admin.url}status, metrics: ${admin.url}metrics)`,
    );
    const rows: Row[] = peers.map(() => ({
      connected: 0,
      disconnects: 0,
      discovered: 0,
      dropped: 0,
      inboundLimited: 0,
      sentLast: 0,
      receivedLast: 0,
    }));
    const watchers = peers.map((p, i) => ctx.spawn('demo_watch', () => watch(p, rows[i]!)));
    const refreshAll = () => Promise.all(peers.map((p, i) => refresh(p, rows[i]!)));

    const start = ctx.clock.now();
    const deadline = start + opts.durationS * 1000;
    let lastPrint = start;
    /** Lines of the live table on screen (TTY only), which the next refresh redraws over. */
    let drawn = 0;
    /** Prints the table; rates are since the last print, or over the whole run when `final`. */
    const table = (final: boolean): void => {
      const lines: string[] = [];
      const now = ctx.clock.now();
      const t = ((now - start) / 1000).toFixed(0);
      const seconds = Math.max((final ? deadline - start : now - lastPrint) / 1000, 0.001);
      const rate = (n: number): string => String(Math.round(n / seconds)).padStart(6);
      const discovering = opts.network === 'discovery';
      const n = opts.peers - 1;
      lines.push(
        `t=${t}s   peer  ${discovering ? 'discovered  ' : ''}connected  disconn  heard-from  ` +
          'sent/s  recv/s   sent total  recv total  limited  dropped',
      );
      for (const p of peers) {
        const s = p.stats;
        const r = rows[p.i]!;
        const discovered = discovering ? `${`${r.discovered}/${n}`.padStart(10)}  ` : '';
        lines.push(
          `       ${String(p.i).padStart(4)}  ${discovered}${`${r.connected}/${n}`.padStart(9)}  ` +
            `${String(r.disconnects).padStart(7)}  ${`${s.heardFrom.size}/${n}`.padStart(10)}  ` +
            `${final ? rate(s.sent) : rate(s.sent - r.sentLast)}  ` +
            `${final ? rate(s.received) : rate(s.received - r.receivedLast)}  ` +
            `${String(s.sent).padStart(11)}  ${String(s.received).padStart(10)}  ` +
            `${String(s.rateLimited + r.inboundLimited).padStart(7)}  ${String(r.dropped).padStart(7)}`,
        );
        r.sentLast = s.sent;
        r.receivedLast = s.received;
      }
      lastPrint = now;
      if (final) drawn = 0;
      drawn = redraw(lines, drawn);
    };

    while (ctx.clock.now() < deadline) {
      await ctx.clock.sleep(Math.min(1000, deadline - ctx.clock.now()));
      if (process.stdout.isTTY || Math.round((ctx.clock.now() - start) / 1000) % 5 === 0) {
        await refreshAll();
        table(false);
      }
    }

    // Stop sending, give messages in flight a moment to land, then stop receiving.
    for (const p of peers) p.sender.stop('demo over');
    await Promise.allSettled(peers.map((p) => p.sender.done));
    await ctx.clock.sleep(500);
    for (const p of peers) for (const t of p.receivers) t.stop('demo over');
    await Promise.allSettled(peers.flatMap((p) => p.receivers.map((t) => t.done)));
    await refreshAll();
    console.log('\nsummary');
    table(true);
    await admin.stop();
    const stopStarted = ctx.clock.now();
    await Promise.allSettled(peers.map((p) => p.stop()));
    await Promise.allSettled(watchers.map((w) => w.done));
    const everyone = peers.every((p) => p.stats.heardFrom.size === opts.peers - 1);
    const sent = peers.reduce((a, p) => a + p.stats.sent, 0);
    const received = peers.reduce((a, p) => a + p.stats.received, 0);
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
      const full = rows.filter((r) => r.discovered === opts.peers - 1).length;
      console.log(
        `discovery: ${full} of ${opts.peers} peers hold a signed record of every other peer ` +
          '(discovered counts the primaries of the set whose signed address record a peer holds: ' +
          'its knowledge bits).',
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
