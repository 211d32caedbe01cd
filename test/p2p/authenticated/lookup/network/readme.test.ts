/** The README's "Several peers in one deterministic test" example, as written there. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ed25519 } from '../../../../../src/crypto/index.js';
import { lookup, Quota, Recipients } from '../../../../../src/index.js';
import { deterministicRuntime } from '../../../../../src/runtime/index.js';

test('the README multi-peer deterministic example runs as written', async () => {
  const keys = [1n, 2n].map((seed) => ed25519.PrivateKey.fromSeed(seed));
  const ips = ['10.0.0.1', '10.0.0.2'];
  const book = keys.map((k, i) => [k.publicKey, `${ips[i]}:3000`] as const);

  const run = () =>
    deterministicRuntime({ seed: 7 }).run(async (ctx) => {
      const peers = keys.map((signer, i) => {
        const config = lookup.Config.local({
          signer,
          namespace: new TextEncoder().encode('my-app'),
          listen: `${ips[i]}:3000`,
          maxPeersPerSet: 8,
          maxMessageSize: 1024,
        });
        const [network, oracle] = lookup.Network.create(ctx.child(`peer${i}`), config);
        const [sender, receiver] = network.register(0, Quota.perSecond(100));
        const handle = network.start();
        oracle.register(0, book);
        return { sender, receiver, handle };
      });
      // Connecting takes (virtual) time: send until peer 0 reaches peer 1.
      const hello = new TextEncoder().encode('hello');
      for (let i = 0; peers[0]!.sender.send(Recipients.all(), hello, false).length === 0; i++) {
        assert.ok(i < 100, 'not connected after 10 s');
        await ctx.clock.sleep(100);
      }
      const [from, message] = await peers[1]!.receiver.recv();
      assert.ok(from.equals(keys[0]!.publicKey));
      for (const p of peers) p.handle.stop();
      await Promise.all(peers.map((p) => p.handle.done));
      return new TextDecoder().decode(message);
    });

  const first = await run();
  assert.equal(first.result, 'hello');
  assert.equal((await run()).digest, first.digest); // same seed, same run
});
