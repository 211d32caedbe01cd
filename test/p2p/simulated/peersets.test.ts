/**
 * Peer sets on the simulated network: the tracked window (commonware `simulated/mod.rs`:
 * test_peer_set_window_management, test_sender_removed_from_peer_set_drops_message,
 * test_subscribe_to_peer_sets, test_socket_manager*) and signature parity of `manager()` and
 * `socketManager()` with the real discovery and lookup oracles: the same script runs against
 * both and must see the same answers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ed25519 } from '../../../src/crypto/index.js';
import { Oracle as DiscoveryOracle } from '../../../src/p2p/authenticated/discovery/oracle.js';
import { Oracle as LookupOracle } from '../../../src/p2p/authenticated/lookup/oracle.js';
import { P2PError } from '../../../src/p2p/errors.js';
import { Network } from '../../../src/p2p/simulated/index.js';
import { Recipients } from '../../../src/p2p/types.js';
import { Quota } from '../../../src/quota/index.js';
import type { Context } from '../../../src/runtime/context.js';
import * as disc from '../authenticated/discovery/network/helpers.js';
import * as look from '../authenticated/lookup/network/helpers.js';
import { twice } from '../authenticated/scenarios.js';
import { bytes, CONFIG, fixed, key, keys, start, take } from './helpers.js';

type PK = ed25519.PublicKey;

/** Runs `f`, returning its value or the code it threw. */
function attempt<T>(f: () => T): T | string {
  try {
    return f();
  } catch (e) {
    if (e instanceof P2PError) return `throws ${e.code}`;
    throw e;
  }
}

const hexes = (ks: readonly PK[] | undefined) => ks?.map((k) => k.toHex().slice(0, 8));

/** An application's use of a discovery oracle; returns everything it observed. */
async function discoveryScript(oracle: DiscoveryOracle, me: PK): Promise<unknown[]> {
  const [k1, k2, k3, k4] = [key(101), key(102), key(103), key(104)];
  const out: unknown[] = [];
  out.push(attempt(() => oracle.register(0, [me, k1, k2])));
  out.push(attempt(() => oracle.register(1, { primary: [me, k1], secondary: [k3] })));
  out.push(attempt(() => oracle.register(-1, [k1])));
  out.push(attempt(() => oracle.register(2.5, [k1])));
  out.push(attempt(() => oracle.register(2, [k1, k1])));
  out.push(attempt(() => oracle.register(2, { primary: [k1], secondary: [k3, k3] })));
  out.push(
    attempt(() =>
      oracle.register(
        2,
        Array.from({ length: 32 }, (_, i) => key(200 + i)),
      ),
    ),
  );
  out.push(attempt(() => oracle.register(0, [k4]))); // stale: accepted, ignored
  const one = await oracle.peerSet(1);
  out.push(hexes(one?.primary), hexes(one?.secondary));
  out.push(hexes((await oracle.peerSet(0))?.primary));
  out.push(await oracle.peerSet(7));
  const sub = oracle.subscribe();
  const first = await sub.next();
  out.push(first?.index, hexes(first?.latest.primary), hexes(first?.all.secondary));
  out.push(attempt(() => oracle.register(5, [me, k4])));
  out.push((await sub.next())?.index);
  sub.close();
  out.push(oracle.block(k2));
  return out;
}

/** An application's use of a lookup oracle. */
async function lookupScript(oracle: LookupOracle, me: PK): Promise<unknown[]> {
  const [k1, k2] = [key(101), key(102)];
  const out: unknown[] = [];
  out.push(
    attempt(() =>
      oracle.register(0, [
        [me, '10.9.0.1:3000'],
        [k1, '10.9.0.2:3000'],
      ]),
    ),
  );
  out.push(attempt(() => oracle.register(1, [[k1, 'not an address']])));
  out.push(
    attempt(() =>
      oracle.register(1, [
        [k1, '10.9.0.2:1'],
        [k1, '10.9.0.3:1'],
      ]),
    ),
  );
  out.push(
    attempt(() =>
      oracle.register(1, {
        primary: [[me, '10.9.0.1:3000']],
        secondary: [[k2, { ingress: 'example.com:4000', egress: '10.9.0.4:4000' }]],
      }),
    ),
  );
  out.push(attempt(() => oracle.overwrite([[k1, '10.9.0.8:3000']])));
  out.push(attempt(() => oracle.overwrite([[k1, 'bad']])));
  const one = await oracle.peerSet(1);
  out.push(hexes(one?.primary), hexes(one?.secondary));
  const sub = oracle.subscribe();
  out.push((await sub.next())?.index);
  sub.close();
  out.push(oracle.block(k2));
  return out;
}

describe('simulated peer sets', () => {
  test('manager() answers a discovery application exactly as the discovery oracle does', async () => {
    const [real, simulated] = await twice(1, async (ctx) => {
      const peer = disc.startPeer(ctx, 0);
      const r = await discoveryScript(peer.oracle, peer.pk);
      peer.handle.stop();
      const [network, oracle] = Network.create(ctx.child('sim'), { ...CONFIG, maxPeersPerSet: 64 });
      const handle = network.start();
      assert.ok(oracle.manager() instanceof DiscoveryOracle);
      const s = await discoveryScript(oracle.manager(peer.pk), peer.pk);
      handle.stop();
      return [r, s];
    });
    assert.deepEqual(simulated, real);
  });

  test('socketManager() answers a lookup application exactly as the lookup oracle does', async () => {
    const [real, simulated] = await twice(2, async (ctx) => {
      const peer = look.startPeer(ctx, 0);
      const r = await lookupScript(peer.oracle, peer.pk);
      peer.handle.stop();
      const [network, oracle] = Network.create(ctx.child('sim'), { ...CONFIG, maxPeersPerSet: 32 });
      const handle = network.start();
      assert.ok(oracle.socketManager() instanceof LookupOracle);
      const s = await lookupScript(oracle.socketManager(peer.pk), peer.pk);
      handle.stop();
      return [r, s];
    });
    assert.deepEqual(simulated, real);
  });

  test('the window keeps trackedPeerSets sets; a peer in none stops sending and receiving', async () => {
    const got = await twice(3, async (ctx) => {
      const [network, oracle] = Network.create(ctx, { ...CONFIG, trackedPeerSets: 2 });
      const handle = network.start();
      const [a, b, c] = keys(3) as [PK, PK, PK];
      const chans = [a, b, c].map((k) => oracle.control(k).register(0, Quota.perSecond(100)));
      const all: [PK, PK, ReturnType<typeof fixed>][] = [];
      for (const x of [a, b, c]) for (const y of [a, b, c]) if (x !== y) all.push([x, y, fixed(5)]);
      await oracle.addLinks(all);
      const m = oracle.manager();
      m.register(0, [a, b]);
      const early = chans[0]![0].send(Recipients.all(), bytes('0'), false).length; // b only
      const inFlight = chans[1]![0].send(Recipients.one(a), bytes('late'), false).length;
      m.register(1, [a, c]);
      const mid = chans[0]![0].send(Recipients.all(), bytes('1'), false).length; // b and c
      m.register(2, [a, c]); // set 0 evicted: b is in no set
      const set0 = await m.peerSet(0);
      const late = chans[0]![0].send(Recipients.all(), bytes('2'), false).length; // c only
      const fromB = chans[1]![0].send(Recipients.one(a), bytes('b'), false).length;
      const toB = chans[0]![0].send(Recipients.one(b), bytes('x'), false).length;
      await ctx.clock.sleep(100);
      const heardByA = chans[0]![1].size; // 'late' was sent while b was tracked, then b left
      handle.stop();
      return { early, inFlight, mid, set0, late, fromB, toB, heardByA };
    });
    assert.deepEqual(got, {
      early: 1,
      inFlight: 1,
      mid: 2,
      set0: undefined,
      late: 1,
      fromB: 0,
      toB: 0,
      heardByA: 0,
    });
  });

  test('subscribers see every accepted set with the union of the window', async () => {
    const got = await twice(4, async (ctx: Context) => {
      const [network, oracle] = Network.create(ctx, { ...CONFIG, trackedPeerSets: 2 });
      const handle = network.start();
      const [a, b, c] = keys(3) as [PK, PK, PK];
      const sub = oracle.socketManager().subscribe();
      oracle.socketManager().register(3, [[a, '127.0.0.1:1']]);
      oracle.manager().register(4, { primary: [b], secondary: [c] });
      oracle.manager().register(4, [c]); // stale
      oracle.manager().register(9, [c]);
      const seen: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const u = await sub.next();
        seen.push([u?.index, hexes(u?.all.primary), hexes(u?.all.secondary)]);
      }
      handle.stop();
      await handle.done;
      seen.push(await sub.next());
      return seen;
    });
    const h = (...ks: PK[]) => hexes(ks.sort((x, y) => x.compare(y)));
    const [a, b, c] = keys(3) as [PK, PK, PK];
    assert.deepEqual(got, [[3, h(a), []], [4, h(a, b), h(c)], [9, h(b, c), []], undefined]);
  });

  test('an unscoped manager block cuts the peer off from everyone', async () => {
    await twice(5, async (ctx) => {
      const sim = await start(ctx, 3, { link: fixed(1) });
      const [a, b, c] = sim.pks as [PK, PK, PK];
      assert.equal(sim.oracle.manager().block(c), 'ok');
      assert.deepEqual(
        (await sim.oracle.blocked()).map(([x, y]) => [x.toHex(), y.toHex()]),
        [a, b].sort((x, y) => x.compare(y)).map((x) => [x.toHex(), c.toHex()]),
      );
      assert.equal(sim.oracle.control(c).connected().length, 0);
      assert.equal(sim.channels[0]![0].send(Recipients.all(), bytes('x'), false).length, 1);
      assert.equal((await take(ctx, sim.channels[1]![1], 1))[0]!.msg, 'x');
      sim.handle.stop();
    });
  });
});
