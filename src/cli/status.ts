/**
 * `authp2p status --admin HOST:PORT`: a running node's peers from its admin endpoint's
 * `GET /status` (the JSON of API.md "Operating a node"), every page of it, as a table or
 * (`--json`) as one JSON document.
 *
 * @module
 */

import type { PeerJson, StatusJson } from '../admin/index.js';
import type { Context } from '../runtime/index.js';
import { CliError } from './errors.js';
import { getJson } from './http.js';
import { bytes, duration, shortKey, table } from './output.js';

/**
 * The `/status` document as {@link fetchStatus} returns it: every page merged (`offset` 0,
 * `peers.length === total`).
 */
export type Status = StatusJson;

/** Peers asked for per page (the endpoint's default). */
export const PAGE_SIZE = 1000;
/** Pages fetched at most (65,536 peers fit in 66). */
const MAX_PAGES = 128;

function invalid(target: string, why: string): CliError {
  return new CliError('Unreachable', `http://${target}/status: not a status document (${why})`);
}

function checkPage(target: string, v: unknown): Status {
  if (typeof v !== 'object' || v === null) throw invalid(target, 'not an object');
  const s = v as Record<string, unknown>;
  for (const f of ['key', 'network'] as const) {
    if (typeof s[f] !== 'string') throw invalid(target, `${f} is not a string`);
  }
  if (!Array.isArray(s.peers)) throw invalid(target, 'peers is not a list');
  if (!Array.isArray(s.sets)) throw invalid(target, 'sets is not a list');
  if (typeof s.total !== 'number') throw invalid(target, 'total is not a number');
  for (const p of s.peers as unknown[]) {
    if (typeof p !== 'object' || p === null || typeof (p as PeerJson).key !== 'string') {
      throw invalid(target, 'a peer has no key');
    }
  }
  return v as Status;
}

/**
 * Fetches every page of `target`'s `/status`.
 *
 * @throws CliError `Unreachable` if the endpoint does not answer (in `timeoutMs` per page) or
 *   does not answer with a status document.
 */
export async function fetchStatus(
  ctx: Context,
  target: string,
  options: {
    readonly token?: string | undefined;
    readonly timeoutMs: number;
    /** Peers asked for per page (default {@link PAGE_SIZE}). */
    readonly pageSize?: number;
  },
): Promise<Status> {
  const limit = options.pageSize ?? PAGE_SIZE;
  const first = checkPage(
    target,
    await getJson(ctx, target, `/status?offset=0&limit=${limit}`, options),
  );
  const peers = [...first.peers];
  for (let page = 1; peers.length < first.total && page < MAX_PAGES; page++) {
    const next = checkPage(
      target,
      await getJson(ctx, target, `/status?offset=${peers.length}&limit=${limit}`, options),
    );
    if (next.peers.length === 0) break; // the set shrank while we paged
    peers.push(...next.peers);
  }
  return { ...first, peers, total: peers.length, offset: 0 };
}

function stateText(p: PeerJson, now: number): string {
  if (p.state === 'blocked' && p.blockedUntil !== null) {
    return `blocked (${duration(p.blockedUntil - now)} left)`;
  }
  return p.state;
}

/** The status as the table `status` prints. `now` is the local clock (for "connected for"). */
export function formatStatus(s: Status, now: number): string {
  const sets = s.sets.map((set) => {
    const known =
      typeof set.known === 'string'
        ? `, ${[...set.known].filter((b) => b === '1').length} records known`
        : '';
    return `${set.index} (${set.primary.length + set.secondary.length} peers${known})`;
  });
  const head =
    `node ${s.key} (${s.network}) listening on ${s.listen}\n` +
    `peer sets: ${sets.length === 0 ? 'none' : sets.join(', ')}; ` +
    `${s.peers.filter((p) => p.state === 'connected').length} of ${s.total} peers connected\n` +
    (s.handshakes === undefined
      ? ''
      : `inbound handshakes: ${s.handshakes.failed} failed, ${s.handshakes.rateLimited} ` +
        `rate-limited, ${s.handshakes.blocked} from blocked IPs\n`);
  const rows = s.peers.map((p) => [
    shortKey(p.key),
    p.address ?? '-',
    stateText(p, now),
    p.state === 'connected' && p.since !== null ? duration(now - p.since) : '-',
    `${p.messagesIn}/${p.messagesOut}`,
    `${bytes(p.bytesIn)}/${bytes(p.bytesOut)}`,
    String(p.rateLimited),
    String(p.dropped),
  ]);
  const header = [
    'peer',
    'address',
    'state',
    'connected for',
    'msgs in/out',
    'bytes in/out',
    'rate-limited',
    'dropped',
  ];
  return head + (rows.length === 0 ? '(no peers)\n' : table(header, rows));
}
