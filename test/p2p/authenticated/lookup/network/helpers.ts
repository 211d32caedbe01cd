/**
 * Fixtures for the lookup network tests: simulated peers on the deterministic runtime's
 * in-memory network (one IP per peer), test keys, and polling on the virtual clock.
 */

import assert from 'node:assert/strict';
import { ed25519 } from '../../../../../src/crypto/index.js';
import type { Receiver, Sender } from '../../../../../src/p2p/authenticated/channels.js';
import { Config, type ConfigInput } from '../../../../../src/p2p/authenticated/lookup/config.js';
import { Network } from '../../../../../src/p2p/authenticated/lookup/network.js';
import type { Oracle } from '../../../../../src/p2p/authenticated/lookup/oracle.js';
import { Quota } from '../../../../../src/quota/index.js';
import type { Context, Counter, Gauge, Handle } from '../../../../../src/runtime/context.js';
import { simulatedNetwork, withNetwork } from '../../../../../src/runtime/index.js';

export const NAMESPACE = new TextEncoder().encode('authp2p-lookup-test');

/** commonware's deterministic test key `n`. */
export function signer(n: number): ed25519.PrivateKey {
  return ed25519.PrivateKey.fromSeed(BigInt(n));
}

/** The simulated IP of peer `i` (10.0.x.y, never a network or broadcast address). */
export function ipOf(i: number): string {
  return `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`;
}

/** Overrides accepted by {@link startPeer}. */
export type Overrides = Omit<Partial<ConfigInput>, 'signer' | 'namespace'>;

/** One simulated lookup peer. */
export interface Peer {
  readonly i: number;
  readonly key: ed25519.PrivateKey;
  readonly pk: ed25519.PublicKey;
  readonly hex: string;
  readonly ip: string;
  /** `'ip:port'` it listens on. */
  readonly address: string;
  readonly ctx: Context;
  readonly label: string;
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
  /** Quota of channel 0 (default 1000/s). */
  readonly quota?: Quota;
  readonly overrides?: Overrides;
  /** The preset the config starts from (default `local`). */
  readonly preset?: 'local' | 'recommended';
  /** Label of the peer's child context (default `p<i>`); use a new one to restart a peer. */
  readonly label?: string;
  /** Called before the network starts (to register more channels). */
  readonly beforeStart?: (network: Network) => void;
}

/**
 * Creates and starts peer `i`: context `p<i>` dialing from {@link ipOf}(i), listening on
 * `ipOf(i):port`, `Config.local` with `overrides`, channel 0 registered.
 */
export function startPeer(root: Context, i: number, options: PeerOptions = {}): Peer {
  const key = signer(i);
  const ip = ipOf(i);
  const port = options.port ?? 3000;
  const label = options.label ?? `p${i}`;
  const ctx = withNetwork(root.child(label), simulatedNetwork(root).host(ip));
  const config = Config[options.preset ?? 'local']({
    signer: key,
    namespace: NAMESPACE,
    listen: `${ip}:${port}`,
    maxPeersPerSet: 32,
    maxMessageSize: 1024,
    ...options.overrides,
  });
  const [network, oracle] = Network.create(ctx, config);
  const [sender, receiver] = network.register(0, options.quota ?? Quota.perSecond(1000));
  options.beforeStart?.(network);
  const handle = network.start();
  return {
    i,
    key,
    pk: key.publicKey,
    hex: key.publicKey.toHex(),
    ip,
    address: `${ip}:${port}`,
    ctx,
    label,
    network,
    oracle,
    sender,
    receiver,
    handle,
  };
}

/** `[publicKey, address]` entries for a registration. */
export function entries(peers: readonly Peer[]): [ed25519.PublicKey, string][] {
  return peers.map((p) => [p.pk, p.address]);
}

/** The tracker's `connected{peer}` gauge of `peer` (non-zero while `peer` holds an active connection to the labelled peer). */
export function connectedGauge(peer: Peer): Gauge {
  return peer.ctx.child('network').child('tracker').metrics.gauge('connected', '', ['peer']);
}

/** Whether `a`'s tracker has an active connection with `b`. */
export function isConnected(a: Peer, b: Peer): boolean {
  return connectedGauge(a).get({ peer: b.hex }) !== 0;
}

/** A counter of `peer`'s network by its name under `network_<sub>`. */
export function counter(
  peer: Pick<Peer, 'ctx'>,
  sub: string | undefined,
  name: string,
  labels: string[] = [],
): Counter {
  const base = peer.ctx.child('network');
  return (sub === undefined ? base : base.child(sub)).metrics.counter(name, '', labels);
}

/**
 * Polls `cond` every `stepMs` of virtual time until it holds; fails after `timeoutMs`. Returns
 * the virtual time at which it held.
 */
export async function until(
  ctx: Context,
  cond: () => boolean,
  what: string,
  { stepMs = 50, timeoutMs = 120_000 }: { stepMs?: number; timeoutMs?: number } = {},
): Promise<number> {
  const end = ctx.clock.now() + timeoutMs;
  while (!cond()) {
    assert.ok(ctx.clock.now() < end, `timed out waiting for: ${what}`);
    await ctx.clock.sleep(stepMs);
  }
  return ctx.clock.now();
}

/** Whether every pair of `peers` is connected (both sides). */
export function fullMesh(peers: readonly Peer[]): boolean {
  for (const a of peers) for (const b of peers) if (a !== b && !isConnected(a, b)) return false;
  return true;
}

/** Stops every peer and waits for its network task to end. */
export async function stopAll(peers: readonly Peer[]): Promise<void> {
  for (const p of peers) p.handle.stop();
  await Promise.all(peers.map((p) => p.handle.done));
}

/** The open simulated connections between the IPs of `a` and `b` (either direction). */
export function linksBetween(ctx: Context, a: Peer, b: Peer): number[] {
  return simulatedNetwork(ctx)
    .connections()
    .filter(
      (c) =>
        (c.dialer.ip === a.ip && c.listener.ip === b.ip) ||
        (c.dialer.ip === b.ip && c.listener.ip === a.ip),
    )
    .map((c) => c.id);
}

const te = new TextEncoder();
/** UTF-8 bytes. */
export function utf8(s: string): Uint8Array {
  return te.encode(s);
}
