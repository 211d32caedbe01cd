/**
 * A terminal chat over the authp2p discovery network (default) or lookup network: every
 * participant is a peer with a known key (`PrivateKey.fromSeed(n)`); lines typed on stdin are
 * sent to every connected peer, and messages received are printed as `[peer n] text`.
 *
 * Discovery (one terminal per peer; see README.md): participants are the registered set (keys
 * only); everyone but the bootstrapper is given the bootstrapper's address and learns the others'
 * by gossip:
 *   node build/examples/chat/main.js --me 1 --port 3001 --participants 1,2,3
 *   node build/examples/chat/main.js --me 2 --port 3002 --participants 1,2,3 \
 *     --bootstrappers 1@127.0.0.1:3001
 *
 * Lookup: every participant is given every address:
 *   node build/examples/chat/main.js --network lookup --me 1 --port 3001 \
 *     --peers 1@127.0.0.1:3001,2@127.0.0.1:3002,3@127.0.0.1:3003
 *
 * Options: `--listen IP` (default 127.0.0.1), `--dialable HOST:PORT` (discovery: the address
 * others should dial, default the listen IP and port), `--log LEVEL` (default silent; `info`
 * shows the network's JSON log lines on stderr). Ctrl-C or end of input (Ctrl-D) stops the
 * network gracefully.
 */

import { createInterface } from 'node:readline';
import { select } from '../../src/actor/index.js';
import { ed25519 } from '../../src/crypto/index.js';
import * as discovery from '../../src/p2p/authenticated/discovery/index.js';
import {
  Config,
  type ConnectionEvent,
  Network,
  Quota,
  type Receiver,
  Recipients,
  type Sender,
} from '../../src/p2p/authenticated/lookup/index.js';
import type { Context, Handle } from '../../src/runtime/index.js';
import { type LogLevel, nodeRuntime } from '../../src/runtime/index.js';

const NAMESPACE = new TextEncoder().encode('authp2p-chat');
const CHANNEL = 0;
const MAX_MESSAGE_SIZE = 1024;
const LOG_LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];

// ---------- Arguments ----------

interface Options {
  network: 'discovery' | 'lookup';
  me: number;
  port: number;
  listenIp: string;
  /** Discovery: the address others should dial (default `listenIp:port`). */
  dialable: string | undefined;
  /** Discovery: the registered set's peer numbers. */
  participants: Set<number>;
  /** Discovery: bootstrappers; lookup: every participant's address. */
  peers: Map<number, string>;
  log: LogLevel;
}

function usage(message?: string): never {
  if (message !== undefined) console.error(`error: ${message}`);
  console.error(
    'usage: node build/examples/chat/main.js --me N --port P --participants 1,2,3\n' +
      '       [--bootstrappers 1@127.0.0.1:3001[,...]] [--dialable HOST:PORT]\n' +
      '   or: node build/examples/chat/main.js --network lookup --me N --port P\n' +
      '       --peers 1@127.0.0.1:3001,2@127.0.0.1:3002[,...]\n' +
      '       [--listen IP] [--log trace|debug|info|warn|error|silent]',
  );
  process.exit(2);
}

/** Parses `N@host:port,...` (flag `name`) into peer numbers and addresses. */
function parsePeers(name: string, list: string | undefined): Map<number, string> {
  const peers = new Map<number, string>();
  for (const entry of (list ?? '').split(',').filter((e) => e !== '')) {
    const at = entry.indexOf('@');
    const n = Number(entry.slice(0, at));
    if (at <= 0 || !Number.isSafeInteger(n) || n < 0) {
      usage(`bad ${name} entry "${entry}" (want N@host:port)`);
    }
    if (peers.has(n)) usage(`peer ${n} is listed twice in ${name}`);
    peers.set(n, entry.slice(at + 1));
  }
  return peers;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv.includes('--help') || argv.includes('-h')) usage();
  const network = value('--network') ?? 'discovery';
  if (network !== 'discovery' && network !== 'lookup') {
    usage('--network must be discovery or lookup');
  }
  const me = Number(value('--me'));
  const port = Number(value('--port'));
  if (!Number.isSafeInteger(me) || me < 0) usage('--me must be a non-negative integer');
  if (!Number.isInteger(port) || port < 1 || port > 65_535) usage('--port must be 1..65535');
  const log = value('--log') ?? 'silent';
  if (!LOG_LEVELS.includes(log)) usage(`unknown log level ${log}`);
  const common = {
    network,
    me,
    port,
    listenIp: value('--listen') ?? '127.0.0.1',
    log: log as LogLevel,
  } as const;
  if (network === 'lookup') {
    if (value('--participants') !== undefined || value('--bootstrappers') !== undefined) {
      usage('--participants and --bootstrappers are for discovery; lookup takes --peers');
    }
    const peers = parsePeers('--peers', value('--peers'));
    if (![...peers.keys()].some((n) => n !== me)) {
      usage('--peers must list at least one other peer');
    }
    return { ...common, dialable: undefined, participants: new Set(peers.keys()), peers };
  }
  if (value('--peers') !== undefined) {
    usage('--peers is for --network lookup; discovery takes --participants and --bootstrappers');
  }
  const participants = new Set<number>();
  for (const entry of (value('--participants') ?? '').split(',').filter((e) => e !== '')) {
    const n = Number(entry);
    if (!Number.isSafeInteger(n) || n < 0) usage(`bad participant "${entry}" (want a number)`);
    participants.add(n);
  }
  participants.add(me);
  if (participants.size < 2) usage('--participants must list at least one other peer');
  const bootstrappers = parsePeers('--bootstrappers', value('--bootstrappers'));
  bootstrappers.delete(me);
  return { ...common, dialable: value('--dialable'), participants, peers: bootstrappers };
}

// ---------- Chat ----------

/** Terminal-safe text: a peer must not be able to move our cursor or clear our screen. */
function printable(bytes: Uint8Array): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return new TextDecoder().decode(bytes).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** What the chat needs of a network, whichever the flavour. */
interface ChatNetwork {
  register(channel: number, quota: Quota): [Sender, Receiver];
  start(): Handle<void>;
  connected(): ed25519.PublicKey[];
  events(): AsyncIterableIterator<ConnectionEvent>;
}

/**
 * Creates the network for `opts.network`, registers the chat channel, starts it and registers
 * the one peer set: keys only for discovery (addresses come from the bootstrappers and gossip),
 * keys with addresses for lookup.
 */
function startNetwork(
  ctx: Context,
  opts: Options,
  me: ed25519.PrivateKey,
): {
  network: ChatNetwork;
  sender: Sender;
  receiver: Receiver;
  handle: Handle<void>;
  events: AsyncIterableIterator<ConnectionEvent>;
} {
  const key = (n: number): ed25519.PublicKey => ed25519.PrivateKey.fromSeed(BigInt(n)).publicKey;
  const listen = `${opts.listenIp}:${opts.port}`;
  const shared = {
    signer: me,
    namespace: NAMESPACE,
    listen,
    maxPeersPerSet: opts.participants.size,
    maxMessageSize: MAX_MESSAGE_SIZE,
  };
  let network: ChatNetwork;
  let register: () => void;
  if (opts.network === 'lookup') {
    const peers: [ed25519.PublicKey, string][] = [];
    for (const [n, address] of opts.peers) peers.push([key(n), address]);
    if (!opts.peers.has(opts.me)) peers.push([me.publicKey, listen]);
    const [lookupNetwork, oracle] = Network.create(ctx, Config.local(shared));
    network = lookupNetwork;
    register = () => void oracle.register(0, peers);
  } else {
    const config = discovery.Config.local({
      ...shared,
      dialable: opts.dialable ?? listen,
      bootstrappers: [...opts.peers].map(([n, address]) => [key(n), address] as const),
    });
    const [discoveryNetwork, oracle] = discovery.Network.create(ctx, config);
    network = discoveryNetwork;
    register = () => void oracle.register(0, [...opts.participants].map(key));
  }
  const [sender, receiver] = network.register(CHANNEL, Quota.perSecond(128));
  // Listening before the start: no connection can be made before the stream exists.
  const events = network.events();
  const handle = network.start();
  register();
  return { network, sender, receiver, handle, events };
}

async function chat(ctx: Context, opts: Options): Promise<void> {
  const me = ed25519.PrivateKey.fromSeed(BigInt(opts.me));
  const names = new Map<string, number>();
  // Participants, and on discovery bootstrappers too (they may be outside the set).
  for (const n of [...opts.participants, ...opts.peers.keys()]) {
    names.set(ed25519.PrivateKey.fromSeed(BigInt(n)).publicKey.toHex(), n);
  }
  const name = (pk: ed25519.PublicKey): string => `peer ${names.get(pk.toHex()) ?? pk.toHex()}`;

  const { network, sender, receiver, handle, events } = startNetwork(ctx, opts, me);
  const how =
    opts.network === 'lookup'
      ? 'lookup: every address given'
      : opts.peers.size === 0
        ? 'discovery: the bootstrapper, waiting to be dialed'
        : `discovery: bootstrapping from peer ${[...opts.peers.keys()].join(', peer ')}`;
  console.log(
    `chat: I am peer ${opts.me} (${me.publicKey.toHex().slice(0, 16)}...), listening on ` +
      `${opts.listenIp}:${opts.port} (${how}); type a line and press Enter to send, ` +
      'Ctrl-D or Ctrl-C to quit',
  );

  const printer = ctx.spawn('printer', () => printMessages(receiver, name));
  const watcher = ctx.spawn('connections', (c) => watchConnections(c, network, events, names));

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

/** Seconds without any connected peer before the chat says so (then every 30 s). */
const ALONE_FIRST_S = 10;
const ALONE_REPEAT_S = 30;

/**
 * Prints every connection change as it happens, from `events` (the network's `events()`
 * stream, opened before the network started), and says so when no
 * peer has been connected for 10 s (then every 30 s): a bootstrapper that is down, or a wrong
 * address, would otherwise look exactly like a quiet chat. The iteration ends when the network
 * stops.
 */
async function watchConnections(
  ctx: Context,
  network: ChatNetwork,
  events: AsyncIterableIterator<ConnectionEvent>,
  names: Map<string, number>,
): Promise<void> {
  const name = (pk: ed25519.PublicKey): string => `peer ${names.get(pk.toHex()) ?? pk.toHex()}`;
  // One pending next() at a time, kept across timer wake-ups: it must not be raced away.
  let pending = events.next();
  let aloneSince: number | undefined =
    network.connected().length === 0 ? ctx.clock.now() : undefined;
  let warned = 0;
  try {
    for (;;) {
      let timer: AbortController | undefined;
      let woke: Promise<unknown> = new Promise(() => {});
      if (aloneSince !== undefined) {
        timer = new AbortController();
        const seconds = warned === 0 ? ALONE_FIRST_S : ALONE_FIRST_S + warned * ALONE_REPEAT_S;
        woke = ctx.clock.sleepUntil(aloneSince + seconds * 1000, timer.signal).catch(() => {});
      }
      const which = await select(ctx.signal, pending, woke);
      timer?.abort();
      if (which < 0) return;
      if (which === 1) {
        const seconds = ALONE_FIRST_S + warned * ALONE_REPEAT_S;
        warned++;
        console.log(
          `* no peer connected for ${seconds} s: are the others running, and their addresses right?`,
        );
        continue;
      }
      const next = await pending;
      if (next.done === true) return;
      pending = events.next();
      const e = next.value;
      const reason = e.reason === undefined ? '' : ` (${e.reason})`;
      const missed = e.missed === undefined ? '' : ` [${e.missed} earlier changes not shown]`;
      console.log(`* ${name(e.peer)} ${e.kind}${e.kind === 'connected' ? '' : reason}${missed}`);
      if (network.connected().length > 0) {
        aloneSince = undefined;
        warned = 0;
      } else {
        aloneSince ??= ctx.clock.now();
      }
    }
  } finally {
    await events.return?.();
  }
}

const options = parseOptions(process.argv.slice(2));
await nodeRuntime({ log: options.log }).run((ctx) => chat(ctx, options));
// stdin may still hold the event loop open (a TTY in raw mode never ends by itself).
process.exit(process.exitCode ?? 0);
