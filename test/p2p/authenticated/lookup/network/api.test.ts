import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Config } from '../../../../../src/p2p/authenticated/lookup/config.js';
import { Network } from '../../../../../src/p2p/authenticated/lookup/network.js';
import { P2PError } from '../../../../../src/p2p/errors.js';
import { Recipients } from '../../../../../src/p2p/types.js';
import { Quota } from '../../../../../src/quota/index.js';
import { deterministicRuntime, runningTasks } from '../../../../../src/runtime/index.js';
import { entries, fullMesh, NAMESPACE, signer, startPeer, stopAll, until } from './helpers.js';

function isCode(code: string): (err: unknown) => boolean {
  return (err) => err instanceof P2PError && err.code === code;
}

function config(i: number, overrides: Partial<Parameters<typeof Config.local>[0]> = {}) {
  return Config.local({
    signer: signer(i),
    namespace: NAMESPACE,
    listen: `10.0.0.${i + 1}:3000`,
    maxPeersPerSet: 4,
    maxMessageSize: 64,
    ...overrides,
  });
}

describe('lookup network API', () => {
  test('sends before start and after shutdown return [] and never throw', async () => {
    await deterministicRuntime({ seed: 31 }).run(async (ctx) => {
      const [network, oracle] = Network.create(ctx, config(0));
      const [sender, receiver] = network.register(0, Quota.perSecond(10));
      const other = signer(1).publicKey;
      assert.deepEqual(sender.send(Recipients.one(other), new Uint8Array([1]), false), []);
      assert.throws(
        () => sender.send(Recipients.one(other), new Uint8Array(65), false),
        isCode('MessageTooLarge'),
      );
      const handle = network.start();
      assert.throws(() => network.register(1, Quota.perSecond(1)), isCode('InvalidConfig'));
      assert.throws(() => network.start(), isCode('InvalidConfig'));
      await ctx.clock.sleep(100);
      handle.stop();
      await handle.done;
      assert.deepEqual(sender.send(Recipients.all(), new Uint8Array([1]), true), []);
      assert.deepEqual(sender.send(Recipients.one(other), new Uint8Array([1]), true), []);
      await assert.rejects(receiver.recv(), isCode('NetworkClosed'));
      assert.equal(oracle.register(1, [[other, '10.0.0.2:3000']]), 'closed');
      assert.equal(oracle.block(other), 'closed');
      assert.equal(oracle.overwrite([[other, '10.0.0.2:3001']]), 'closed');
      assert.equal(await oracle.peerSet(1), undefined);
      const sub = oracle.subscribe();
      assert.equal(await sub.next(), undefined);
    });
  });

  test('a full tracker mailbox holds the overflow and counts it in tracker_mailbox_backoff', async () => {
    await deterministicRuntime({ seed: 34 }).run(async (ctx) => {
      const [network, oracle] = Network.create(ctx, config(0, { mailboxSize: 4 }));
      const feedback = [1, 2, 3, 4, 5, 6, 7].map((i) => oracle.block(signer(i).publicKey));
      assert.deepEqual(feedback, ['ok', 'ok', 'ok', 'ok', 'backoff', 'backoff', 'backoff']);
      const tracker = ctx.child('network').child('tracker').metrics;
      assert.equal(tracker.counter('mailbox_backoff', '').get(), 3);
      const handle = network.start();
      await ctx.clock.sleep(100);
      const blocked = tracker.gauge('blocked', '', ['peer']);
      for (let i = 1; i <= 7; i++) {
        assert.ok(blocked.get({ peer: signer(i).publicKey.toHex() }) > 0, `block ${i} applied`);
      }
      handle.stop();
      await handle.done;
    });
  });

  test('graceful shutdown ends every task and rejects pending receives with NetworkClosed', async () => {
    const { result } = await deterministicRuntime({ seed: 32 }).run(async (ctx) => {
      const peers = [0, 1, 2].map((i) => startPeer(ctx, i));
      for (const p of peers) p.oracle.register(0, entries(peers));
      await until(ctx, () => fullMesh(peers), 'full mesh');
      await until(
        ctx,
        () => peers.every((p) => p.network.connectedPeers().length === 2),
        'router sees both',
      );
      assert.deepEqual(
        peers[0]!.network.connectedPeers().map((k) => k.toHex()),
        [peers[1]!.hex, peers[2]!.hex].sort(),
      );
      const pending = peers.map((p) => p.receiver.recv());
      const running = runningTasks(ctx);
      assert.ok(
        running.some((l) => l.endsWith('_peer')),
        `peers run: ${running.join(',')}`,
      );
      await stopAll(peers);
      for (const r of pending) await assert.rejects(r, isCode('NetworkClosed'));
      assert.deepEqual(peers[0]!.network.connectedPeers(), []);
      const left = runningTasks(ctx).filter((l) => l !== '');
      assert.deepEqual(left, [], 'no task of any network is left');
      return ctx.clock.now();
    });
    assert.ok(result > 0);
  });

  test('the oracle rejects invalid input at the call and ignores a non-increasing index', async () => {
    await deterministicRuntime({ seed: 33 }).run(async (ctx) => {
      const [network, oracle] = Network.create(ctx, config(0));
      network.register(0, Quota.perSecond(10));
      const handle = network.start();
      const pk = (i: number) => signer(i).publicKey;
      const addr = (i: number) => `10.0.0.${i + 1}:3000`;
      // maxPeersPerSet 4 counts ourselves: four others plus us is five.
      assert.throws(
        () =>
          oracle.register(
            0,
            [1, 2, 3, 4].map((i) => [pk(i), addr(i)] as const),
          ),
        isCode('InvalidPeerSet'),
      );
      assert.throws(() => oracle.register(-1, []), isCode('InvalidPeerSet'));
      assert.throws(
        () => oracle.register(0, [[pk(1), 'not an address']]),
        isCode('InvalidAddress'),
      );
      // A bad address after good ones (the IPv4 fast path declines it; the full parser throws).
      assert.throws(
        () =>
          oracle.register(0, [
            [pk(1), '1.2.3.4:80'],
            [pk(2), '1.2.3.04:80'],
          ]),
        (e) => isCode('InvalidAddress')(e) && /1\.2\.3\.04:80/.test((e as Error).message),
      );
      assert.throws(
        () =>
          oracle.register(0, [
            [pk(1), addr(1)],
            [pk(1), addr(2)],
          ]),
        isCode('InvalidPeerSet'),
      );
      assert.throws(() => oracle.overwrite([[pk(1), '1.2.3.4']]), isCode('InvalidAddress'));

      const sub = oracle.subscribe();
      assert.equal(
        oracle.register(5, [
          [pk(0), addr(0)],
          [pk(1), addr(1)],
        ]),
        'ok',
      );
      assert.equal(oracle.register(3, [[pk(2), addr(2)]]), 'ok'); // stale: warned and ignored
      assert.equal(
        oracle.register(7, {
          primary: [[pk(1), addr(1)]],
          secondary: [
            [pk(2), addr(2)],
            [pk(1), addr(1)],
          ],
        }),
        'ok',
      );
      const first = await sub.next();
      assert.equal(first?.index, 5);
      const second = await sub.next();
      assert.equal(second?.index, 7);
      assert.deepEqual(
        second?.latest.primary.map((k) => k.toHex()),
        [pk(1).toHex()],
      );
      assert.deepEqual(
        second?.latest.secondary.map((k) => k.toHex()),
        [pk(2).toHex()],
      );
      assert.deepEqual(
        second?.all.primary.map((k) => k.toHex()).sort(),
        [pk(0).toHex(), pk(1).toHex()].sort(),
      );
      assert.equal(await oracle.peerSet(3), undefined, 'the stale index was ignored');
      assert.equal((await oracle.peerSet(5))?.primary.length, 2);

      // A new subscription yields the latest update at once.
      const late = oracle.subscribe();
      assert.equal((await late.next())?.index, 7);
      late.close();
      assert.equal(await late.next(), undefined);

      handle.stop();
      await handle.done;
      assert.equal(await sub.next(), undefined, 'the subscription ends with the network');
    });
  });

  test('a network whose listen address is taken rejects its handle with ListenFailed and stops every task', async () => {
    await deterministicRuntime({ seed: 34 }).run(async (ctx) => {
      const blocker = await ctx.network.bind({ ip: '10.0.0.1', port: 3000 });
      const [network] = Network.create(ctx, config(0));
      const handle = network.start();
      const err = await handle.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof P2PError, 'done rejects with a P2PError');
      assert.equal(err.code, 'ListenFailed');
      assert.match(err.message, /10\.0\.0\.1:3000/);
      assert.ok(err.cause !== undefined, 'the OS error is the cause');
      assert.equal(await network.address(), undefined);
      assert.deepEqual(
        runningTasks(ctx).filter((l) => l !== ''),
        [],
      );
      blocker.close();
    });
  });
});
