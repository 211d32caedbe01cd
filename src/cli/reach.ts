/**
 * The running node's reachability report: a peer that is registered as a primary (so this node
 * dials it) but does not connect is otherwise silent, since dial failures are the network's own
 * debug lines and the network's log is silent by default. Every {@link REACH_CHECK_MS} the node's
 * status is read, and the primaries that are not connected are logged as one warning that names
 * up to {@link REACH_NAMED} of them with their address and state. The warning is logged when
 * that set changes, and again every {@link REACH_REPEAT_MS} while it stays. Once every primary
 * is connected after such a warning, one info line says so.
 *
 * @module
 */

import type { PublicKey } from '../crypto/ed25519.js';
import type { NetworkStatus, StatusOptions } from '../p2p/authenticated/status.js';
import type { Clock, Logger } from '../runtime/index.js';

/** How often the status is read (ms); the first read is one period after the start. */
export const REACH_CHECK_MS = 30_000;

/** How often an unchanged set of unreachable primaries is logged again (ms). */
export const REACH_REPEAT_MS = 300_000;

/** How many unreachable primaries a warning names (it counts all of them). */
export const REACH_NAMED = 5;

/** The most peers one check reads from the status (pages of the tracker's directory). */
export const REACH_MAX_PEERS = 10_000;

/** What the report reads: a network's status pages. */
export interface StatusReader {
  status(options?: StatusOptions): Promise<NetworkStatus | undefined>;
}

/** One unreachable primary as the warning names it. */
export interface UnreachablePeer {
  readonly peer: string;
  readonly address: string | undefined;
  readonly state: string;
}

/** The outcome of one check: the primaries of the retained sets, and those not connected. */
export interface Reachability {
  readonly primaries: number;
  readonly unreachable: readonly UnreachablePeer[];
}

/**
 * Reads `network`'s status (up to {@link REACH_MAX_PEERS} peers) and returns the primaries of
 * every retained set that are not connected, ordered by key; `undefined` once the network has
 * stopped.
 */
export async function checkReachability(
  network: StatusReader,
  myself: PublicKey,
): Promise<Reachability | undefined> {
  const first = await network.status({ offset: 0, limit: 1000 });
  if (first === undefined) return undefined;
  const primaries = new Set<string>();
  for (const set of first.sets) for (const k of set.primary) primaries.add(k.toHex());
  primaries.delete(myself.toHex());
  const state = new Map<string, UnreachablePeer>();
  let page: NetworkStatus | undefined = first;
  let seen = 0;
  while (page !== undefined) {
    for (const p of page.peers) {
      const hex = p.key.toHex();
      if (primaries.has(hex)) state.set(hex, { peer: hex, address: p.address, state: p.state });
    }
    seen += page.peers.length;
    if (page.peers.length === 0 || seen >= page.total || seen >= REACH_MAX_PEERS) break;
    page = await network.status({ offset: seen, limit: 1000 });
  }
  const unreachable: UnreachablePeer[] = [];
  for (const hex of [...primaries].sort()) {
    const s = state.get(hex) ?? { peer: hex, address: undefined, state: 'unknown' };
    if (s.state !== 'connected') unreachable.push(s);
  }
  return { primaries: primaries.size, unreachable };
}

/**
 * Logs the reachability of `network`'s primaries to `log` (see the module) until `signal`
 * aborts or the network stops. Resolves then; never rejects (a failed status read is logged at
 * debug and retried at the next period).
 */
export async function reportReachability(
  network: StatusReader,
  myself: PublicKey,
  clock: Clock,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  let lastKeys = '';
  let lastAt = 0;
  while (!signal.aborted) {
    try {
      await clock.sleep(REACH_CHECK_MS, signal);
    } catch {
      return;
    }
    let r: Reachability | undefined;
    try {
      r = await checkReachability(network, myself);
    } catch (err) {
      log.debug({ err: err instanceof Error ? err.message : String(err) }, 'status read failed');
      continue;
    }
    if (r === undefined || signal.aborted) return;
    const keys = r.unreachable.map((u) => u.peer).join(',');
    const now = clock.now();
    if (r.unreachable.length > 0) {
      if (keys !== lastKeys || now - lastAt >= REACH_REPEAT_MS) {
        log.warn(
          {
            unreachable: r.unreachable.length,
            primaries: r.primaries,
            peers: r.unreachable.slice(0, REACH_NAMED),
          },
          'not connected to some primary peers',
        );
        lastAt = now;
      }
    } else if (lastKeys !== '') {
      log.info({ primaries: r.primaries }, 'connected to every primary peer');
    }
    lastKeys = keys;
  }
}
