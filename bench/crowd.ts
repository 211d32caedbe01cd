/**
 * The crowd of the memory and scale benchmarks (bench/p2p.ts, bench/scale.ts): lightweight
 * clients that speak the lookup wire protocol to one node without running a network each. A
 * client dials the node, completes the stream handshake with key `PrivateKey.fromSeed(seed)`,
 * pings every `pingFrequencyMs` as a peer actor would, reads and discards what arrives, and
 * otherwise stays idle. The node registers the same keys as secondary peers
 * ({@link crowdRegistration}), with the egress IP each client dials from.
 *
 * @module
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { ed25519 } from '../src/crypto/index.js';
import { Config, type Oracle } from '../src/p2p/authenticated/lookup/index.js';
// The crowd speaks the lookup wire protocol without a network: internal, not public API.
import { streamConfig } from '../src/p2p/authenticated/lookup/network.js';
import { PING_FRAME } from '../src/p2p/authenticated/lookup/types.js';
import type { Connection, Context } from '../src/runtime/index.js';
import { type Config as StreamConfig, dial as streamDial } from '../src/stream/index.js';
import { nowNs, round, secondsSince } from './common.js';

/** The namespace of every benchmark network. */
export const NAMESPACE = new TextEncoder().encode('authp2p-bench');

/**
 * The loopback address client `i` (0-based) dials from when the crowd is spread: 250 hosts per
 * /24 (`.1`-`.250`) from 127.1.0.x on, so each client has its own IP (the per-IP handshake
 * limit applies to each alone). Without `spread`, every client dials from 127.0.0.1.
 */
export function clientIp(i: number, spread: boolean): string {
  if (!spread) return '127.0.0.1';
  const subnet = Math.floor(i / 250);
  return `127.${1 + (subnet >> 8)}.${subnet & 255}.${1 + (i % 250)}`;
}

/** The stream settings a lookup node with key `seed` uses (Config.local), for the crowd's ends. */
export function crowdStreamConfig(seed: number, maxMessageSize: number): StreamConfig {
  return streamConfig(
    Config.local({
      signer: ed25519.PrivateKey.fromSeed(BigInt(seed)),
      namespace: NAMESPACE,
      listen: '127.0.0.1:0',
      maxPeersPerSet: 2,
      maxMessageSize,
    }),
  );
}

/**
 * Registers peer set 0 on `oracle`: the node itself (primary) and clients `0..n-1` of the crowd
 * (secondary: accepted, never dialed; keys `fromSeed(firstSeed + i)`, port 1 on the client's
 * {@link clientIp}, which is the egress IP the listener checks). Resolves once the tracker reports
 * the set (at most 10 s).
 */
export async function crowdRegistration(
  oracle: Oracle,
  self: [ed25519.PublicKey, string],
  p: { n: number; firstSeed: number; spread: boolean },
): Promise<void> {
  const secondary: [ed25519.PublicKey, string][] = [];
  for (let i = 0; i < p.n; i++) {
    const pk = ed25519.PrivateKey.fromSeed(BigInt(p.firstSeed + i)).publicKey;
    secondary.push([pk, `${clientIp(i, p.spread)}:1`]);
  }
  oracle.register(0, { primary: [self], secondary });
  // The tracker applies the registration asynchronously: wait until it reports the set.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const set = await oracle.peerSet(0);
    if (set !== undefined && set.secondary.length + set.primary.length >= p.n) return;
    if (Date.now() > deadline) throw new Error('peer set not registered');
    await sleep(20);
  }
}

/** What {@link openCrowd} is asked to open. */
export interface CrowdParams {
  /** The node's listening port on 127.0.0.1. */
  port: number;
  /** Clients to open: indices `first .. first + n - 1`. */
  n: number;
  /** The first client's index (default 0). */
  first?: number;
  /** Client `i` uses key `fromSeed(firstSeed + i)`. */
  firstSeed: number;
  nodeSeed: number;
  /** Handshakes in flight at once. */
  concurrency: number;
  maxMessageSize: number;
  pingFrequencyMs: number;
  /** Whether each client dials from its own {@link clientIp}. */
  spread?: boolean;
  /** Attempts per client before giving up (default 5). */
  attempts?: number;
}

/**
 * Opens the clients `first .. first + n - 1` (see the module doc), `concurrency` at a time, and
 * appends each open connection to `into` (closing them is the caller's). A failed dial or
 * handshake is retried after 200 ms x attempt, up to `attempts` times; then it throws.
 */
export async function openCrowd(
  ctx: Context,
  p: CrowdParams,
  into: Connection[],
): Promise<{ opened: number; retries: number; seconds: number }> {
  const nodeKey = ed25519.PrivateKey.fromSeed(BigInt(p.nodeSeed)).publicKey;
  const first = p.first ?? 0;
  const attempts = p.attempts ?? 5;
  const t0 = nowNs();
  let next = first;
  const end = first + p.n;
  let retries = 0;
  let opened = 0;
  const one = async (i: number): Promise<void> => {
    const cfg = crowdStreamConfig(p.firstSeed + i, p.maxMessageSize);
    const localIp = p.spread === true ? clientIp(i, true) : undefined;
    for (let attempt = 1; ; attempt++) {
      let conn: Connection | undefined;
      try {
        conn = await ctx.network.dial({ ip: '127.0.0.1', port: p.port }, undefined, localIp);
        const session = await streamDial(ctx, cfg, conn, nodeKey);
        const c = conn;
        into.push(c);
        opened++;
        // Read and discard (the node's pings); ping the node as its peer actor would.
        ctx.spawn('read', async () => {
          try {
            for (;;) await session.receiver.recv();
          } catch {
            c.close();
          }
        });
        ctx.spawn('ping', async (child) => {
          try {
            for (;;) {
              await child.clock.sleep(p.pingFrequencyMs, child.signal);
              await session.sender.send(PING_FRAME);
            }
          } catch {
            c.close();
          }
        });
        return;
      } catch (err) {
        conn?.close();
        if (attempt >= attempts) throw err;
        retries++;
        await sleep(200 * attempt);
      }
    }
  };
  const lane = async (): Promise<void> => {
    for (let i = next++; i < end; i = next++) await one(i);
  };
  await Promise.all(Array.from({ length: Math.min(p.concurrency, p.n) }, () => lane()));
  return { opened, retries, seconds: round(secondsSince(t0), 2) };
}
