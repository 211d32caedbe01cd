/**
 * Fixtures for the utilities tests: two connected peers of a real lookup or discovery network
 * on the deterministic runtime, exposing what the utilities need (channel 0, a blocker, a
 * check that one blocked the other).
 */

import type { ed25519 } from '../../../src/crypto/index.js';
import type { Receiver, Sender } from '../../../src/p2p/authenticated/channels.js';
import type { Context } from '../../../src/runtime/context.js';
import * as discovery from '../authenticated/discovery/network/helpers.js';
import * as lookup from '../authenticated/lookup/network/helpers.js';

export { twice } from '../authenticated/scenarios.js';

/** One peer as the utilities tests see it. */
export interface UtilPeer {
  readonly pk: ed25519.PublicKey;
  readonly ctx: Context;
  readonly sender: Sender;
  readonly receiver: Receiver;
  /** The peer's oracle (a {@link Blocker}). */
  readonly oracle: { block(pk: ed25519.PublicKey): unknown };
  /** Whether this peer's tracker holds a block on `other`. */
  blocked(other: UtilPeer): boolean;
  /** Whether this peer is connected to `other`. */
  connected(other: UtilPeer): boolean;
}

/** Which network a test runs over. */
export type Flavour = 'lookup' | 'discovery';

/** What both flavours' test peers have in common. */
interface AnyPeer {
  readonly pk: ed25519.PublicKey;
  readonly ctx: Context;
  readonly sender: Sender;
  readonly receiver: Receiver;
  readonly oracle: { block(pk: ed25519.PublicKey): unknown };
  readonly network: { connectedPeers(): ed25519.PublicKey[] };
}

function view(p: AnyPeer): UtilPeer {
  const blocked = p.ctx.child('network').child('tracker').metrics.gauge('blocked', '', ['peer']);
  return {
    pk: p.pk,
    ctx: p.ctx,
    sender: p.sender,
    receiver: p.receiver,
    oracle: p.oracle,
    blocked: (o) => blocked.get({ peer: o.pk.toHex() }) !== 0,
    connected: (o) => p.network.connectedPeers().some((k) => k.equals(o.pk)),
  };
}

/** Starts two peers of `flavour`, registers them with each other and waits until connected. */
export async function pair(
  ctx: Context,
  flavour: Flavour,
): Promise<[UtilPeer, UtilPeer, () => Promise<void>]> {
  if (flavour === 'lookup') {
    const peers = [lookup.startPeer(ctx, 1), lookup.startPeer(ctx, 2)];
    for (const p of peers) p.oracle.register(0, lookup.entries(peers));
    await lookup.until(ctx, () => lookup.fullMesh(peers), 'lookup peers connect');
    return [view(peers[0]!), view(peers[1]!), () => lookup.stopAll(peers)];
  }
  const boot = discovery.startPeer(ctx, 1);
  const peers = [boot, discovery.startPeer(ctx, 2, { bootstrappers: [boot] })];
  for (const p of peers) p.oracle.register(0, discovery.keys(peers));
  await discovery.until(ctx, () => discovery.fullMesh(peers), 'discovery peers connect');
  return [view(peers[0]!), view(peers[1]!), () => discovery.stopAll(peers)];
}

export { until } from '../authenticated/lookup/network/helpers.js';
