import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ed25519 } from '../../../src/crypto/index.js';
import { Network, Quota, Recipients } from '../../../src/p2p/simulated/index.js';
import { deterministicRuntime } from '../../../src/runtime/index.js';

test('the module example runs as written, with the same digest each time', async () => {
  const [a, b] = [1n, 2n].map((s) => ed25519.PrivateKey.fromSeed(s).publicKey);
  const run = () =>
    deterministicRuntime({ seed: 7 }).run(async (ctx) => {
      const [network, oracle] = Network.create(ctx, {
        maxSize: 1024,
        maxPeersPerSet: 8,
        disconnectOnBlock: true,
        trackedPeerSets: 1,
      });
      const handle = network.start();
      oracle.manager().register(0, [a!, b!]);
      await oracle.addLink(a!, b!, { latency: 50, jitter: 10, successRate: 1 });
      const [sender] = oracle.control(a!).register(0, Quota.perSecond(10));
      const [, receiver] = oracle.control(b!).register(0, Quota.perSecond(10));
      sender.send(Recipients.all(), new TextEncoder().encode('hi'), false);
      const [from, message] = await receiver.recv();
      handle.stop();
      return `${from.equals(a!)} ${new TextDecoder().decode(message)}`;
    });
  const first = await run();
  const second = await run();
  assert.equal(first.result, 'true hi');
  assert.equal(first.digest, second.digest);
});
