import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deterministicRuntime, simulatedNetwork } from '../../../../../src/runtime/index.js';
import {
  counter,
  fullMesh,
  ipOf,
  isConnected,
  type Peer,
  signer,
  startPeer,
  stopAll,
  until,
} from './helpers.js';

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

  test('two peers registered with each other only by bare DNS names connect, whichever side dials', async () => {
    const run = (dialerIndex: 0 | 1) =>
      deterministicRuntime({ seed: 53 }).run(async (ctx) => {
        const net = simulatedNetwork(ctx);
        const p0 = startPeer(ctx, 0);
        const p1 = startPeer(ctx, 1);
        net.setDns('p0.example', [p0.ip]);
        net.setDns('p1.example', [p1.ip]);
        const name = (p: Peer) => `p${p.i}.example:3000`;
        const [dialer, listener] = dialerIndex === 0 ? [p0, p1] : [p1, p0];
        // No IP is registered anywhere: only names. The dialer lists the other as a primary
        // (so it dials); the listener lists the dialer as a secondary (accepted, never dialed).
        dialer.oracle.register(0, [
          [dialer.pk, name(dialer)],
          [listener.pk, name(listener)],
        ]);
        listener.oracle.register(0, {
          primary: [[listener.pk, name(listener)]],
          secondary: [[dialer.pk, name(dialer)]],
        });
        await until(ctx, () => fullMesh([p0, p1]), 'connected by names');
        const links = net.connections().map((c) => [c.dialer.ip, c.listener.ip]);
        assert.deepEqual(links, [[dialer.ip, listener.ip]], 'one link, opened by the dialer');
        assert.equal(
          counter(listener, 'dialer', 'attempts', ['peer']).get({ peer: dialer.hex }),
          0,
        );
        assert.equal(counter(listener, 'listener', 'handshakes_blocked').get(), 0);
        await stopAll([p0, p1]);
        return ctx.clock.now();
      });
    const a = await run(0);
    const b = await run(1);
    assert.equal((await run(0)).digest, a.digest, 'deterministic');
    assert.ok(a.result > 0 && b.result > 0);
  });

  test('the listener admits an unregistered source IP to the handshake only while a named peer is eligible', async () => {
    await deterministicRuntime({ seed: 54 }).run(async (ctx) => {
      const net = simulatedNetwork(ctx);
      const p0 = startPeer(ctx, 0);
      const blocked = () => counter(p0, 'listener', 'handshakes_blocked').get();
      const probe = async () => {
        // A raw connection from an IP nobody registered; it never handshakes.
        const conn = await net.host('10.0.9.9').dial({ ip: p0.ip, port: 3000 });
        await ctx.clock.sleep(1);
        conn.close();
      };
      p0.oracle.register(0, [[signer(1).publicKey, `${ipOf(1)}:3000`]]);
      await ctx.clock.sleep(10);
      await probe();
      assert.equal(blocked(), 1, 'refused before the handshake');
      p0.oracle.register(1, [[signer(2).publicKey, 'p2.example:3000']]);
      await ctx.clock.sleep(10);
      await probe();
      assert.equal(blocked(), 1, 'let through to the handshake');
      p0.oracle.block(signer(2).publicKey);
      await ctx.clock.sleep(10);
      await probe();
      assert.equal(blocked(), 2, 'the named peer is blocked: refused again');
      await stopAll([p0]);
    });
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
