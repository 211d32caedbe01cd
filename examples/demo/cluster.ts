/**
 * The demo's cluster: `n` discovery or lookup peers on 127.0.0.1 in one process, each sending on
 * two channels (0: a broadcast, low priority; 1: one random peer, high priority) and counting what
 * it receives. Used by `main.ts` (`npm run demo`) and by the web view's browser test.
 *
 * Every peer gets a deterministic test key (`PrivateKey.fromSeed(i + 1)`) and the whole cluster
 * is registered as peer set 0. Discovery: the set is keys only; peer 0 is the bootstrapper and
 * knows no address, every other peer knows only peer 0's. Lookup: every peer is given every
 * address.
 */
import { createServer } from 'node:net';
import { ed25519 } from '../../src/crypto/index.js';
import { discovery, lookup, Quota, Recipients } from '../../src/index.js';
import type { Context, Handle } from '../../src/runtime/index.js';

/** Which network the cluster runs. */
export type Flavour = 'discovery' | 'lookup';

/** How the cluster runs. */
export interface ClusterOptions {
  readonly network: Flavour;
  readonly peers: number;
  /** Bytes per message. */
  readonly size: number;
  /** Messages per second per peer and channel. */
  readonly rate: number;
  /** Inbound and outbound limit per peer and channel, messages per second. */
  readonly quota: number;
}

/** What one peer counted. */
export interface PeerStats {
  sent: number;
  received: number;
  /** Direct sends that reached nobody (not connected, or over quota). */
  rateLimited: number;
  /** Peers heard from on the broadcast channel (by index). */
  readonly heardFrom: Set<number>;
}

/** One running peer. */
export interface ClusterPeer {
  readonly i: number;
  readonly key: ed25519.PrivateKey;
  readonly address: string;
  readonly ctx: Context;
  readonly network: lookup.Network | discovery.Network;
  readonly handle: Handle<void>;
  readonly stats: PeerStats;
  /** The task sending on both channels. */
  readonly sender: Handle<void>;
  /** The tasks receiving on each channel. */
  readonly receivers: readonly Handle<void>[];
  /** Stops the peer's traffic and its network; resolves when its network has stopped. */
  stop(): Promise<void>;
}

/** Finds `n` free TCP ports on 127.0.0.1 (bind to port 0, read the port, release it). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === 'string') throw new Error('no port');
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Creates peer `i`'s network and registers peer set 0 (see the module documentation). */
function createNetwork(
  ctx: Context,
  opts: ClusterOptions,
  i: number,
  keys: readonly ed25519.PrivateKey[],
  addresses: readonly string[],
  namespace: Uint8Array,
): [lookup.Network | discovery.Network, () => void] {
  const shared = {
    signer: keys[i]!,
    namespace,
    listen: addresses[i]!,
    maxPeersPerSet: opts.peers,
    maxMessageSize: Math.max(opts.size, 1024),
  };
  if (opts.network === 'lookup') {
    const [network, oracle] = lookup.Network.create(ctx, lookup.Config.local(shared));
    const peerSet = keys.map((k, j) => [k.publicKey, addresses[j]!] as const);
    return [network, () => void oracle.register(0, peerSet)];
  }
  const config = discovery.Config.local({
    ...shared,
    dialable: addresses[i]!,
    bootstrappers: i === 0 ? [] : [[keys[0]!.publicKey, addresses[0]!]],
  });
  const [network, oracle] = discovery.Network.create(ctx, config);
  return [
    network,
    () =>
      void oracle.register(
        0,
        keys.map((k) => k.publicKey),
      ),
  ];
}

/** Starts the cluster under `ctx` (peer `i` under `ctx.child('peer<i>')`). */
export async function startCluster(ctx: Context, opts: ClusterOptions): Promise<ClusterPeer[]> {
  const ports = await freePorts(opts.peers);
  const keys = Array.from({ length: opts.peers }, (_, i) =>
    ed25519.PrivateKey.fromSeed(BigInt(i + 1)),
  );
  const index = new Map(keys.map((k, i) => [k.publicKey.toHex(), i]));
  const addresses = ports.map((port) => `127.0.0.1:${port}`);
  const namespace = new TextEncoder().encode('authp2p-demo');
  const peers: ClusterPeer[] = [];
  for (let i = 0; i < opts.peers; i++) {
    const peerCtx = ctx.child(`peer${i}`);
    const [network, registerPeerSet] = createNetwork(peerCtx, opts, i, keys, addresses, namespace);
    const quota = Quota.perSecond(opts.quota);
    const [broadcast, broadcastIn] = network.register(0, quota);
    const [direct, directIn] = network.register(1, quota);
    const handle = network.start();
    registerPeerSet();
    const stats: PeerStats = { sent: 0, received: 0, rateLimited: 0, heardFrom: new Set() };
    const others = keys.filter((_, j) => j !== i).map((k) => k.publicKey);
    // Sender: both channels, `rate` messages per second each.
    const sender = peerCtx.spawn('demo_sender', async (c) => {
      const payload = new Uint8Array(opts.size);
      const view = new DataView(payload.buffer);
      let seq = 0;
      const interval = 1000 / opts.rate;
      let next = c.clock.now();
      while (!c.signal.aborted) {
        view.setUint16(0, i);
        view.setUint32(2, seq++);
        const all = broadcast.send(Recipients.all(), payload, false);
        const target = others[c.rng.int(0, others.length)]!;
        const one = direct.send(Recipients.one(target), payload, true);
        stats.sent += all.length + one.length;
        if (one.length === 0) stats.rateLimited += 1;
        next += interval;
        await c.clock.sleepUntil(next, c.signal).catch(() => undefined);
      }
    });
    const receivers = (
      [
        ['demo_broadcast', broadcastIn],
        ['demo_direct', directIn],
      ] as const
    ).map(([label, receiver]) =>
      peerCtx.spawn(label, async (c) => {
        try {
          for (;;) {
            const [from, msg] = await receiver.recv({ signal: c.signal });
            stats.received += 1;
            if (label === 'demo_broadcast' && msg.length >= 2) {
              const j = index.get(from.toHex());
              if (j !== undefined) stats.heardFrom.add(j);
            }
          }
        } catch {
          // Stopping the task (or NetworkClosed at shutdown) ends the loop.
        }
      }),
    );
    const tasks = [sender, ...receivers];
    peers.push({
      i,
      key: keys[i]!,
      address: addresses[i]!,
      ctx: peerCtx,
      network,
      handle,
      stats,
      sender,
      receivers,
      stop: async () => {
        for (const t of tasks) t.stop('peer stopped');
        handle.stop('peer stopped');
        await Promise.allSettled([handle.done, ...tasks.map((t) => t.done)]);
      },
    });
  }
  return peers;
}
