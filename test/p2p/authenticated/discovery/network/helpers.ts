/**
 * Fixtures for the discovery network tests: simulated peers on the deterministic runtime's
 * in-memory network (one IP per peer) that know only their bootstrappers' addresses. The
 * generic fixtures (keys, IPs, polling, mesh checks) are lookup's, shared.
 */

import type { ed25519 } from '../../../../../src/crypto/index.js';
import type { Receiver, Sender } from '../../../../../src/p2p/authenticated/channels.js';
import { Config, type ConfigInput } from '../../../../../src/p2p/authenticated/discovery/config.js';
import { Network } from '../../../../../src/p2p/authenticated/discovery/network.js';
import type { Oracle } from '../../../../../src/p2p/authenticated/discovery/oracle.js';
import { Quota } from '../../../../../src/quota/index.js';
import type { Context, Gauge, Handle } from '../../../../../src/runtime/context.js';
import { simulatedNetwork, withNetwork } from '../../../../../src/runtime/index.js';
import { ipOf, signer } from '../../lookup/network/helpers.js';

export { ipOf, signer, until } from '../../lookup/network/helpers.js';

export const NAMESPACE = new TextEncoder().encode('authp2p-discovery-test');

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
