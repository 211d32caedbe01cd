/**
 * The `authp2p` commands and their help: {@link main} parses a command line, runs the command
 * and resolves with the process exit status (0 success; 1 a failed check, an endpoint that does
 * not answer, a node that cannot run; 2 a usage or config error). Every failure is one line on
 * stderr.
 *
 * @module
 */

import { resolve } from 'node:path';
import { nodeRuntime } from '../runtime/index.js';
import { onePositional, type Parsed, parseArgs, positiveInt } from './args.js';
import { checkByDialing, checkFromStatus, formatReport } from './check.js';
import { loadConfig } from './config.js';
import { CliError } from './errors.js';
import { readKeyFile, writeKeyFile } from './keys.js';
import type { Io } from './output.js';
import { runNode } from './run.js';
import { fetchStatus, formatStatus } from './status.js';

const USAGE = `usage: authp2p <command> [options]

commands:
  keygen --out FILE          write a new private key file (mode 0600); print its public key
  pubkey FILE                print the public key of a key file
  run CONFIG.json            run a lookup or discovery node until SIGINT/SIGTERM
  status --admin HOST:PORT   a running node's peers, from its admin endpoint
  check-peers CONFIG.json    one authenticated handshake to every configured peer

Run authp2p <command> --help for a command's options.
Exit status: 0 success; 1 a failed check, an endpoint that does not answer, a node that
cannot run; 2 a usage or config error.
`;

interface Command {
  readonly flags: Readonly<Record<string, 'boolean' | 'string'>>;
  readonly help: string;
  run(io: Io, args: Parsed): Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  keygen: {
    flags: { out: 'string', force: 'boolean' },
    help: `usage: authp2p keygen --out FILE [--force]

Writes a new ed25519 private key (from the OS random source) to FILE with mode 0600 and prints
its public key as hex. An existing FILE is refused unless --force is given.
`,
    async run(io, args) {
      const out = args.options.get('out');
      if (out === undefined) throw new CliError('Usage', 'keygen: --out FILE is required');
      if (args.positionals.length > 0) throw new CliError('Usage', 'keygen: unexpected argument');
      const key = await nodeRuntime().run(async (ctx) =>
        writeKeyFile(resolve(out), ctx.rng, args.switches.has('force')),
      );
      io.out(`${key.publicKey.toHex()}\n`);
      return 0;
    },
  },
  pubkey: {
    flags: {},
    help: `usage: authp2p pubkey FILE

Prints the public key (hex) of the private key file FILE.
`,
    async run(io, args) {
      const file = onePositional('pubkey', args, 'key file');
      io.out(`${readKeyFile(resolve(file), 'pubkey', { private: false }).publicKey.toHex()}\n`);
      return 0;
    },
  },
  run: {
    flags: {},
    help: `usage: authp2p run CONFIG.json

Runs the lookup or discovery node described by CONFIG.json until SIGINT or SIGTERM, then stops
it cleanly (exit 0). Logs one line per connection change to stdout (JSON when stdout is not a
terminal). SIGHUP re-reads the file's peers and registers them as the next peer set.
Primary peers that do not connect are named in a warning (after 30 s, on change, every 5 min).
The key file must not be readable by group or others. A listen address that cannot be bound is
one line on stderr and exit 1; a bad config file is one line naming the field and exit 2.

CONFIG.json (paths relative to it):
  { "network": "lookup", "preset": "local", "key": "node1.key", "namespace": "my-app",
    "listen": "127.0.0.1:3001", "maxPeersPerSet": 64, "maxMessageSize": 1048576,
    "peers": [["<public key hex>", "127.0.0.1:3002"]], "admin": "127.0.0.1:9091" }
For "network": "discovery", peers lists keys only, and "dialable": "HOST:PORT" and
"bootstrappers": [["<hex>", "HOST:PORT"]] are added. Optional: "preset" ("recommended", the
default, or "local"), "admin", "adminToken", "log" (the network's own log level, default
"silent"), and any other network config field by its name.
`,
    async run(io, args) {
      const file = onePositional('run', args, 'config file');
      return runNode(io, loadConfig(file));
    },
  },
  status: {
    flags: { admin: 'string', token: 'string', json: 'boolean', timeout: 'string' },
    help: `usage: authp2p status --admin HOST:PORT [--token TOKEN] [--json] [--timeout MS]

Shows a running node's peers (address, state, connected for, messages and bytes in/out,
rate-limited, dropped) from its admin endpoint's /status, as a table or (--json) as JSON.
Exit 1 when the endpoint does not answer within --timeout (default 2000 ms).
`,
    async run(io, args) {
      const admin = args.options.get('admin');
      if (admin === undefined) throw new CliError('Usage', 'status: --admin HOST:PORT is required');
      if (args.positionals.length > 0) throw new CliError('Usage', 'status: unexpected argument');
      const timeoutMs = positiveInt('status', args, 'timeout', 2000);
      const token = args.options.get('token');
      return nodeRuntime().run(async (ctx) => {
        const status = await fetchStatus(ctx, admin, { token, timeoutMs });
        io.out(
          args.switches.has('json')
            ? `${JSON.stringify(status, null, 2)}\n`
            : formatStatus(status, ctx.clock.now()),
        );
        return 0;
      });
    },
  },
  'check-peers': {
    flags: { json: 'boolean', timeout: 'string' },
    help: `usage: authp2p check-peers CONFIG.json [--json] [--timeout MS]

Makes one authenticated handshake, with the node's key and namespace, to every peer in
CONFIG.json that has an address (lookup: the peers; discovery: the bootstrappers) and shows
whether it is reachable, whether it accepted us, the round trip, and the peer's clock offset
(from its SynAck timestamp). When the node's admin endpoint (the config's "admin") answers, the
report comes from the running node's /status instead, without dialing. Exit 1 if any peer
failed. --timeout bounds each check (default 5000 ms).
`,
    async run(io, args) {
      const file = onePositional('check-peers', args, 'config file');
      const timeoutMs = positiveInt('check-peers', args, 'timeout', 5000);
      const cfg = loadConfig(file);
      return nodeRuntime().run(async (ctx) => {
        let report: Awaited<ReturnType<typeof checkByDialing>> | undefined;
        if (cfg.admin !== undefined) {
          const status = await fetchStatus(ctx, cfg.admin, {
            token: cfg.adminToken,
            timeoutMs: Math.min(timeoutMs, 1000),
          }).catch(() => undefined);
          if (status !== undefined && status.key === cfg.signer.publicKey.toHex()) {
            report = checkFromStatus(cfg, status, ctx.clock.now());
          }
        }
        report ??= await checkByDialing(ctx, cfg, timeoutMs);
        io.out(
          args.switches.has('json')
            ? `${JSON.stringify(report, null, 2)}\n`
            : formatReport(report, cfg),
        );
        return report.ok ? 0 : 1;
      });
    },
  },
};

/**
 * Runs the command line `argv` (without the node and script paths) and resolves with the exit
 * status. Never rejects: failures are written to `io.err` as one line.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  try {
    if (command === undefined)
      throw new CliError('Usage', `unknown command ${JSON.stringify(name)} (see authp2p --help)`);
    const args = parseArgs(name, rest, command.flags);
    if (args.switches.has('help')) {
      io.out(command.help);
      return 0;
    }
    return await command.run(io, args);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`authp2p: ${err.message}\n`);
      return err.exitCode;
    }
    io.err(`authp2p: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
