/** Shared set-up for the simulated network's tests. */

import { ed25519 } from '../../../src/crypto/index.js';
import type { Receiver, Sender } from '../../../src/p2p/authenticated/channels.js';
import { type Config, Network, type Oracle } from '../../../src/p2p/simulated/index.js';
import type { LinkOptions } from '../../../src/p2p/simulated/link.js';
import { Quota } from '../../../src/quota/index.js';
import type { Context, Handle } from '../../../src/runtime/context.js';

export type PublicKey = ed25519.PublicKey;

/** commonware's deterministic test key `i`. */
export function key(i: number): PublicKey {
  return ed25519.PrivateKey.fromSeed(BigInt(i)).publicKey;
}

/** `n` keys (seeds 0..n-1). */
export function keys(n: number): PublicKey[] {
  return Array.from({ length: n }, (_, i) => key(i));
}

export const CONFIG: Config = {
  maxSize: 1 << 20,
  maxPeersPerSet: 64,
  disconnectOnBlock: true,
  trackedPeerSets: 4,
};

/** A link with no jitter and no loss. */
export function fixed(latency: number): LinkOptions {
  return { latency, jitter: 0, successRate: 1 };
}

export interface Sim {
  readonly network: Network;
  readonly oracle: Oracle;
  readonly handle: Handle<void>;
  readonly pks: PublicKey[];
  readonly channels: [Sender, Receiver][];
}

/**
 * Starts a network of `n` peers, all tracked at set 0, each with channel 0 registered, and
 * (unless `links` is false) a link each way between every two peers with `link`.
 */
export async function start(
  ctx: Context,
  n: number,
  options: { config?: Partial<Config>; link?: LinkOptions | false; quota?: Quota } = {},
): Promise<Sim> {
  const [network, oracle] = Network.create(ctx, { ...CONFIG, ...options.config });
  const handle = network.start();
  const pks = keys(n);
  oracle.manager().register(0, pks);
  const quota = options.quota ?? Quota.perSecond(1_000_000);
  const channels = pks.map((pk) => oracle.control(pk).register(0, quota));
  const link = options.link ?? fixed(10);
  if (link !== false) {
    const all: [PublicKey, PublicKey, LinkOptions][] = [];
    for (const a of pks) for (const b of pks) if (a !== b) all.push([a, b, link]);
    await oracle.addLinks(all);
  }
  return { network, oracle, handle, pks, channels };
}

/** Bytes of `s`. */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Text of `b`. */
export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/** Receives `n` messages from `receiver` with their virtual arrival times. */
export async function take(
  ctx: Context,
  receiver: Receiver,
  n: number,
): Promise<{ from: string; msg: string; at: number }[]> {
  const out: { from: string; msg: string; at: number }[] = [];
  while (out.length < n) {
    const [from, msg] = await receiver.recv();
    out.push({ from: from.toHex(), msg: text(msg), at: ctx.clock.now() });
  }
  return out;
}
