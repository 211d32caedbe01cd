/**
 * Dials leave from the network's listen IP (issue 9, section 5): the plain multi-peer test a new
 * user writes (two lookup peers on `ctx.child(..)`, each listening on its own IP, no
 * `withNetwork`) connects on the deterministic runtime, and on real TCP an accepted connection's
 * remote IP is the dialer's listen IP.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ed25519 } from '../../../../../src/crypto/index.js';
import {
  Config,
  Network,
  Quota,
  Recipients,
} from '../../../../../src/p2p/authenticated/lookup/index.js';
import type { Context } from '../../../../../src/runtime/context.js';
import {
  deterministicRuntime,
  nodeRuntime,
  simulatedNetwork,
  withNetwork,
} from '../../../../../src/runtime/index.js';
import { twice } from '../../scenarios.js';

const keys = [1n, 2n].map((seed) => ed25519.PrivateKey.fromSeed(seed));
const text = new TextEncoder();

/**
 * Two lookup peers, each on `ctx.child(..)` listening on `ips[i]:port` (port 0: any), registered
 * with each other at their bound addresses; peer 0 sends `hi` to all until it reaches someone.
 * Returns what peer 1 received. `contextOf` lets a test wrap the child context (the explicit
 * `withNetwork` form).
 */
async function twoPeers(
  ctx: Context,
  ips: readonly string[],
  port: number,
  contextOf: (child: Context, ip: string) => Context = (child) => child,
): Promise<string> {
  const nodes = keys.map((signer, i) => {
    const node = contextOf(ctx.child(`node${i}`), ips[i]!);
    const config = Config.local({
      signer,
      namespace: text.encode('my-app'),
      listen: `${ips[i]}:${port}`,
      maxPeersPerSet: 8,
      maxMessageSize: 1024,
    });
    const [network, oracle] = Network.create(node, config);
    const [sender, receiver] = network.register(0, Quota.perSecond(100));
    const handle = network.start();
    return { network, oracle, sender, receiver, handle };
  });
  try {
    const bound = await Promise.all(nodes.map((n) => n.network.address()));
    const peers = keys.map((k, j) => [k.publicKey, `${ips[j]}:${bound[j]!.port}`] as const);
    for (const n of nodes) n.oracle.register(0, peers);
    const received = nodes[1]!.receiver.recv();
    let sent: unknown[] = [];
    for (let tries = 0; sent.length === 0; tries++) {
      assert.ok(tries < 200, 'peer 0 never connected to peer 1');
      sent = nodes[0]!.sender.send(Recipients.all(), text.encode('hi'), false);
      await ctx.clock.sleep(100);
    }
    const [from, message] = await received;
    return `${from.equals(keys[0]!.publicKey)} ${new TextDecoder().decode(message)}`;
  } finally {
    for (const n of nodes) n.handle.stop();
    await Promise.all(nodes.map((n) => n.handle.done));
  }
}

describe('dials leave from the listen IP', () => {
  test('two lookup peers on ctx.child with their own 10.0.0.x connect (deterministic)', async () => {
    const result = await twice(7, async (ctx) => {
      const got = await twoPeers(ctx, ['10.0.0.1', '10.0.0.2'], 3000);
      return got;
    });
    assert.equal(result, 'true hi');
  });

  test('the in-memory network records the dialer listen IP as the source', async () => {
    const { result } = await deterministicRuntime({ seed: 3 }).run(async (ctx) => {
      const sim = simulatedNetwork(ctx);
      const sources = new Set<string>();
      const watch = ctx.spawn('watch', async (w) => {
        for (;;) {
          for (const c of sim.connections()) sources.add(`${c.dialer.ip}>${c.listener.ip}`);
          await w.clock.sleep(10, w.signal);
        }
      });
      const got = await twoPeers(ctx, ['10.0.0.1', '10.0.0.2'], 3000);
      watch.stop();
      await watch.done;
      return [got, [...sources].sort()];
    });
    const [got, sources] = result as [string, string[]];
    assert.equal(got, 'true hi');
    assert.ok(sources.length > 0, 'a connection was seen');
    for (const s of sources) assert.match(s, /^10\.0\.0\.[12]>10\.0\.0\.[12]$/);
  });

  test('the explicit withNetwork(host(ip)) form still works', async () => {
    const result = await twice(8, (ctx) =>
      twoPeers(ctx, ['10.0.0.1', '10.0.0.2'], 3000, (child, ip) =>
        withNetwork(child, simulatedNetwork(ctx).host(ip)),
      ),
    );
    assert.equal(result, 'true hi');
  });

  test('a runtime dial with a local IP leaves from it; a wildcard or other family is ignored', async () => {
    const { result } = await deterministicRuntime({ seed: 1 }).run(async (ctx) => {
      const listener = await ctx.network.bind({ ip: '10.0.0.9', port: 4000 });
      const remotes: string[] = [];
      for (const local of ['10.0.0.5', '0.0.0.0', '::1', undefined]) {
        const conn = await ctx.network.dial(listener.address, undefined, local);
        const accepted = await listener.accept();
        assert.equal(accepted.remote.ip, conn.local.ip);
        remotes.push(accepted.remote.ip);
        conn.close();
        accepted.close();
      }
      listener.close();
      return remotes;
    });
    assert.deepEqual(result, ['10.0.0.5', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });
});

describe('dials leave from the listen IP on real TCP', { timeout: 30_000 }, () => {
  test('an accepted connection has the dialer listen IP (127.0.0.2 to 127.0.0.3)', async () => {
    const remote = await nodeRuntime().run(async (ctx) => {
      const listener = await ctx.network.bind({ ip: '127.0.0.3', port: 0 });
      const conn = await ctx.network.dial(listener.address, undefined, '127.0.0.2');
      const accepted = await listener.accept(AbortSignal.timeout(10_000));
      const ip = accepted.remote.ip;
      conn.close();
      accepted.close();
      listener.close();
      return ip;
    });
    assert.equal(remote, '127.0.0.2');
  });

  test('two lookup peers on 127.0.0.2 and 127.0.0.3 pass the registered-IP check', async () => {
    // Without the source bind, Linux picks 127.0.0.1 for both dials and each listener refuses it.
    const result = await nodeRuntime().run((ctx) => twoPeers(ctx, ['127.0.0.2', '127.0.0.3'], 0));
    assert.equal(result, 'true hi');
  });
});
