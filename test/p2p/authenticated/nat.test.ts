/**
 * A peer that can only dial out (behind NAT, or registered under an address it cannot be reached
 * at) connects fast, and simultaneous dials settle on one connection, in both flavours
 * (PROTOCOL.md, deviations: reservations).
 *
 * A holds B's right IP but a closed port; B holds A's real address. A keeps dialing B's dead
 * port; B's inbound session must not be refused on account of A's pending dials, nor be
 * throttled by a cooldown that a dial which never connected imposed.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Context } from '../../../src/runtime/context.js';
import { deterministicRuntime, simulatedNetwork } from '../../../src/runtime/index.js';
import * as discovery from './discovery/network/helpers.js';
import * as lookup from './lookup/network/helpers.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
/** `Config.recommended` on simulated (private) IPs. */
const RECOMMENDED = { allowPrivateIps: true } as const;

/** Lookup: returns ms from B's registration until both sides hold the connection. */
async function lookupNat(ctx: Context): Promise<number> {
  const a = lookup.startPeer(ctx, 0, { overrides: RECOMMENDED, preset: 'recommended' });
  const b = lookup.startPeer(ctx, 1, { overrides: RECOMMENDED, preset: 'recommended' });
  a.oracle.register(0, [
    [a.pk, a.address],
    [b.pk, `${b.ip}:4000`], // nobody listens there
  ]);
  await ctx.clock.sleep(10_000); // A has been failing to dial B for a while
  const start = ctx.clock.now();
  b.oracle.register(0, lookup.entries([a, b]));
  const at = await lookup.until(
    ctx,
    () => lookup.isConnected(a, b) && lookup.isConnected(b, a),
    'A and B connect',
    { stepMs: 10 },
  );
  await lookup.stopAll([a, b]);
  return at - start;
}

/** Discovery: B bootstraps from A but advertises a dead port; returns ms until connected. */
async function discoveryNat(ctx: Context): Promise<number> {
  const a = discovery.startPeer(ctx, 0, { preset: 'recommended', overrides: RECOMMENDED });
  // B advertises a port nobody listens on, as a peer behind NAT would.
  const b = discovery.startPeer(ctx, 1, {
    preset: 'recommended',
    bootstrappers: [a],
    overrides: { ...RECOMMENDED, dialable: `${discovery.ipOf(1)}:4000` },
  });
  const set = [a.pk, b.pk];
  a.oracle.register(0, set);
  const start = ctx.clock.now();
  b.oracle.register(0, set);
  const at = await discovery.until(ctx, () => discovery.fullMesh([a, b]), 'A and B connect', {
    stepMs: 10,
  });
  await discovery.stopAll([a, b]);
  return at - start;
}

/**
 * Lookup, both peers registering each other at the same instant with `Config.recommended`: both
 * dial at once. Returns the open connections between them once settled, and the dials made over
 * a minute after that (a reconnect storm would keep dialing).
 */
async function simultaneous(ctx: Context): Promise<[number, number, number]> {
  const a = lookup.startPeer(ctx, 0, { overrides: RECOMMENDED, preset: 'recommended' });
  const b = lookup.startPeer(ctx, 1, { overrides: RECOMMENDED, preset: 'recommended' });
  a.oracle.register(0, lookup.entries([a, b]));
  b.oracle.register(0, lookup.entries([a, b]));
  await lookup.until(ctx, () => lookup.isConnected(a, b) && lookup.isConnected(b, a), 'connected', {
    stepMs: 10,
  });
  await ctx.clock.sleep(5_000);
  const attempts = () =>
    lookup.counter(a, 'dialer', 'attempts', ['peer']).get({ peer: b.hex }) +
    lookup.counter(b, 'dialer', 'attempts', ['peer']).get({ peer: a.hex });
  const settled = lookup.linksBetween(ctx, a, b).length;
  const before = attempts();
  await ctx.clock.sleep(60_000);
  const later = lookup.linksBetween(ctx, a, b).length;
  const dials = attempts() - before;
  await lookup.stopAll([a, b]);
  return [settled, later, dials];
}

/** {@link simultaneous} for discovery: each peer is the other's bootstrapper. */
async function simultaneousDiscovery(ctx: Context): Promise<[number, number, number]> {
  const ip = discovery.ipOf;
  const pa = { pk: discovery.signer(0).publicKey, address: `${ip(0)}:3000` };
  const pb = { pk: discovery.signer(1).publicKey, address: `${ip(1)}:3000` };
  const options = { preset: 'recommended', overrides: RECOMMENDED } as const;
  const a = discovery.startPeer(ctx, 0, { ...options, bootstrappers: [pb as discovery.Peer] });
  const b = discovery.startPeer(ctx, 1, { ...options, bootstrappers: [pa as discovery.Peer] });
  a.oracle.register(0, [a.pk, b.pk]);
  b.oracle.register(0, [a.pk, b.pk]);
  await discovery.until(ctx, () => discovery.fullMesh([a, b]), 'connected', { stepMs: 10 });
  await ctx.clock.sleep(5_000);
  const attempts = () =>
    discovery.counter(a, 'dialer', 'attempts', ['peer']).get({ peer: b.hex }) +
    discovery.counter(b, 'dialer', 'attempts', ['peer']).get({ peer: a.hex });
  const links = () =>
    simulatedNetwork(ctx)
      .connections()
      .filter((c) => [c.dialer.ip, c.listener.ip].sort().join() === [a.ip, b.ip].sort().join())
      .length;
  const settled = links();
  const before = attempts();
  await ctx.clock.sleep(60_000);
  const result: [number, number, number] = [settled, links(), attempts() - before];
  await discovery.stopAll([a, b]);
  return result;
}

describe('simultaneous dials settle on one connection (deterministic)', () => {
  for (const [name, scenario] of [
    ['lookup', simultaneous],
    ['discovery', simultaneousDiscovery],
  ] as const) {
    test(`${name}: in each of 20 seeds, one connection survives, stays, and nobody redials`, async () => {
      const outcomes: string[] = [];
      for (const seed of SEEDS) {
        const { result } = await deterministicRuntime({ seed }).run(scenario);
        outcomes.push(result.join('/'));
      }
      assert.ok(
        outcomes.every((o) => o === '1/1/0'),
        `connections settled/after a minute/dials per seed: ${outcomes.join(', ')}`,
      );
    });
  }
});

describe('a peer that can only dial out connects fast (deterministic)', () => {
  for (const [name, scenario] of [
    ['lookup', lookupNat],
    ['discovery', discoveryNat],
  ] as const) {
    test(`${name}: connected within 5 s of B's first dial in each of 20 seeds`, async () => {
      const times: number[] = [];
      for (const seed of SEEDS) {
        const { result } = await deterministicRuntime({ seed }).run(scenario);
        times.push(result);
      }
      assert.ok(
        times.every((t) => t <= 5_000),
        `connection times (ms) per seed: ${times.join(', ')}`,
      );
    });
  }
});

/**
 * 12 peers over 150 ms links with a 200 ms cooldown: every handshake outlasts the cooldown, so
 * under the one-reservation rule alone two peers dialing each other kept refusing each other's
 * sessions and never meshed. Returns the virtual ms until the full mesh.
 */
async function slowLinks(ctx: Context, flavour: 'lookup' | 'discovery'): Promise<number> {
  simulatedNetwork(ctx).setDefaultLinkDelay(150);
  const start = ctx.clock.now();
  if (flavour === 'lookup') {
    const overrides = { peerConnectionCooldownMs: 200, dialFrequencyMs: 50 };
    const peers = Array.from({ length: 12 }, (_, i) => lookup.startPeer(ctx, i, { overrides }));
    for (const p of peers) p.oracle.register(0, lookup.entries(peers));
    await lookup.until(ctx, () => lookup.fullMesh(peers), 'full mesh', { timeoutMs: 30_000 });
    await lookup.stopAll(peers);
  } else {
    const overrides = {
      peerConnectionCooldownMs: 200,
      dialFrequencyMs: 50,
      gossipBitVecFrequencyMs: 300,
    };
    const boot = discovery.startPeer(ctx, 0, { overrides });
    const peers = [boot];
    for (let i = 1; i < 12; i++) {
      peers.push(discovery.startPeer(ctx, i, { bootstrappers: [boot], overrides }));
    }
    for (const p of peers) p.oracle.register(0, discovery.keys(peers));
    await discovery.until(ctx, () => discovery.fullMesh(peers), 'full mesh', { timeoutMs: 30_000 });
    await discovery.stopAll(peers);
  }
  return ctx.clock.now() - start;
}

describe('reconnect storms stay bounded when handshakes outlast the cooldown (deterministic)', () => {
  for (const flavour of ['lookup', 'discovery'] as const) {
    test(`${flavour}: 12 peers over 150 ms links with a 200 ms cooldown mesh within 30 s, identically on a rerun`, async () => {
      const a = await deterministicRuntime({ seed: 5 }).run((ctx) => slowLinks(ctx, flavour));
      const b = await deterministicRuntime({ seed: 5 }).run((ctx) => slowLinks(ctx, flavour));
      assert.equal(a.digest, b.digest);
      assert.equal(a.result, b.result);
    });
  }
});
