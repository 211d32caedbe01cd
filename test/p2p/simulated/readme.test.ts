/**
 * The README's "Testing your protocol on the simulated network" example, as written there (with
 * types added): keep the two in step.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ed25519 } from '../../../src/crypto/index.js';
import { Network, Quota, Recipients } from '../../../src/p2p/simulated/index.js';
import type { Context } from '../../../src/runtime/index.js';
import { deterministicRuntime } from '../../../src/runtime/index.js';

test('the README simulated-network example: a partition and a heal, replayed exactly', async () => {
  const [a, b, c] = [1n, 2n, 3n].map((s) => ed25519.PrivateKey.fromSeed(s).publicKey) as [
    ed25519.PublicKey,
    ed25519.PublicKey,
    ed25519.PublicKey,
  ];
  const scenario = async (ctx: Context) => {
    const [network, oracle] = Network.create(ctx, {
      maxSize: 1024,
      maxPeersPerSet: 8,
      disconnectOnBlock: true,
      trackedPeerSets: 1,
    });
    const handle = network.start();
    oracle.manager().register(0, [a, b, c]);
    const link = { latency: 40, jitter: 10, successRate: 1 };
    for (const [x, y] of [
      [a, b],
      [b, a],
      [a, c],
      [c, a],
      [b, c],
      [c, b],
    ] as const) {
      await oracle.addLink(x, y, link);
    }
    const [toAll] = oracle.control(a).register(0, Quota.perSecond(100));
    const inbox = {
      b: oracle.control(b).register(0, Quota.perSecond(100))[1],
      c: oracle.control(c).register(0, Quota.perSecond(100))[1],
    };
    const text = (m: Uint8Array) => new TextDecoder().decode(m);

    assert.equal(toAll.send(Recipients.all(), new TextEncoder().encode('one'), false).length, 2);
    assert.equal(text((await inbox.b.recv())[1]), 'one');
    assert.equal(text((await inbox.c.recv())[1]), 'one');

    await oracle.removeLink(a, c);
    assert.equal(toAll.send(Recipients.all(), new TextEncoder().encode('two'), false).length, 1);
    assert.equal(text((await inbox.b.recv())[1]), 'two');
    await ctx.clock.sleep(1_000);
    assert.equal(inbox.c.size, 0, 'c heard nothing during the partition');

    await oracle.addLink(a, c, link);
    toAll.send(Recipients.one(c), new TextEncoder().encode('three'), false);
    assert.equal(text((await inbox.c.recv())[1]), 'three');
    handle.stop();
    return ctx.clock.now();
  };
  const first = await deterministicRuntime({ seed: 7 }).run(scenario);
  const again = await deterministicRuntime({ seed: 7 }).run(scenario);
  assert.equal(first.digest, again.digest);
  assert.equal(first.result, again.result);
});
