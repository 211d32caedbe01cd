/**
 * Per-peer controls: channel registration, blocking, connection state and shutdown (commonware
 * `simulated/mod.rs`: test_duplicate_channel, test_clean_shutdown, blocking; API.md
 * "Connection state").
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { P2PError } from '../../../src/p2p/errors.js';
import type { ConnectionEvent } from '../../../src/p2p/events.js';
import { Network } from '../../../src/p2p/simulated/index.js';
import { Recipients } from '../../../src/p2p/types.js';
import { Quota } from '../../../src/quota/index.js';
import { twice } from '../authenticated/scenarios.js';
import { bytes, CONFIG, fixed, keys, type PublicKey, start, take } from './helpers.js';

type PK = PublicKey;

const closed = (e: unknown) => e instanceof P2PError && e.code === 'NetworkClosed';

/** Reads events until `n` arrived (the stream must not end first). */
async function events(it: AsyncIterableIterator<ConnectionEvent>, n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const r = await it.next();
    assert.equal(r.done, false);
    const e = r.value as ConnectionEvent;
    out.push(
      `${e.kind}:${e.peer.toHex().slice(0, 6)}${e.reason === undefined ? '' : `:${e.reason}`}`,
    );
  }
  return out;
}

describe('simulated controls', () => {
  test('registering a channel twice replaces the first registration', async () => {
    await twice(1, async (ctx) => {
      const sim = await start(ctx, 2, { link: fixed(1) });
      const [a, b] = sim.pks as [PK, PK];
      const [oldSender, oldReceiver] = sim.channels[1]!;
      const pending = oldReceiver.recv();
      const [newSender, newReceiver] = sim.oracle.control(b).register(0, Quota.perSecond(100));
      await assert.rejects(pending, closed);
      await assert.rejects(oldReceiver.recv(), closed);
      assert.deepEqual(oldSender.send(Recipients.one(a), bytes('old'), false), []);
      assert.deepEqual(newSender.send(Recipients.one(a), bytes('new'), false), [a]);
      sim.channels[0]![0].send(Recipients.one(b), bytes('to-b'), false);
      assert.equal((await take(ctx, newReceiver, 1))[0]!.msg, 'to-b');
      assert.equal((await take(ctx, sim.channels[0]![1], 1))[0]!.msg, 'new');
      sim.handle.stop();
    });
  });

  test('a block cuts the pair both ways and is listed by blocked()', async () => {
    await twice(2, async (ctx) => {
      const sim = await start(ctx, 3, { link: fixed(1) });
      const [a, b, c] = sim.pks as [PK, PK, PK];
      assert.equal(sim.oracle.control(a).block(b), 'ok');
      assert.deepEqual(
        (await sim.oracle.blocked()).map(([x, y]) => [x.toHex(), y.toHex()]),
        [[a.toHex(), b.toHex()]],
      );
      assert.deepEqual(sim.channels[0]![0].send(Recipients.one(b), bytes('x'), false), []);
      assert.deepEqual(sim.channels[1]![0].send(Recipients.one(a), bytes('x'), false), []);
      assert.deepEqual(
        sim.oracle.control(a).connected(),
        [c].sort((p, q) => p.compare(q)),
      );
      assert.equal(sim.oracle.control(b).connected().length, 1);
      // c still reaches both.
      assert.equal(sim.channels[2]![0].send(Recipients.all(), bytes('c'), false).length, 2);
      sim.handle.stop();
    });
  });

  test('without disconnectOnBlock a block is only recorded', async () => {
    await twice(3, async (ctx) => {
      const sim = await start(ctx, 2, { link: fixed(1), config: { disconnectOnBlock: false } });
      const [a, b] = sim.pks as [PK, PK];
      sim.oracle.control(a).block(b);
      assert.equal((await sim.oracle.blocked()).length, 1);
      assert.deepEqual(sim.channels[1]![0].send(Recipients.one(a), bytes('x'), false), [a]);
      assert.equal((await take(ctx, sim.channels[0]![1], 1))[0]!.msg, 'x');
      sim.handle.stop();
    });
  });

  test('connected() and events(): links, blocks and the peer sets', async () => {
    const got = await twice(4, async (ctx) => {
      const [network, oracle] = Network.create(ctx, CONFIG);
      const handle = network.start();
      const [a, b, c] = keys(3) as [PK, PK, PK];
      const control = oracle.control(a);
      const it = control.events();
      await oracle.addLink(a, b, fixed(1));
      const before = control.connected().length; // not tracked yet
      oracle.manager().register(0, [a, b, c]);
      await oracle.addLink(a, c, fixed(1));
      await oracle.addLink(c, a, fixed(1));
      const mid = control.connected().map((k) => k.toHex());
      await oracle.removeLink(a, b);
      control.block(c);
      oracle.manager().register(1, [a, b]);
      await oracle.addLink(a, b, fixed(1));
      const seen = await events(it, 6);
      const last = control.connected().map((k) => k.toHex());
      handle.stop();
      await handle.done;
      const end = await it.next();
      return { before, mid, seen, last, ended: end.done, after: control.connected().length };
    });
    const [a, b, c] = keys(3).map((k) => k.toHex().slice(0, 6));
    void a;
    assert.equal(got.before, 0);
    assert.equal(got.mid.length, 2);
    assert.deepEqual(got.seen, [
      `connected:${b}`,
      `connected:${c}`,
      `disconnected:${b}:LinkRemoved`,
      `blocked:${c}`,
      `disconnected:${c}:Blocked`,
      `connected:${b}`,
    ]);
    assert.deepEqual(got.last, [keys(2)[1]!.toHex()]);
    assert.equal(got.ended, true);
    assert.equal(got.after, 0);
  });

  test('after stop: receivers reject NetworkClosed, senders return [], register throws', async () => {
    await twice(5, async (ctx) => {
      const sim = await start(ctx, 2, { link: fixed(1000) });
      const [a, b] = sim.pks as [PK, PK];
      sim.channels[0]![0].send(Recipients.one(b), bytes('in flight'), false);
      const pending = sim.channels[1]![1].recv();
      sim.handle.stop();
      await sim.handle.done;
      await assert.rejects(pending, closed);
      assert.deepEqual(sim.channels[0]![0].send(Recipients.one(b), bytes('x'), false), []);
      assert.throws(() => sim.oracle.control(a).register(1, Quota.perSecond(1)), closed);
      assert.equal(sim.oracle.control(a).block(b), 'closed');
      assert.throws(
        () => sim.network.start(),
        (e: unknown) => e instanceof P2PError,
      );
    });
  });

  test('a control registered before the network starts works once it runs', async () => {
    await twice(6, async (ctx) => {
      const [network, oracle] = Network.create(ctx, CONFIG);
      const [a, b] = keys(2) as [PK, PK];
      const [sa] = oracle.control(a).register(0, Quota.perSecond(10));
      const [, rb] = oracle.control(b).register(0, Quota.perSecond(10));
      oracle.manager().register(0, [a, b]);
      await oracle.addLink(a, b, fixed(3));
      assert.deepEqual(sa.send(Recipients.one(b), bytes('early'), false), [b]);
      const handle = network.start();
      assert.equal((await take(ctx, rb, 1))[0]!.msg, 'early');
      handle.stop();
    });
  });
});
