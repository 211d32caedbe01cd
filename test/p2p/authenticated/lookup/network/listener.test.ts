import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Config } from '../../../../../src/p2p/authenticated/lookup/config.js';
import { Network } from '../../../../../src/p2p/authenticated/lookup/network.js';
import { Quota } from '../../../../../src/quota/index.js';
import type { Connection, Context } from '../../../../../src/runtime/context.js';
import {
  deterministicRuntime,
  simulatedNetwork,
  withNetwork,
} from '../../../../../src/runtime/index.js';
import { NAMESPACE, signer } from './helpers.js';

const LISTEN = { ip: '1.0.0.1', port: 3000 };

function dialFrom(ctx: Context, ip: string): Promise<Connection> {
  return simulatedNetwork(ctx).host(ip).dial(LISTEN);
}

/** Resolves true if `conn` is closed within `ms` of virtual time. */
async function closedWithin(ctx: Context, conn: Connection, ms: number): Promise<boolean> {
  let closed = false;
  void conn.closed.then(() => {
    closed = true;
  });
  await ctx.clock.sleep(ms);
  return closed;
}

describe('lookup listener admission (deterministic)', () => {
  test('private, unregistered, per-IP, per-subnet and concurrency rules each close and count', async () => {
    const run = () =>
      deterministicRuntime({ seed: 41 }).run(async (ctx) => {
        const pctx = withNetwork(ctx.child('p0'), simulatedNetwork(ctx).host(LISTEN.ip));
        const config = Config.recommended({
          signer: signer(0),
          namespace: NAMESPACE,
          listen: LISTEN,
          maxPeersPerSet: 8,
          maxMessageSize: 1024,
          allowedHandshakeRatePerIp: Quota.perSecond(2),
          allowedHandshakeRatePerSubnet: Quota.perSecond(3),
          maxConcurrentHandshakes: 2,
          handshakeTimeoutMs: 5_000,
        });
        const [network, oracle] = Network.create(pctx, config);
        const handle = network.start();
        oracle.register(0, [
          [signer(1).publicKey, '1.0.0.2:3000'],
          [signer(2).publicKey, '1.0.0.3:3000'],
          [signer(3).publicKey, '1.0.1.2:3000'],
          [signer(4).publicKey, '10.0.0.5:3000'],
        ]);
        await ctx.clock.sleep(10);
        const m = pctx.child('network').child('listener').metrics;
        const get = (name: string) => m.counter(name, '').get();

        // 1. A private source is refused even though a peer is registered there.
        assert.ok(await closedWithin(ctx, await dialFrom(ctx, '10.0.0.5'), 1));
        assert.equal(get('handshakes_blocked'), 1);
        // 2. A global but unregistered source is refused.
        assert.ok(await closedWithin(ctx, await dialFrom(ctx, '1.0.0.9'), 1));
        assert.equal(get('handshakes_blocked'), 2);
        // 3. Two silent connections from a registered IP use the per-IP burst and both slots.
        const silent = [await dialFrom(ctx, '1.0.0.2'), await dialFrom(ctx, '1.0.0.2')];
        assert.equal(await closedWithin(ctx, silent[0]!, 1), false);
        assert.equal(network.handshakesInFlight, 2);
        // 4. A third from that IP is over the per-IP rate (it also uses the subnet's last cell).
        assert.ok(await closedWithin(ctx, await dialFrom(ctx, '1.0.0.2'), 1));
        assert.equal(get('handshake_ip_rate_limited'), 1);
        assert.equal(get('handshake_subnet_rate_limited'), 0);
        // 5. Another IP of the same /24 is over the per-subnet rate.
        assert.ok(await closedWithin(ctx, await dialFrom(ctx, '1.0.0.3'), 1));
        assert.equal(get('handshake_subnet_rate_limited'), 1);
        // 6. A fresh subnet passes the limiters but both handshake slots are taken.
        assert.ok(await closedWithin(ctx, await dialFrom(ctx, '1.0.1.2'), 1));
        assert.equal(get('handshake_concurrent_rate_limited'), 1);
        // 7. The silent connections are closed at the handshake timeout, freeing the slots.
        await ctx.clock.sleep(5_000);
        for (const c of silent) assert.ok(await closedWithin(ctx, c, 1));
        assert.equal(network.handshakesInFlight, 0);
        assert.equal(get('handshakes_failed'), 2);
        handle.stop();
        await handle.done;
        return [
          'handshakes_blocked',
          'handshake_ip_rate_limited',
          'handshake_subnet_rate_limited',
          'handshake_concurrent_rate_limited',
          'handshakes_failed',
        ].map(get);
      });
    const a = await run();
    const b = await run();
    assert.deepEqual(a.result, [2, 1, 1, 1, 2]);
    assert.equal(a.digest, b.digest);
  });
});
