/**
 * `authp2p check-peers CONFIG.json`: one authenticated handshake to every configured peer that
 * has an address (lookup: every peer; discovery: the bootstrappers), with the node's key and
 * namespace, reporting per peer whether it is reachable (TCP), whether it accepted us (it
 * answered our Syn with a valid SynAck), the round trip of that exchange, and the peer's clock
 * offset estimated from the SynAck's timestamp (the usual cause of an opaque handshake failure is
 * a skew beyond the synchrony bound).
 *
 * A peer holding a connection with this key refuses a second one, so when the node itself runs
 * (its admin endpoint answers with its key) the report comes from the node's own `/status`
 * instead, and no handshake disturbs it.
 *
 * Our side of the probe accepts any SynAck timestamp, so a skewed peer still yields its offset;
 * an offset the node itself would refuse is then reported as a failure.
 *
 * @module
 */

import type { ed25519 } from '../crypto/index.js';
import { type Address, formatAddress, ingressOf } from '../p2p/address.js';
import { resolveIngress } from '../p2p/authenticated/dialer.js';
import { streamConfig } from '../p2p/authenticated/network.js';
import type { Connection, Context } from '../runtime/index.js';
import { dial, Config as StreamConfig, StreamError } from '../stream/index.js';
import type { NodeConfig } from './config.js';
import { CliError } from './errors.js';
import { duration, shortKey, table } from './output.js';
import type { Status } from './status.js';

/** The result of checking one peer. `null` where the check did not get that far or the source cannot tell. */
export interface PeerCheck {
  readonly peer: string;
  readonly address: string | null;
  readonly reachable: boolean | null;
  readonly accepted: boolean | null;
  readonly roundTripMs: number | null;
  readonly clockOffsetMs: number | null;
  readonly error: string | null;
}

/** What `check-peers` reports (`--json` prints it as is). */
export interface CheckReport {
  /** `'dial'`: handshakes made now; `'status'`: the running node's own view. */
  readonly source: 'dial' | 'status';
  /** True when every peer passed. */
  readonly ok: boolean;
  readonly peers: readonly PeerCheck[];
}

/** Handshakes in flight at once. */
const CONCURRENCY = 16;
/** Our side of the probe tolerates any timestamp within a year, to measure the offset. */
const PROBE_BOUND_MS = 365 * 24 * 3600 * 1000;

interface Target {
  readonly peer: ed25519.PublicKey;
  readonly address: Address | undefined;
}

/** The configured peers other than ourselves, with their address when the config has one. */
function targets(cfg: NodeConfig, withoutAddress: boolean): Target[] {
  const self = cfg.signer.publicKey;
  const seen = new Set<string>([self.toHex()]);
  const out: Target[] = [];
  const add = (peer: ed25519.PublicKey, address: Address | undefined): void => {
    if (seen.has(peer.toHex())) return;
    seen.add(peer.toHex());
    out.push({ peer, address });
  };
  if (cfg.network === 'lookup') {
    for (const [pk, address] of [...cfg.peers.primary, ...cfg.peers.secondary]) add(pk, address);
  } else {
    for (const [pk, ingress] of cfg.config.bootstrappers) {
      add(
        pk,
        ingress.kind === 'socket'
          ? { kind: 'symmetric', addr: ingress.addr }
          : { kind: 'named', ingress },
      );
    }
    if (withoutAddress)
      for (const pk of [...cfg.peers.primary, ...cfg.peers.secondary]) add(pk, undefined);
  }
  return out;
}

function why(err: unknown): string {
  if (err instanceof StreamError) {
    switch (err.code) {
      case 'RecvFailed':
      case 'StreamClosed':
        return `${err.code}: the peer closed the handshake (we are not in its peer sets, it already holds a connection with this key, or our clocks differ beyond its bound)`;
      case 'HandshakeTimeout':
        return `${err.code}: no answer to the handshake in time`;
      case 'HandshakeFailed':
        return `${err.code}: ${err.message} (another key or namespace at that address?)`;
      default:
        return `${err.code}: ${err.message}`;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

async function checkOne(
  ctx: Context,
  cfg: NodeConfig,
  stream: StreamConfig,
  t: Target,
  timeoutMs: number,
): Promise<PeerCheck> {
  const base = {
    peer: t.peer.toHex(),
    address: t.address === undefined ? null : formatAddress(t.address),
  };
  const none = { reachable: null, accepted: null, roundTripMs: null, clockOffsetMs: null };
  if (t.address === undefined) return { ...base, ...none, error: 'no address configured' };
  const abort = new AbortController();
  let conn: Connection | undefined;
  const deadline = ctx.clock.sleep(timeoutMs, abort.signal).then(
    () => {
      abort.abort(new CliError('Unreachable', `no answer within ${timeoutMs} ms`));
      conn?.close();
    },
    () => {},
  );
  try {
    try {
      const addr = await resolveIngress(
        ctx,
        ingressOf(t.address),
        cfg.config.allowPrivateIps,
        abort.signal,
      );
      // From the node's listen IP, as the node's own dials: a lookup peer accepts only that.
      conn = await ctx.network.dial(addr, abort.signal, cfg.config.listen.ip);
    } catch (err) {
      return {
        ...base,
        ...none,
        reachable: false,
        error: why(abort.signal.aborted ? abort.signal.reason : err),
      };
    }
    const sent = ctx.clock.now();
    try {
      const session = await dial(ctx, stream, conn, t.peer);
      const received = ctx.clock.now();
      const offset = Math.round(session.peerTimestamp - (sent + received) / 2);
      const { synchronyBoundMs, maxHandshakeAgeMs } = cfg.config;
      // The node itself would refuse this SynAck (its own bounds, against its receipt time).
      const lag = session.peerTimestamp - received;
      const off = duration(Math.round(Math.abs(offset) / 1000) * 1000);
      const error =
        lag >= synchronyBoundMs
          ? `the peer's clock is ${off} ahead, beyond synchronyBoundMs ${synchronyBoundMs}`
          : -lag > maxHandshakeAgeMs
            ? `the peer's clock is ${off} behind, beyond maxHandshakeAgeMs ${maxHandshakeAgeMs}`
            : null;
      return {
        ...base,
        reachable: true,
        accepted: true,
        roundTripMs: Math.round(received - sent),
        clockOffsetMs: offset,
        error,
      };
    } catch (err) {
      return {
        ...base,
        ...none,
        reachable: true,
        accepted: false,
        error: why(abort.signal.aborted ? abort.signal.reason : err),
      };
    }
  } finally {
    conn?.close();
    abort.abort();
    await deadline;
  }
}

/** Checks every configured peer with an address by one handshake each. */
export async function checkByDialing(
  ctx: Context,
  cfg: NodeConfig,
  timeoutMs: number,
): Promise<CheckReport> {
  const base = streamConfig(cfg.config);
  const stream = new StreamConfig({
    signer: base.signer,
    namespace: base.namespace,
    maxMessageSize: base.maxMessageSize,
    synchronyBoundMs: PROBE_BOUND_MS,
    maxHandshakeAgeMs: PROBE_BOUND_MS,
    handshakeTimeoutMs: Math.min(base.handshakeTimeoutMs, timeoutMs),
  });
  const list = targets(cfg, false);
  const results: PeerCheck[] = new Array(list.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < list.length; i = next++) {
      results[i] = await checkOne(ctx, cfg, stream, list[i]!, timeoutMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, list.length) }, worker));
  return { source: 'dial', ok: results.every((r) => r.error === null), peers: results };
}

/** The same report from the running node's own `/status`: no handshake is made. */
export function checkFromStatus(cfg: NodeConfig, status: Status, now: number): CheckReport {
  const byKey = new Map(status.peers.map((p) => [p.key, p]));
  const peers = targets(cfg, true).map((t): PeerCheck => {
    const hex = t.peer.toHex();
    const p = byKey.get(hex);
    const address = p?.address ?? (t.address === undefined ? null : formatAddress(t.address));
    const base = { peer: hex, address, roundTripMs: null, clockOffsetMs: null };
    if (p === undefined) {
      return {
        ...base,
        reachable: null,
        accepted: null,
        error: 'not tracked by the running node (SIGHUP it to re-read its peers)',
      };
    }
    if (p.state === 'connected') return { ...base, reachable: true, accepted: true, error: null };
    if (p.state === 'blocked') {
      const left = p.blockedUntil === null ? '' : ` for ${duration(p.blockedUntil - now)}`;
      return { ...base, reachable: null, accepted: null, error: `blocked by the node${left}` };
    }
    return { ...base, reachable: null, accepted: null, error: `not connected (${p.state})` };
  });
  return { source: 'status', ok: peers.every((r) => r.error === null), peers };
}

function yesNo(v: boolean | null): string {
  return v === null ? '-' : v ? 'yes' : 'no';
}

/** The report as the table `check-peers` prints. */
export function formatReport(report: CheckReport, cfg: NodeConfig): string {
  const who = `${cfg.signer.publicKey.toHex()} (${cfg.network})`;
  const head =
    report.source === 'status'
      ? `status of the running node ${who} at ${cfg.admin}\n`
      : `handshakes as ${who}\n`;
  const rows = report.peers.map((r) => [
    shortKey(r.peer),
    r.address ?? '-',
    yesNo(r.reachable),
    yesNo(r.accepted),
    r.roundTripMs === null ? '-' : `${r.roundTripMs}ms`,
    r.clockOffsetMs === null ? '-' : `${r.clockOffsetMs > 0 ? '+' : ''}${r.clockOffsetMs}ms`,
    r.error ?? 'ok',
  ]);
  const failed = report.peers.filter((r) => r.error !== null).length;
  const body =
    rows.length === 0
      ? '(no configured peer has an address)\n'
      : table(
          ['peer', 'address', 'reachable', 'accepted', 'round trip', 'clock offset', 'result'],
          rows,
        );
  return `${head}${body}${failed === 0 ? 'all peers ok' : `${failed} of ${report.peers.length} failed`}\n`;
}
