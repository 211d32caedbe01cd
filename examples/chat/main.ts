/**
 * A terminal chat over the authp2p lookup network: every participant is a peer with a known key
 * (`PrivateKey.fromSeed(n)`) and address; lines typed on stdin are sent to every connected peer,
 * and messages received are printed as `[peer n] text`.
 *
 * Usage (one terminal per peer; see README.md):
 *   node build/examples/chat/main.js --me 1 --port 3001 \
 *     --peers 1@127.0.0.1:3001,2@127.0.0.1:3002,3@127.0.0.1:3003
 *
 * Options: `--listen IP` (default 127.0.0.1), `--log LEVEL` (default silent; `info` shows the
 * network's JSON log lines on stderr). Ctrl-C or end of input (Ctrl-D) stops the network
 * gracefully.
 */

import { createInterface } from 'node:readline';
import { ed25519 } from '../../src/crypto/index.js';
import {
  Config,
  Network,
  P2PError,
  Quota,
  type Receiver,
  Recipients,
} from '../../src/p2p/authenticated/lookup/index.js';
import type { Context, Metrics } from '../../src/runtime/index.js';
import { type LogLevel, nodeRuntime } from '../../src/runtime/index.js';

const NAMESPACE = new TextEncoder().encode('authp2p-chat');
const CHANNEL = 0;
const MAX_MESSAGE_SIZE = 1024;
const LOG_LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];

// ---------- Arguments ----------

interface Options {
  me: number;
  port: number;
  listenIp: string;
  peers: Map<number, string>;
  log: LogLevel;
}

function usage(message?: string): never {
  if (message !== undefined) console.error(`error: ${message}`);
  console.error(
    'usage: node build/examples/chat/main.js --me N --port P --peers 1@127.0.0.1:3001,2@127.0.0.1:3002[,...]\n' +
      '       [--listen IP] [--log trace|debug|info|warn|error|silent]',
  );
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv.includes('--help') || argv.includes('-h')) usage();
  const me = Number(value('--me'));
  const port = Number(value('--port'));
  if (!Number.isSafeInteger(me) || me < 0) usage('--me must be a non-negative integer');
  if (!Number.isInteger(port) || port < 1 || port > 65_535) usage('--port must be 1..65535');
  const peers = new Map<number, string>();
  for (const entry of (value('--peers') ?? '').split(',').filter((e) => e !== '')) {
    const at = entry.indexOf('@');
    const n = Number(entry.slice(0, at));
    if (at <= 0 || !Number.isSafeInteger(n) || n < 0)
      usage(`bad peer "${entry}" (want N@host:port)`);
    if (peers.has(n)) usage(`peer ${n} is listed twice`);
    peers.set(n, entry.slice(at + 1));
  }
  if (![...peers.keys()].some((n) => n !== me)) usage('--peers must list at least one other peer');
  const log = value('--log') ?? 'silent';
  if (!LOG_LEVELS.includes(log)) usage(`unknown log level ${log}`);
  return { me, port, listenIp: value('--listen') ?? '127.0.0.1', peers, log: log as LogLevel };
}

// ---------- Chat ----------

/** Terminal-safe text: a peer must not be able to move our cursor or clear our screen. */
function printable(bytes: Uint8Array): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return new TextDecoder().decode(bytes).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

async function chat(ctx: Context, opts: Options): Promise<void> {
  const me = ed25519.PrivateKey.fromSeed(BigInt(opts.me));
  const names = new Map<string, number>();
  const peers: [ed25519.PublicKey, string][] = [];
  for (const [n, address] of opts.peers) {
    const pk = ed25519.PrivateKey.fromSeed(BigInt(n)).publicKey;
    names.set(pk.toHex(), n);
    peers.push([pk, address]);
  }
  if (!opts.peers.has(opts.me)) peers.push([me.publicKey, `${opts.listenIp}:${opts.port}`]);
  const name = (pk: ed25519.PublicKey): string => `peer ${names.get(pk.toHex()) ?? pk.toHex()}`;

  const config = Config.local({
    signer: me,
    namespace: NAMESPACE,
    listen: `${opts.listenIp}:${opts.port}`,
    maxPeersPerSet: peers.length,
    maxMessageSize: MAX_MESSAGE_SIZE,
  });
  const [network, oracle] = Network.create(ctx, config);
  const [sender, receiver] = network.register(CHANNEL, Quota.perSecond(128));
  const handle = network.start();
  oracle.register(0, peers);
  console.log(
    `chat: I am peer ${opts.me} (${me.publicKey.toHex().slice(0, 16)}...), listening on ` +
      `${opts.listenIp}:${opts.port}; type a line and press Enter to send, Ctrl-D or Ctrl-C to quit`,
  );

  const printer = ctx.spawn('printer', () => printMessages(receiver, name));
  const watcher = ctx.spawn('connections', (c) => watchConnections(c, ctx.metrics, names));

  // Stop on Ctrl-C, end of input, or the network ending by itself (e.g. the port is taken).
  let stopped = false;
  let resolveQuit: () => void = () => {};
  const quit = new Promise<void>((resolve) => {
    resolveQuit = resolve;
  });
  const lines = createInterface({ input: process.stdin, terminal: false });
  lines.on('line', (line) => {
    if (stopped || line === '') return;
    const bytes = new TextEncoder().encode(line);
    if (bytes.length > MAX_MESSAGE_SIZE) {
      console.log(`(not sent: ${bytes.length} bytes, the limit is ${MAX_MESSAGE_SIZE})`);
      return;
    }
    const sentTo = sender.send(Recipients.all(), bytes, false);
    if (sentTo.length === 0) console.log('(not sent: no peer connected, or rate limited)');
  });
  lines.once('close', () => resolveQuit());
  const onSigint = (): void => resolveQuit();
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);

  let failure: unknown;
  await Promise.race([quit, handle.done.catch((err: unknown) => (failure = err))]);
  stopped = true;
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigint);
  lines.close();
  console.log('chat: shutting down');
  watcher.stop();
  handle.stop();
  await handle.done.catch((err: unknown) => (failure ??= err));
  await printer.done;
  if (failure !== undefined) {
    console.error(
      `chat: the network failed: ${failure instanceof Error ? failure.message : failure}`,
    );
    process.exitCode = 1;
  }
}

async function printMessages(
  receiver: Receiver,
  name: (pk: ed25519.PublicKey) => string,
): Promise<void> {
  // The iterator ends when the network stops.
  for await (const [from, message] of receiver)
    console.log(`[${name(from)}] ${printable(message)}`);
}

/**
 * Prints connection changes. The network exposes them as the tracker's `connected{peer}` gauge
 * (one sample per connected peer), so this polls the metrics once a second: cheap for a chat.
 * `metrics` must be the registry the network was created under (a spawned task's own
 * `ctx.metrics` only shows what was registered beneath it).
 */
async function watchConnections(
  ctx: Context,
  metrics: Metrics,
  names: Map<string, number>,
): Promise<void> {
  let previous = new Set<string>();
  try {
    for (;;) {
      const now = new Set<string>();
      for (const line of (await metrics.encode()).split('\n')) {
        const m = /_tracker_connected\{peer="([0-9a-f]+)"\}/.exec(line);
        if (m !== null) now.add(m[1]!);
      }
      for (const hex of now) {
        if (!previous.has(hex)) console.log(`* peer ${names.get(hex) ?? hex} connected`);
      }
      for (const hex of previous) {
        if (!now.has(hex)) console.log(`* peer ${names.get(hex) ?? hex} disconnected`);
      }
      previous = now;
      await ctx.clock.sleep(1_000, ctx.signal);
    }
  } catch (err) {
    if (!ctx.signal.aborted && !(err instanceof P2PError)) throw err;
  }
}

const options = parseOptions(process.argv.slice(2));
await nodeRuntime({ log: options.log }).run((ctx) => chat(ctx, options));
// stdin may still hold the event loop open (a TTY in raw mode never ends by itself).
process.exit(process.exitCode ?? 0);
