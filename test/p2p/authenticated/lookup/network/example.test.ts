import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ed25519 } from '../../../../../src/crypto/index.js';
import {
  Config,
  Network,
  Quota,
  Recipients,
} from '../../../../../src/p2p/authenticated/lookup/index.js';
import {
  deterministicRuntime,
  simulatedNetwork,
  withNetwork,
} from '../../../../../src/runtime/index.js';

test('the module example runs as written', async () => {
  const keys = [1n, 2n].map((seed) => ed25519.PrivateKey.fromSeed(seed));
  const ips = ['10.0.0.1', '10.0.0.2'];
  const { result } = await deterministicRuntime({ seed: 7 }).run(async (ctx) => {
    const nodes = keys.map((signer, i) => {
      const node = withNetwork(ctx.child(`node${i}`), simulatedNetwork(ctx).host(ips[i]!));
      const config = Config.local({
        signer,
        namespace: new TextEncoder().encode('my-app'),
        listen: `${ips[i]}:3000`,
        maxPeersPerSet: 8,
        maxMessageSize: 1024,
      });
      const [network, oracle] = Network.create(node, config);
      const [sender, receiver] = network.register(0, Quota.perSecond(100));
      const handle = network.start();
      oracle.register(
        0,
        keys.map((k, j) => [k.publicKey, `${ips[j]}:3000`] as const),
      );
      return { sender, receiver, handle };
    });
    const received = nodes[1]!.receiver.recv();
    let sent: unknown[] = [];
    while (sent.length === 0) {
      sent = nodes[0]!.sender.send(Recipients.all(), new TextEncoder().encode('hi'), false);
      await ctx.clock.sleep(100);
    }
    const [from, message] = await received;
    for (const n of nodes) n.handle.stop();
    await Promise.all(nodes.map((n) => n.handle.done));
    return `${from.equals(keys[0]!.publicKey)} ${new TextDecoder().decode(message)}`;
  });
  assert.equal(result, 'true hi');
});
