/**
 * Tracker scale measurements for bench/discovery.ts: a 65,536-peer registration through the real
 * tracker actor (discovery and lookup) on the Node runtime, the longest event-loop turn while it
 * runs, one discovery `BitVec` answered over it, the dialer's `dialable` scan over it, and the
 * heap the tracker holds per registered (not connected) peer.
 *
 * The tracker is driven through its mailbox only; connected peers are fake `PeerControl`s that
 * record what they get.
 *
 * @module
 */

import { PerformanceObserver, performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { BitMap } from '../src/codec/bitmap.js';
import { ed25519 } from '../src/crypto/index.js';
import { Ingress } from '../src/p2p/address.js';
import { Oracle as DiscoveryOracle } from '../src/p2p/authenticated/discovery/oracle.js';
import { Directory as DiscoveryDirectory } from '../src/p2p/authenticated/discovery/tracker/directory.js';
import {
  Actor as DiscoveryTracker,
  type InfoLike,
  type PeerControl,
} from '../src/p2p/authenticated/discovery/tracker/index.js';
import { Oracle as LookupOracle } from '../src/p2p/authenticated/lookup/oracle.js';
import { Directory as LookupDirectory } from '../src/p2p/authenticated/lookup/tracker/directory.js';
import { Actor as LookupTracker } from '../src/p2p/authenticated/lookup/tracker/index.js';
import { type RegisteredAddress, registeredAddress } from '../src/p2p/registered-address.js';
import type { AddressableTrackedPeers, TrackedPeers } from '../src/p2p/types.js';
import { nodeRuntime } from '../src/runtime/index.js';
import { type MemorySample, sampleMemory } from './common.js';

export type Flavour = 'discovery' | 'lookup';

// ---------- Event-loop probe ----------

/**
 * Measures the longest event-loop turn: a `setImmediate` chain notes the time between two of its
 * callbacks, which is at least the length of everything that ran in between (one loop
 * iteration: timers, I/O callbacks and their microtasks). It also notes the process's CPU time
 * over the same gaps (`maxTurnCpuMs`, the CPU time of the gap that used most): unlike the wall
 * time it does not grow while other processes hold the cores, so it tells a long turn from a
 * descheduled one on a loaded machine (it includes the GC's helper threads, so it may exceed
 * the wall time).
 */
export class TurnProbe {
  #last = 0;
  #max = 0;
  #lastCpu = 0;
  #maxCpu = 0;
  #turns = 0;
  #running = false;
  #gcMax = 0;
  #gcTotal = 0;
  #gc: PerformanceObserver | undefined;

  start(): void {
    this.#running = true;
    // Garbage-collection pauses inside the window: a long turn may be one.
    this.#gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.#gcTotal += e.duration;
        if (e.duration > this.#gcMax) this.#gcMax = e.duration;
      }
    });
    this.#gc.observe({ entryTypes: ['gc'] });
    this.#last = performance.now();
    this.#lastCpu = cpuMs();
    const tick = (): void => {
      if (!this.#running) return;
      const t = performance.now();
      const c = cpuMs();
      const gap = t - this.#last;
      if (gap > this.#max) this.#max = gap;
      if (c - this.#lastCpu > this.#maxCpu) this.#maxCpu = c - this.#lastCpu;
      this.#last = t;
      this.#lastCpu = c;
      this.#turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
  }

  /** Stops the probe; returns the longest gap (ms) and the number of probe callbacks. */
  stop(): {
    maxTurnMs: number;
    maxTurnCpuMs: number;
    turns: number;
    gcMaxMs: number;
    gcTotalMs: number;
  } {
    this.#running = false;
    // The interval up to now counts too (the last turn may be the long one).
    const gap = performance.now() - this.#last;
    if (gap > this.#max) this.#max = gap;
    const cpu = cpuMs() - this.#lastCpu;
    if (cpu > this.#maxCpu) this.#maxCpu = cpu;
    const records = this.#gc?.takeRecords() ?? [];
    for (const e of records) {
      this.#gcTotal += e.duration;
      if (e.duration > this.#gcMax) this.#gcMax = e.duration;
    }
    this.#gc?.disconnect();
    return {
      maxTurnMs: this.#max,
      maxTurnCpuMs: this.#maxCpu,
      turns: this.#turns,
      gcMaxMs: this.#gcMax,
      gcTotalMs: this.#gcTotal,
    };
  }
}

/** This process's CPU time so far (ms, user + system, every thread). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs `fn` with a {@link TurnProbe} around it; returns its wall time and longest turn. */
export async function probed<T>(fn: () => Promise<T>): Promise<{
  value: T;
  ms: number;
  maxTurnMs: number;
  maxTurnCpuMs: number;
  turns: number;
  gcMaxMs: number;
  gcTotalMs: number;
}> {
  await yieldToLoop();
  const probe = new TurnProbe();
  probe.start();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  return { value, ms, ...probe.stop() };
}

// ---------- Fixtures ----------

/** `n` public keys (PrivateKey.fromSeed(1..n)), sorted by byte order. */
export function makeKeys(n: number, from = 1): ed25519.PublicKey[] {
  const keys: ed25519.PublicKey[] = [];
  for (let i = 0; i < n; i++) keys.push(ed25519.PrivateKey.fromSeed(BigInt(from + i)).publicKey);
  keys.sort((a, b) => (a.toHex() < b.toHex() ? -1 : a.toHex() > b.toHex() ? 1 : 0));
  return keys;
}

/**
 * Peer `i`'s address in a lookup registration, as the oracle hands it to the tracker: the
 * application's `'127.0.0.1:port'` text, validated (`registeredAddress` keeps a canonical text
 * as it is, so this is the text itself, made now, as an application would).
 */
function lookupAddress(i: number): RegisteredAddress {
  return registeredAddress(`127.0.0.1:${10_000 + (i % 50_000)}`);
}

/**
 * A lookup registration of `keys` as the oracle hands it to the tracker: by columns, a new
 * array of the keys and the addresses (`address(i)` for `keys[i]`), no object per peer.
 */
function lookupInput(
  keys: readonly ed25519.PublicKey[],
  address: (i: number) => RegisteredAddress,
): AddressableTrackedPeers {
  return {
    primary: keys.slice(),
    primaryAddresses: keys.map((_, i) => address(i)),
    secondary: [],
    secondaryAddresses: [],
  };
}

/** An unsigned stand-in for a signed `Info` (the tracker never checks signatures). */
function fakeInfo(key: ed25519.PublicKey, port: number, timestampMs = 1): InfoLike {
  return {
    ingress: Ingress.socket(`127.0.0.1:${port}`),
    timestampMs,
    publicKey: key,
    signature: new Uint8Array(64),
  };
}

/** A connected peer's control handle that records what the tracker sends it. */
class FakeControl implements PeerControl {
  killed = false;
  bitVecs = 0;
  readonly answers: (readonly InfoLike[])[] = [];
  #waiter: ((infos: readonly InfoLike[]) => void) | undefined;

  kill(): void {
    this.killed = true;
  }
  bitVec(): void {
    this.bitVecs++;
  }
  peers(infos: readonly InfoLike[]): void {
    this.answers.push(infos);
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(infos);
  }
  /** Resolves with the next `peers` answer. */
  nextAnswer(): Promise<readonly InfoLike[]> {
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }
}

const SHARED_CONFIG = {
  allowPrivateIps: true,
  allowDns: false,
  trackedPeerSets: 4,
  peerConnectionCooldownMs: 1_000,
  blockDurationMs: 3_600_000,
  mailboxSize: 1024,
};

/** A discovery tracker's config for a set of `n` peers, our own record a fake `Info`. */
function discoveryConfig(me: ed25519.PublicKey, n: number, peerGossipMaxCount: number) {
  return {
    ...SHARED_CONFIG,
    myself: fakeInfo(me, 9_999),
    bootstrappers: [],
    maxPeersPerSet: n + 1,
    dialFailLimit: 1,
    peerGossipMaxCount,
  };
}

// ---------- Registration, BitVec and dialable at scale ----------

/** One timed operation: wall time, longest event-loop turn, and a note. */
export interface Timed {
  ms: number;
  maxTurnMs: number;
  /** The most CPU time (this process, every thread) used in one probe gap. */
  maxTurnCpuMs: number;
  turns: number;
  /** Longest and total garbage-collection pause inside the window. */
  gcMaxMs: number;
  gcTotalMs: number;
}

/** What {@link trackerScale} measures. */
export interface TrackerScale {
  flavour: Flavour;
  peers: number;
  register: Timed;
  /** Discovery only: one connected peer's all-clear BitVec answered. */
  bitVec?: Timed & { answered: number; connected: number };
  /** The dialer's `dialable()` over the set (every dial tick asks it). */
  dialable: Timed & { dialable: number };
}

/**
 * Registers `n` peers at index 0 through the tracker mailbox and waits until `peerSet(0)`
 * resolves (the tracker has applied it: requests are handled in order, after the registration's
 * steps); then (discovery) makes `connected` of them discovered and connected and times one
 * all-clear `BitVec` from one of them; then times `dialable()`.
 */
export async function trackerScale(
  flavour: Flavour,
  keys: readonly ed25519.PublicKey[],
  connected = 256,
  /**
   * Lookup: collect once between building the input and registering it, so that the input
   * (what the application or the oracle allocated just before the call) is old and no
   * collection inside the window has to copy it: the tracker's own share of the turn.
   */
  agedInput = false,
): Promise<TrackerScale> {
  const n = keys.length;
  const me = ed25519.PrivateKey.fromSeed(0n).publicKey;
  const gossipMax = 32;
  return nodeRuntime().run(async (ctx) => {
    if (flavour === 'lookup') {
      const peers = lookupInput(keys, (i) => lookupAddress(i));
      const [actor, mb] = LookupTracker.create(
        { ...SHARED_CONFIG, myself: me, maxPeersPerSet: n + 1, bypassIpCheck: false },
        { rng: ctx.rng },
      );
      const handle = actor.start(ctx);
      if (agedInput) globalThis.gc?.();
      const register = await probed(async () => {
        mb.register(0, peers);
        const set = await mb.peerSet(0);
        if (set?.primary.length !== n) throw new Error('lookup registration not applied');
      });
      const dialable = await probed(async () => (await mb.dialable())?.peers.length ?? 0);
      handle.stop();
      await handle.done.catch(() => undefined);
      return {
        flavour,
        peers: n,
        register: timed(register),
        dialable: { ...timed(dialable), dialable: dialable.value },
      };
    }
    const peers: TrackedPeers = { primary: keys, secondary: [] };
    const [actor, mb] = DiscoveryTracker.create(discoveryConfig(me, n, gossipMax), {
      rng: ctx.rng,
    });
    const handle = actor.start(ctx);
    const register = await probed(async () => {
      mb.register(0, peers);
      const set = await mb.peerSet(0);
      if (set?.primary.length !== n) throw new Error('discovery registration not applied');
    });
    // Some peers discovered (an Info each) and connected (dialed and up), spread over the set.
    const controls: FakeControl[] = [];
    const step = Math.max(1, Math.floor(n / connected));
    for (let i = 0; i < n && controls.length < connected; i += step) {
      const key = keys[i]!;
      mb.peers([fakeInfo(key, 10_000 + controls.length)]);
      const r = await mb.dial(key);
      if (r === undefined) throw new Error('dial refused');
      const control = new FakeControl();
      if ((await mb.connect(key, control, true)) === undefined) throw new Error('connect refused');
      controls.push(control);
    }
    const asker = controls[0]!;
    const askerKey = keys[0]!;
    const bitVec = await probed(async () => {
      const answer = asker.nextAnswer();
      mb.bitVec(askerKey, { index: 0, bits: new BitMap(n) });
      return (await answer).length;
    });
    const dialable = await probed(async () => (await mb.dialable())?.peers.length ?? 0);
    handle.stop();
    await handle.done.catch(() => undefined);
    return {
      flavour,
      peers: n,
      register: timed(register),
      bitVec: { ...timed(bitVec), answered: bitVec.value, connected: controls.length },
      dialable: { ...timed(dialable), dialable: dialable.value },
    };
  });
}

function timed(r: Timed): Timed {
  return {
    ms: r.ms,
    maxTurnMs: r.maxTurnMs,
    maxTurnCpuMs: r.maxTurnCpuMs,
    turns: r.turns,
    gcMaxMs: r.gcMaxMs,
    gcTotalMs: r.gcTotalMs,
  };
}

// ---------- The longest step, without the actor ----------

/** What {@link directorySteps} measures: the registration's steps timed one by one. */
export interface DirectorySteps {
  flavour: Flavour;
  peers: number;
  steps: number;
  /** The longest step: its wall time, and this process's CPU time over it (incl. GC threads). */
  worstMs: number;
  worstCpuMs: number;
  /** Which step it was (0-based). */
  worstAt: number;
}

/**
 * Registers `keys` in a bare directory (no actor, no event loop between steps: a full GC first)
 * and times each step of `beginTrack`: the indivisible units the actor spreads over turns, so
 * the longest one bounds a turn whatever the machine's load (which moves the turn figures).
 */
export function directorySteps(
  flavour: Flavour,
  keys: readonly ed25519.PublicKey[],
): DirectorySteps {
  const n = keys.length;
  const me = ed25519.PrivateKey.fromSeed(0n).publicKey;
  const deps = { rng: { int: (min: number) => min }, releaser: () => {} };
  let job: Generator<unknown, unknown, void> | undefined;
  if (flavour === 'lookup') {
    const config = { ...SHARED_CONFIG, maxPeersPerSet: n + 1, bypassIpCheck: false };
    const input = lookupInput(keys, (i) => lookupAddress(i));
    job = new LookupDirectory(me, config, deps).beginTrack(0, input);
  } else {
    const { myself, ...config } = discoveryConfig(me, n, 32);
    const dir = new DiscoveryDirectory(myself, [], config, deps);
    job = dir.beginTrack(0, { primary: keys, secondary: [] });
  }
  if (job === undefined) throw new Error('registration not admitted');
  globalThis.gc?.();
  let steps = 0;
  let worstMs = 0;
  let worstCpuMs = 0;
  let worstAt = -1;
  for (;;) {
    const c0 = cpuMs();
    const t0 = performance.now();
    const r = job.next();
    const t = performance.now() - t0;
    const c = cpuMs() - c0;
    if (t > worstMs) {
      worstMs = t;
      worstCpuMs = c;
      worstAt = steps;
    }
    steps++;
    if (r.done === true) break;
  }
  return { flavour, peers: n, steps, worstMs, worstCpuMs, worstAt };
}

// ---------- The oracle's caller-side cost ----------

/** What {@link oracleRegister} measures: the caller's synchronous `Oracle.register` call. */
export interface OracleRegister {
  /** `discovery` (keys), `lookup` ('ip:port' strings) or `lookup-v6` ('[v6]:port' strings). */
  input: 'discovery' | 'lookup' | 'lookup-v6';
  peers: number;
  /** Wall time of the call (one event-loop turn: it is synchronous). */
  ms: number;
  /** CPU time of this process during the call (less sensitive to other load than `ms`). */
  cpuMs: number;
}

/**
 * Times `Oracle.register(0, ...)` of `keys` in the caller's turn: the oracle parses and checks
 * the input there (so a bad address throws at the call) and hands the tracker's mailbox the
 * normalised set. Lookup gets `'ip:port'` strings (IPv4, or IPv6 in brackets for `lookup-v6`),
 * built before the clock starts (then a full GC, with --expose-gc). The tracker is created but
 * not started.
 */
export async function oracleRegister(
  input: OracleRegister['input'],
  keys: readonly ed25519.PublicKey[],
): Promise<OracleRegister> {
  const n = keys.length;
  const me = ed25519.PrivateKey.fromSeed(0n).publicKey;
  return nodeRuntime().run(async (ctx) => {
    let call: () => unknown;
    if (input === 'discovery') {
      const [tracker, mb] = DiscoveryTracker.create(discoveryConfig(me, n, 32), { rng: ctx.rng });
      const oracle = new DiscoveryOracle(mb, (p) => tracker.checkSize(p), ctx.log);
      call = () => oracle.register(0, keys);
    } else {
      const [tracker, mb] = LookupTracker.create(
        { ...SHARED_CONFIG, myself: me, maxPeersPerSet: n + 1, bypassIpCheck: false },
        { rng: ctx.rng },
      );
      const oracle = new LookupOracle(mb, (p) => tracker.checkSize(p), ctx.log);
      const peers = keys.map((k, i): [ed25519.PublicKey, string] => {
        const port = 10_000 + (i % 50_000);
        const v6 = `[2001:db8::${(i & 0xffff).toString(16)}]:${port}`;
        return [
          k,
          input === 'lookup' ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${port}` : v6,
        ];
      });
      call = () => oracle.register(0, peers);
    }
    await yieldToLoop();
    // Start from a collected heap: not the garbage of the measurements before this one.
    globalThis.gc?.();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const feedback = call();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (feedback !== 'ok') throw new Error(`register: ${String(feedback)}`);
    return { input, peers: n, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  });
}

// ---------- Memory per tracked peer ----------

/** What {@link trackerMemory} measures. */
export interface TrackerMemory {
  flavour: Flavour;
  peers: number;
  before: MemorySample;
  after: MemorySample;
  /** (heapUsed + external) after - before, per peer (bytes). */
  bytesPerPeer: number;
  /** The same with the registration's input (built by the application) counted as after. */
  bytesPerPeerWithInput: number;
}

/**
 * Heap (after forced GCs; heapUsed + external) before and after registering `n` peers, divided
 * by `n`. The keys (and, for lookup, the addresses) are made before the first sample, as the
 * application holds them anyway. Needs --expose-gc.
 */
export async function trackerMemory(
  flavour: Flavour,
  keys: readonly ed25519.PublicKey[],
): Promise<TrackerMemory> {
  const n = keys.length;
  const me = ed25519.PrivateKey.fromSeed(0n).publicKey;
  const addresses = keys.map((_, i) => lookupAddress(i));
  const total = (m: MemorySample) => m.heapUsed + m.external;
  return nodeRuntime().run(async (ctx) => {
    const bare = await sampleMemory();
    // The registration's input, as the oracle hands it over (sorted, normalised).
    const input =
      flavour === 'lookup'
        ? lookupInput(keys, (i) => addresses[i]!)
        : { primary: keys.slice(), secondary: [] };
    let mb: { peerSet(i: number): Promise<TrackedPeers | undefined> };
    let handle: { stop(): void; done: Promise<void> };
    let register: () => void;
    if (flavour === 'lookup') {
      const [actor, m] = LookupTracker.create(
        { ...SHARED_CONFIG, myself: me, maxPeersPerSet: n + 1, bypassIpCheck: false },
        { rng: ctx.rng },
      );
      handle = actor.start(ctx);
      mb = m;
      register = () => m.register(0, input as AddressableTrackedPeers);
    } else {
      const [actor, m] = DiscoveryTracker.create(discoveryConfig(me, n, 32), { rng: ctx.rng });
      handle = actor.start(ctx);
      mb = m;
      register = () => m.register(0, input as TrackedPeers);
    }
    await yieldToLoop();
    const before = await sampleMemory();
    register();
    const set = await mb.peerSet(0);
    if (set?.primary.length !== n) throw new Error('registration not applied');
    const after = await sampleMemory();
    // Keep everything alive until after the sample.
    if (keys.length + addresses.length + input.primary.length === 0) console.log(set);
    handle.stop();
    await handle.done.catch(() => undefined);
    return {
      flavour,
      peers: n,
      before,
      after,
      bytesPerPeer: (total(after) - total(before)) / n,
      bytesPerPeerWithInput: (total(after) - total(bare)) / n,
    };
  });
}
