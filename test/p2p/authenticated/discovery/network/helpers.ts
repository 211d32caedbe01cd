/**
 * Fixtures for the discovery network tests: simulated peers on the deterministic runtime's
 * in-memory network (one IP per peer) that know only their bootstrappers' addresses. The
 * generic fixtures (keys, IPs, polling, mesh checks) are lookup's, shared.
 */

import type { ed25519 } from '../../../../../src/crypto/index.js';
import { parseIngress } from '../../../../../src/p2p/address.js';
import type { Receiver, Sender } from '../../../../../src/p2p/authenticated/channels.js';
import { Config, type ConfigInput } from '../../../../../src/p2p/authenticated/discovery/config.js';
import { Info } from '../../../../../src/p2p/authenticated/discovery/info.js';
import { Network } from '../../../../../src/p2p/authenticated/discovery/network.js';
import type { Oracle } from '../../../../../src/p2p/authenticated/discovery/oracle.js';
import { maxGossipFrame } from '../../../../../src/p2p/authenticated/discovery/types.js';
import { streamConfig } from '../../../../../src/p2p/authenticated/network.js';
import { Quota } from '../../../../../src/quota/index.js';
import type {
  Context,
  Counter,
  Gauge,
  Handle,
  Logger,
} from '../../../../../src/runtime/context.js';
import {
  type DeterministicRuntimeOptions,
  deterministicRuntime,
  simulatedNetwork,
  withNetwork,
} from '../../../../../src/runtime/index.js';
import { dial } from '../../../../../src/stream/index.js';
import { ipOf, signer } from '../../lookup/network/helpers.js';
import { assertSameRun } from '../../scenarios.js';

export { ipOf, signer, until } from '../../lookup/network/helpers.js';
export { twice } from '../../scenarios.js';

export const NAMESPACE = new TextEncoder().encode('authp2p-discovery-test');

/** `key`'s validly signed record for `address` (`'ip:port'`) at `timestampMs`, under {@link NAMESPACE}. */
export function signedRecord(key: ed25519.PrivateKey, address: string, timestampMs: number): Info {
  return Info.sign(key, NAMESPACE, parseIngress(address), timestampMs);
}

/** Overrides accepted by {@link startPeer}. */
export type Overrides = Omit<Partial<ConfigInput>, 'signer' | 'namespace'>;

/** One simulated discovery peer. */
export interface Peer {
  readonly i: number;
  readonly key: ed25519.PrivateKey;
  readonly pk: ed25519.PublicKey;
  readonly hex: string;
  readonly ip: string;
  readonly port: number;
  /** `'ip:port'` it listens on and advertises. */
  readonly address: string;
  readonly ctx: Context;
  readonly network: Network;
  readonly oracle: Oracle;
  /** Channel 0. */
  readonly sender: Sender;
  readonly receiver: Receiver;
  readonly handle: Handle<void>;
}

/** Options of {@link startPeer}. */
export interface PeerOptions {
  readonly port?: number;
  /** The simulated IP (default {@link ipOf}(i)). */
  readonly ip?: string;
  /** Quota of channel 0 (default 1000/s). */
  readonly quota?: Quota;
  /** Bootstrappers as peers (their addresses are used). */
  readonly bootstrappers?: readonly Peer[];
  readonly overrides?: Overrides;
  /** The preset the config starts from (default `local`). */
  readonly preset?: 'local' | 'recommended';
  /** Label of the peer's child context (default `p<i>`); use a new one to restart a peer. */
  readonly label?: string;
}

/**
 * Creates and starts peer `i`: context `p<i>` on {@link ipOf}(i), listening on and advertising
 * `ip:port`, `Config.local` with `overrides`, channel 0 registered.
 */
export function startPeer(root: Context, i: number, options: PeerOptions = {}): Peer {
  const key = signer(i);
  const ip = options.ip ?? ipOf(i);
  const port = options.port ?? 3000;
  const ctx = withNetwork(root.child(options.label ?? `p${i}`), simulatedNetwork(root).host(ip));
  const config = Config[options.preset ?? 'local']({
    signer: key,
    namespace: NAMESPACE,
    listen: `${ip}:${port}`,
    dialable: `${ip}:${port}`,
    bootstrappers: (options.bootstrappers ?? []).map((b) => [b.pk, b.address] as const),
    maxPeersPerSet: 64,
    maxMessageSize: 1024,
    ...options.overrides,
  });
  const [network, oracle] = Network.create(ctx, config);
  const [sender, receiver] = network.register(0, options.quota ?? Quota.perSecond(1000));
  const handle = network.start();
  return {
    i,
    key,
    pk: key.publicKey,
    hex: key.publicKey.toHex(),
    ip,
    port,
    address: `${ip}:${port}`,
    ctx,
    network,
    oracle,
    sender,
    receiver,
    handle,
  };
}

/** The keys of `peers`, for a registration. */
export function keys(peers: readonly Peer[]): ed25519.PublicKey[] {
  return peers.map((p) => p.pk);
}

/** The tracker's `connected{peer}` gauge of `peer`. */
export function connectedGauge(peer: Peer): Gauge {
  return peer.ctx.child('network').child('tracker').metrics.gauge('connected', '', ['peer']);
}

/** Whether `a`'s router lists `b` as connected. */
export function isConnected(a: Peer, b: Peer): boolean {
  return a.network.connectedPeers().some((k) => k.equals(b.pk));
}

/** Whether every pair of `peers` is connected (both sides). */
export function fullMesh(peers: readonly Peer[]): boolean {
  for (const a of peers) if (a.network.connectedPeers().length < peers.length - 1) return false;
  for (const a of peers) for (const b of peers) if (a !== b && !isConnected(a, b)) return false;
  return true;
}

/** Stops every peer and waits for its network task to end. */
export async function stopAll(peers: readonly Peer[]): Promise<void> {
  for (const p of peers) p.handle.stop();
  await Promise.all(peers.map((p) => p.handle.done.catch(() => undefined)));
}

/**
 * `twice` (../../scenarios.ts) with a fresh {@link Captured} logger per run, handed to `scenario` to assert on
 * what was logged.
 */
export async function twiceLogged<T>(
  seed: number,
  scenario: (ctx: Context, log: Captured) => Promise<T>,
  options: Omit<DeterministicRuntimeOptions, 'seed' | 'log'> = {},
): Promise<T> {
  const runs = [new Captured(), new Captured()].map((log) =>
    deterministicRuntime({ seed, ...options, log: log.logger }).run((ctx) => {
      log.now = () => ctx.clock.now();
      return scenario(ctx, log);
    }),
  );
  const a = await runs[0]!;
  assertSameRun(a, await runs[1]!);
  return a.result;
}

/** One line written to a {@link Captured} logger: its bindings and fields merged. */
export interface LogLine {
  readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Readonly<Record<string, unknown>>;
  readonly msg: string | undefined;
  /** Virtual time of the line (ms), or 0 before {@link Captured.now} was set. */
  readonly at: number;
}

/**
 * A logger that keeps every line (all levels), for tests that assert what was logged. A fresh
 * one per run: pass `captured.logger` as the runtime's `log`.
 */
export class Captured {
  readonly lines: LogLine[] = [];
  /** The clock the lines are stamped with. */
  now: () => number = () => 0;
  readonly logger: Logger = this.#make({});

  #make(bindings: Record<string, unknown>): Logger {
    const line =
      (level: LogLine['level']) =>
      (obj: object, msg?: string): void => {
        this.lines.push({ level, fields: { ...bindings, ...obj }, msg, at: this.now() });
      };
    return {
      trace: line('trace'),
      debug: line('debug'),
      info: line('info'),
      warn: line('warn'),
      error: line('error'),
      child: (more) => this.#make({ ...bindings, ...more }),
    };
  }

  /** The lines with message `msg` whose fields include every entry of `fields`. */
  find(msg: string, fields: Readonly<Record<string, unknown>> = {}): LogLine[] {
    return this.lines.filter(
      (l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l.fields[k] === v),
    );
  }
}

/** A counter of `peer`'s network by its name under `network_<sub>` (as lookup's `counter`). */
export function counter(
  peer: Peer,
  sub: string | undefined,
  name: string,
  labels: string[] = [],
): Counter {
  const base = peer.ctx.child('network');
  return (sub === undefined ? base : base.child(sub)).metrics.counter(name, '', labels);
}

/** `peer`'s `messages_received{peer: from, message}` counter value. */
export function received(peer: Peer, fromHex: string, message: string): number {
  return counter(peer, undefined, 'messages_received', ['peer', 'message']).get({
    peer: fromHex,
    message,
  });
}

/** `peer`'s tracker `updates{peer: of}`: newer records accepted about `of`. */
export function updates(peer: Peer, of: Peer | ed25519.PublicKey): number {
  const hex = 'hex' in of ? of.hex : of.toHex();
  return counter(peer, 'tracker', 'updates', ['peer']).get({ peer: hex });
}

/** A hand-driven, authenticated connection to a discovery peer (see {@link hostileDial}). */
export interface Hostile {
  /** The key the connection authenticated with. */
  readonly key: ed25519.PrivateKey;
  /** Writes raw discovery frames (each one encrypted frame). */
  send(...frames: Uint8Array[]): Promise<void>;
  /** Resolves once the target has closed the connection (a receive fails). */
  readonly closed: Promise<void>;
  /** The frames the target sent, decoded leniently (tags only). */
  readonly tags: number[];
}

/**
 * Dials `target` from `ip` as `key` and completes a real handshake under the discovery stream
 * configuration, then hands back a connection on which the test writes whatever frames it likes.
 * The target must track `key`, or the handshake is refused.
 */
export async function hostileDial(
  ctx: Context,
  key: ed25519.PrivateKey,
  ip: string,
  target: Peer,
): Promise<Hostile> {
  const config = Config.local({
    signer: key,
    namespace: NAMESPACE,
    listen: `${ip}:3000`,
    dialable: `${ip}:3000`,
    bootstrappers: [],
    maxPeersPerSet: 64,
    maxMessageSize: 1024,
  });
  const conn = await simulatedNetwork(ctx).host(ip).dial({ ip: target.ip, port: target.port });
  const session = await dial(
    ctx,
    streamConfig(config, maxGossipFrame(config.maxPeersPerSet, config.peerGossipMaxCount)),
    conn,
    target.pk,
  );
  const tags: number[] = [];
  const closed = (async () => {
    for (;;) {
      try {
        const frame = await session.receiver.recv();
        tags.push(frame[0] ?? -1);
      } catch {
        return;
      }
    }
  })();
  return {
    key,
    send: (...frames) => session.sender.sendMany(frames),
    closed,
    tags,
  };
}
