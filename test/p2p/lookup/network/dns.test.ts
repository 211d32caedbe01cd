import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deterministicRuntime, simulatedNetwork } from '../../../../src/runtime/index.js';
import { counter, fullMesh, isConnected, type Peer, startPeer, stopAll, until } from './helpers.js';

describe('lookup network with DNS addresses (deterministic)', () => {
  test('a peer registered by DNS name is resolved, dialed and connected', async () => {
    const run = () =>
      deterministicRuntime({ seed: 51, dns: { 'p1.example': ['10.0.0.2'] } }).run(async (ctx) => {
        const p0 = startPeer(ctx, 0);
        const p1 = startPeer(ctx, 1);
        const viaDns: Parameters<Peer['oracle']['register']>[1] = [
          [p0.pk, p0.address],
          [p1.pk, { ingress: 'p1.example:3000', egress: `${p1.ip}:0` }],
        ];
        p0.oracle.register(0, viaDns);
        // p1 does not list p0 as dialable (secondary), so only p0 dials: through DNS.
        p1.oracle.register(0, { primary: [[p1.pk, p1.address]], secondary: [[p0.pk, p0.address]] });
        await until(ctx, () => fullMesh([p0, p1]), 'connected through DNS');
        assert.equal(counter(p1, 'dialer', 'attempts', ['peer']).get({ peer: p0.hex }), 0);
        await stopAll([p0, p1]);
        return ctx.clock.now();
      });
    const a = await run();
    const b = await run();
    assert.equal(a.digest, b.digest);
  });

  test('a name that resolves only to private IPs is not dialed when private IPs are not allowed', async () => {
    await deterministicRuntime({ seed: 52 }).run(async (ctx) => {
      simulatedNetwork(ctx).setDns('p1.example', ['10.0.0.2']);
      // allowPrivateIps is off on p0; the registered egress is global, so the set is accepted.
      const p0 = startPeer(ctx, 0, { overrides: { allowPrivateIps: false } });
      const p1 = startPeer(ctx, 1);
      p0.oracle.register(0, [[p1.pk, { ingress: 'p1.example:3000', egress: '1.1.1.1:0' }]]);
      await ctx.clock.sleep(10_000);
      assert.ok(
        counter(p0, 'dialer', 'attempts', ['peer']).get({ peer: p1.hex }) >= 1,
        'dial attempted',
      );
      assert.ok(!isConnected(p0, p1), 'but the private address was never dialed');
      assert.equal(simulatedNetwork(ctx).connections().length, 0);
      await stopAll([p0, p1]);
    });
  });
});
