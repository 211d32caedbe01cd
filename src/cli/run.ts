/**
 * `authp2p run CONFIG.json`: a lookup or discovery node from a config file, until SIGINT or
 * SIGTERM.
 *
 * - It logs one line per connection change (from `network.events()`) to stdout: readable on a
 *   terminal, pino-style JSON otherwise. The network's own log lines go the same way at the
 *   config's `log` level (default silent).
 * - Primary peers that are not connected are named in a warning every 30 s while that set
 *   changes, and every 5 minutes while it stays (`reach.ts`); one info line follows once all
 *   are connected.
 * - SIGHUP re-reads the file and registers its `peers` as the next peer-set index, without a
 *   restart (a file that no longer validates is logged and ignored; other changed fields are
 *   named in a warning and need a restart).
 * - SIGINT/SIGTERM stop the admin endpoint and the network, and exit 0 once every task has
 *   ended; if they have not stopped within {@link STOP_DEADLINE_MS}, it exits 1.
 * - A listen address that cannot be bound (a port in use) is one line on stderr naming the
 *   address, and exit 1; so is a network that stops on its own.
 *
 * @module
 */

import { formatAddress, formatSocketAddr } from '../p2p/address.js';
import * as discovery from '../p2p/authenticated/discovery/index.js';
import * as lookup from '../p2p/authenticated/lookup/index.js';
import type { ConnectionEvent } from '../p2p/events.js';
import { type Context, type Logger, nodeRuntime } from '../runtime/index.js';
import { type AdminServer, serveAdmin } from './admin.js';
import { changedFields, loadConfig, type NodeConfig } from './config.js';
import { CliError } from './errors.js';
import { type Io, nodeLogger } from './output.js';
import { reportReachability } from './reach.js';

/** How long stopping the admin endpoint and the network may take before `run` gives up (exit 1). */
export const STOP_DEADLINE_MS = 1000;

/** A started network of either flavour, with its peer-set registration. */
interface Node {
  readonly network: lookup.Network | discovery.Network;
  /** Registers `config`'s peers at `index`; returns how many keys it lists. */
  register(index: number, config: NodeConfig): number;
}

function createNode(ctx: Context, cfg: NodeConfig): Node {
  if (cfg.network === 'lookup') {
    const [network, oracle] = lookup.Network.create(ctx, cfg.config);
    return {
      network,
      register: (index, next) => {
        if (next.network !== 'lookup') throw new CliError('Config', 'network cannot change');
        oracle.register(index, next.peers);
        return next.peers.primary.length + next.peers.secondary.length;
      },
    };
  }
  const [network, oracle] = discovery.Network.create(ctx, cfg.config);
  return {
    network,
    register: (index, next) => {
      if (next.network !== 'discovery') throw new CliError('Config', 'network cannot change');
      oracle.register(index, next.peers);
      return next.peers.primary.length + next.peers.secondary.length;
    },
  };
}

/** The configured address of each lookup peer (discovery learns them: none). */
function addresses(cfg: NodeConfig): Map<string, string> {
  const out = new Map<string, string>();
  if (cfg.network === 'lookup') {
    for (const [pk, address] of [...cfg.peers.primary, ...cfg.peers.secondary]) {
      out.set(pk.toHex(), formatAddress(address));
    }
  }
  return out;
}

function logEvent(log: Logger, e: ConnectionEvent, known: ReadonlyMap<string, string>): void {
  const peer = e.peer.toHex();
  const fields = {
    peer,
    address: known.get(peer),
    reason: e.reason,
    missed: e.missed,
  };
  if (e.kind === 'blocked') log.warn(fields, 'peer blocked');
  else log.info(fields, `peer ${e.kind}`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A one-shot latch carrying the first value it is fired with. */
function latch<T>(): { readonly promise: Promise<T>; fire(value: T): void } {
  let fire: (value: T) => void = () => {};
  const promise = new Promise<T>((resolve) => {
    fire = resolve;
  });
  return { promise, fire: (value) => fire(value) };
}

/**
 * Runs the node of `cfg` until a stop signal; resolves with the exit status. Every outcome is
 * logged or written as one line on stderr here.
 */
export async function runNode(io: Io, cfg: NodeConfig): Promise<number> {
  let now = (): number => 0;
  const log = nodeLogger(io, 'info', () => now());
  const internal = nodeLogger(io, cfg.log, () => now());
  // A network that does not stop in time must not keep the process waiting for its tasks.
  const gaveUp = latch<number>();
  const stop = latch<string>();
  const onStop = (signal: NodeJS.Signals): void => stop.fire(signal);
  let reload = (): void => {};
  const onHup = (): void => reload();
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', onHup);
  const main = nodeRuntime({ log: internal }).run(async (ctx) => {
    now = () => ctx.clock.now();
    const node = createNode(ctx, cfg);
    const events = node.network.events();
    const handle = node.network.start();
    // Resolves with the network's failure (undefined once it stopped cleanly); never rejects.
    const ended = handle.done.then(
      () => undefined,
      (err: unknown) => err ?? new Error('the network failed'),
    );
    let known = addresses(cfg);
    let index = 0;
    node.register(index, cfg);
    const watcher = ctx.spawn('events', async () => {
      for await (const e of events) logEvent(log, e, known);
    });
    // Primaries that do not connect are named in a warning (src/cli/reach.ts).
    const reachStop = new AbortController();
    void ended.then(() => reachStop.abort());
    const reach = ctx.spawn('reach', () =>
      reportReachability(node.network, cfg.signer.publicKey, ctx.clock, log, reachStop.signal),
    );
    reload = () => {
      let next: NodeConfig;
      try {
        next = loadConfig(cfg.path);
      } catch (err) {
        log.error({ err: messageOf(err) }, 'reload failed; keeping the current peer sets');
        return;
      }
      const changed = changedFields(cfg, next);
      if (changed.length > 0) {
        log.warn({ fields: changed }, 'reload applies only peers; restart to apply the rest');
      }
      try {
        const count = node.register(index + 1, next);
        index++;
        known = addresses(next);
        log.info({ index, peers: count }, 'peer set registered');
      } catch (err) {
        log.error({ err: messageOf(err) }, 'reload failed; keeping the current peer sets');
      }
    };

    const bound = await Promise.race([node.network.address(), stop.promise.then(() => null)]);
    let admin: AdminServer | undefined;
    let status = 0;
    if (bound === undefined) {
      // The listener could not bind: the network has stopped with ListenFailed.
      io.err(`authp2p: ${messageOf(await ended)}\n`);
      status = 1;
    } else if (bound !== null) {
      log.info(
        {
          key: cfg.signer.publicKey.toHex(),
          network: cfg.network,
          listen: formatSocketAddr(bound),
          peers: cfg.peers.primary.length + cfg.peers.secondary.length,
        },
        'node running',
      );
      if (cfg.admin !== undefined) {
        try {
          const options = { listen: cfg.admin };
          admin = await serveAdmin(
            ctx,
            node.network,
            cfg.adminToken === undefined ? options : { ...options, token: cfg.adminToken },
          );
          log.info(
            { admin: formatSocketAddr(admin.address), url: admin.url },
            'admin endpoint listening',
          );
        } catch (err) {
          io.err(`authp2p: ${messageOf(err)}\n`);
          status = 1;
        }
      }
      if (status === 0) {
        const outcome = await Promise.race([
          stop.promise.then((signal) => ({ signal })),
          ended.then((err) => ({ err })),
        ]);
        if ('err' in outcome) {
          io.err(`authp2p: the network stopped on its own: ${messageOf(outcome.err)}\n`);
          status = 1;
        } else {
          log.info({ signal: outcome.signal }, 'stopping');
        }
      }
    }
    reload = () => {};
    // The admin endpoint first (its clients see it go), then the network: both within the deadline.
    const stopping = (async () => {
      try {
        await admin?.stop();
      } catch (err) {
        log.warn({ err: messageOf(err) }, 'admin endpoint failed to stop');
      }
      handle.stop();
      await ended;
    })();
    const timer = new AbortController();
    const stopped = await Promise.race([
      stopping.then(() => true),
      ctx.clock.sleep(STOP_DEADLINE_MS, timer.signal).then(
        () => false,
        () => false,
      ),
    ]);
    timer.abort();
    if (!stopped) {
      io.err(`authp2p: the network did not stop within ${STOP_DEADLINE_MS} ms\n`);
      gaveUp.fire(1);
      return 1;
    }
    reachStop.abort();
    await Promise.all([watcher.done, reach.done]);
    if (status === 0) log.info({}, 'node stopped');
    return status;
  });
  try {
    return await Promise.race([main, gaveUp.promise]);
  } catch (err) {
    io.err(`authp2p: ${messageOf(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onStop);
    process.off('SIGTERM', onStop);
    process.off('SIGHUP', onHup);
  }
}
