/**
 * The peers of the soak (bench/soak.ts): a group of lookup peers and a group of discovery peers on
 * loopback TCP under the Node runtime, with steady traffic, restarts (churn) and peer sets that
 * roll over.
 *
 * Lookup peers listen on 127.0.0.1 port 0, so a restarted one comes back on a new port and every
 * running lookup peer registers a new set with the new address. Discovery peer `i` listens on its
 * own address 127.0.2.(i+1) (the same after a restart) and knows only peer 0's address; every
 * restart rolls the discovery sets over too.
 *
 * @module
 */

import { ed25519 } from '../src/crypto/index.js';
import type { Sender } from '../src/p2p/authenticated/channels.js';
import * as discovery from '../src/p2p/authenticated/discovery/index.js';
import * as lookup from '../src/p2p/authenticated/lookup/index.js';
import { Recipients } from '../src/p2p/types.js';
import { Quota } from '../src/quota/index.js';
import type { Context, Handle } from '../src/runtime/index.js';

const NAMESPACE = new TextEncoder().encode('authp2p-soak');

/** One running (or stopped) soak peer. */
interface Peer {
  readonly flavour: 'lookup' | 'discovery';
  readonly index: number;
  readonly key: ed25519.PrivateKey;
  address: string;
  network: lookup.Network | discovery.Network | undefined;
  lookupOracle: lookup.Oracle | undefined;
  discoveryOracle: discovery.Oracle | undefined;
  sender: Sender | undefined;
  handle: Handle<void> | undefined;
  /** Settles when the receiver loop ends (the network stopped). */
  drained: Promise<void> | undefined;
}

/** Counters of the whole fleet. */
export interface FleetStats {
  sent: number;
  delivered: number;
  restarts: number;
  setsRegistered: number;
}

const LIMITS = {
  maxMessageSize: 1024,
  dialFrequencyMs: 200,
  allowedHandshakeRatePerIp: Quota.perSecond(10_000),
  allowedHandshakeRatePerSubnet: Quota.perSecond(10_000),
} as const;

/** A fleet of lookup and discovery peers in one Node-runtime context. */
export class Fleet {
  readonly stats: FleetStats = { sent: 0, delivered: 0, restarts: 0, setsRegistered: 0 };
  readonly #ctx: Context;
  readonly #lookup: Peer[];
  readonly #discovery: Peer[];
  readonly #payload = new Uint8Array(256);
  #lookupSet = 0;
  #discoverySet = 0;
  #next = 0;

  /** `peers` peers: half (rounded up) lookup, the rest discovery (from `discoveryPort` up). */
  constructor(ctx: Context, peers: number, discoveryPort = 47_000) {
    this.#ctx = ctx;
    const nl = Math.ceil(peers / 2);
    const mk = (flavour: Peer['flavour'], index: number, seed: number): Peer => ({
      flavour,
      index,
      key: ed25519.PrivateKey.fromSeed(BigInt(seed)),
      address:
        flavour === 'lookup' ? '127.0.0.1:0' : `127.0.2.${index + 1}:${discoveryPort + index}`,
      network: undefined,
      lookupOracle: undefined,
      discoveryOracle: undefined,
      sender: undefined,
      handle: undefined,
      drained: undefined,
    });
    this.#lookup = Array.from({ length: nl }, (_, i) => mk('lookup', i, i + 1));
    this.#discovery = Array.from({ length: peers - nl }, (_, i) => mk('discovery', i, 10_000 + i));
  }

  /** Starts every peer and registers the first sets. */
  async start(): Promise<void> {
    for (const p of this.#lookup) await this.#startLookup(p);
    this.#rollLookup();
    for (const p of this.#discovery) this.#startDiscovery(p);
    this.#rollDiscovery();
  }

  /** Connections (each counted once) of each group, and the count of a full mesh. */
  connections(): { lookup: number; discovery: number; full: number } {
    const count = (g: Peer[]): number =>
      g.reduce((s, p) => s + (p.network?.connected().length ?? 0), 0) / 2;
    const full = (n: number): number => (n * (n - 1)) / 2;
    return {
      lookup: count(this.#lookup),
      discovery: count(this.#discovery),
      full: full(this.#lookup.length) + full(this.#discovery.length),
    };
  }

  /** Whether both groups are full meshes. */
  meshed(): boolean {
    const c = this.connections();
    return c.lookup + c.discovery === c.full;
  }

  /** Every running peer sends one 256-byte message to all its connected peers. */
  tick(): void {
    for (const p of [...this.#lookup, ...this.#discovery]) {
      if (p.sender === undefined) continue;
      this.stats.sent += p.sender.send(Recipients.all(), this.#payload, false).length;
    }
  }

  /** Stops the next peer (round robin; discovery peer 0, the bootstrapper, is skipped) and starts it again. */
  async restartNext(): Promise<void> {
    const all = [...this.#lookup, ...this.#discovery.slice(1)];
    const p = all[this.#next++ % all.length]!;
    await this.#stop(p);
    if (p.flavour === 'lookup') {
      await this.#startLookup(p);
      this.#rollLookup();
    } else {
      this.#startDiscovery(p);
      this.#rollDiscovery();
    }
    this.stats.restarts++;
  }

  /** Stops every peer; resolves when every `done` has settled. */
  async stop(): Promise<void> {
    await Promise.all([...this.#lookup, ...this.#discovery].map((p) => this.#stop(p)));
  }

  async #stop(p: Peer): Promise<void> {
    p.handle?.stop();
    await p.handle?.done;
    await p.drained;
    p.network = undefined;
    p.sender = undefined;
    p.handle = undefined;
    p.drained = undefined;
  }

  #drain(p: Peer, receiver: AsyncIterable<unknown>): void {
    p.drained = (async () => {
      try {
        for await (const _ of receiver) this.stats.delivered++;
      } catch (e) {
        if ((e as { code?: string }).code !== 'NetworkClosed') throw e;
      }
    })();
  }

  async #startLookup(p: Peer): Promise<void> {
    const [network, oracle] = lookup.Network.create(
      this.#ctx.child(`l${p.index}`),
      lookup.Config.local({
        signer: p.key,
        namespace: NAMESPACE,
        listen: '127.0.0.1:0',
        maxPeersPerSet: this.#lookup.length,
        maxConcurrentHandshakes: this.#lookup.length * 2,
        ...LIMITS,
      }),
    );
    const [sender, receiver] = network.register(0, Quota.perSecond(1_000));
    p.handle = network.start();
    const bound = await network.address();
    if (bound === undefined) throw new Error(`lookup peer ${p.index} could not bind`);
    p.address = `${bound.ip}:${bound.port}`;
    Object.assign(p, { network, lookupOracle: oracle, sender });
    this.#drain(p, receiver);
    // A restarted peer learns the current set (the next roll registers it everywhere).
  }

  #startDiscovery(p: Peer): void {
    const boot = this.#discovery[0]!;
    const [network, oracle] = discovery.Network.create(
      this.#ctx.child(`d${p.index}`),
      discovery.Config.local({
        signer: p.key,
        namespace: NAMESPACE,
        listen: p.address,
        dialable: p.address,
        bootstrappers: p === boot ? [] : [[boot.key.publicKey, boot.address] as const],
        maxPeersPerSet: this.#discovery.length,
        maxConcurrentHandshakes: this.#discovery.length * 2,
        ...LIMITS,
      }),
    );
    const [sender, receiver] = network.register(0, Quota.perSecond(1_000));
    p.handle = network.start();
    Object.assign(p, { network, discoveryOracle: oracle, sender });
    this.#drain(p, receiver);
  }

  /** Registers the next lookup set (every lookup peer, current addresses) on every running lookup peer. */
  #rollLookup(): void {
    const index = this.#lookupSet++;
    const set = this.#lookup.map(
      (q) => [q.key.publicKey, q.address] as [ed25519.PublicKey, string],
    );
    for (const q of this.#lookup) {
      if (q.network === undefined) continue;
      q.lookupOracle!.register(index, set);
      this.stats.setsRegistered++;
    }
  }

  /** Registers the next discovery set (every discovery key) on every running discovery peer. */
  #rollDiscovery(): void {
    const index = this.#discoverySet++;
    const set = this.#discovery.map((q) => q.key.publicKey);
    for (const q of this.#discovery) {
      if (q.network === undefined) continue;
      q.discoveryOracle!.register(index, set);
      this.stats.setsRegistered++;
    }
  }
}
