import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RingInbox } from '../../../../../src/actor/index.js';
import { ed25519 } from '../../../../../src/crypto/index.js';
import {
  Oracle,
  type PeerSetSubscription,
} from '../../../../../src/p2p/authenticated/lookup/oracle.js';
import {
  Actor,
  type Config,
  DirectoryMetrics,
  type ListenerAllowList,
  type Mailbox,
} from '../../../../../src/p2p/authenticated/lookup/tracker/index.js';
import type { Context } from '../../../../../src/runtime/context.js';
import { deterministicRuntime, silentLogger } from '../../../../../src/runtime/index.js';

function pk(i: number): ed25519.PublicKey {
  return ed25519.PrivateKey.fromSeed(BigInt(i)).publicKey;
}
function ip(i: number): string {
  return `10.0.0.${i}`;
}
function addr(i: number, port = 3000): string {
  return `${ip(i)}:${port}`;
}

/** A fake peer control that counts kills. */
class Control {
  kills = 0;
  kill(): void {
    this.kills++;
  }
}

interface Harness {
  readonly ctx: Context;
  readonly mailbox: Mailbox;
  readonly oracle: Oracle;
  readonly allow: RingInbox<ListenerAllowList>;
  readonly metrics: DirectoryMetrics;
  /** Lets the tracker handle everything queued. */
  settle(): Promise<void>;
  /**
   * The latest allow-list pushed (sorted IPs, then `'*'` if its `any` flag is set), or undefined
   * if none since the last call.
   */
  allowList(): string[] | undefined;
  stop(): Promise<void>;
}

function config(overrides: Partial<Config> = {}): Config {
  return {
    myself: pk(0),
    mailboxSize: 4,
    allowPrivateIps: true,
    allowDns: true,
    bypassIpCheck: false,
    trackedPeerSets: 2,
    maxPeersPerSet: 8,
    peerConnectionCooldownMs: 1_000,
    blockDurationMs: 10_000,
    ...overrides,
  };
}

function harness(ctx: Context, overrides: Partial<Config> = {}): Harness {
  const metrics = DirectoryMetrics.register(ctx.child('tracker').metrics);
  const [actor, mailbox] = Actor.create(config(overrides), { rng: ctx.rng, metrics });
  const oracle = new Oracle(mailbox, (p) => actor.checkSize(p), silentLogger);
  const handle = actor.start(ctx);
  const allow = mailbox.listenerAllowList();
  return {
    ctx,
    mailbox,
    oracle,
    allow,
    metrics,
    settle: () => ctx.clock.sleep(1),
    allowList() {
      let latest: ListenerAllowList | undefined;
      for (let s = allow.tryRecv(); s !== undefined; s = allow.tryRecv()) latest = s;
      if (latest === undefined) return undefined;
      return [...[...latest.ips].sort(), ...(latest.any ? ['*'] : [])];
    },
    async stop() {
      handle.stop();
      await handle.done;
    },
  };
}

function run(fn: (ctx: Context) => Promise<void>, seed = 1): Promise<unknown> {
  return deterministicRuntime({ seed }).run(fn);
}

/** Dials `i` through the tracker and reports the connection; returns the control and reservation. */
async function connectOutbound(h: Harness, i: number) {
  const granted = await h.mailbox.dial(pk(i));
  assert.ok(granted, `dial reservation for ${i}`);
  const control = new Control();
  h.mailbox.connect(pk(i), control);
  await h.settle();
  return { control, reservation: granted.reservation, ingress: granted.ingress };
}

describe('lookup tracker actor', () => {
  test('pushes an allow-list at start and after a registration', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      await h.settle();
      assert.deepEqual(h.allowList(), []);
      h.oracle.register(0, [
        [pk(1), addr(1)],
        [pk(2), { ingress: 'node2.example:3000', egress: `${ip(9)}:0` }],
      ]);
      await h.settle();
      assert.deepEqual(h.allowList(), [ip(1), ip(9)]);
      await h.stop();
    });
  });

  test('a registration notifies subscribers, and a new subscriber gets the latest update at once', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      const early = h.oracle.subscribe();
      h.oracle.register(3, [[pk(1), addr(1)]]);
      await h.settle();
      const u = await early.next();
      assert.equal(u?.index, 3);
      assert.deepEqual(
        u?.latest.primary.map((k) => k.toHex()),
        [pk(1).toHex()],
      );
      const late: PeerSetSubscription = h.oracle.subscribe();
      assert.equal((await late.next())?.index, 3);
      await h.stop();
      assert.equal(await early.next(), undefined);
    });
  });

  test('a registration in any order is stored sorted, a key in both roles as primary', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      const order = [5, 2, 7, 1, 3];
      h.oracle.register(0, {
        primary: order.map((i) => [pk(i), addr(i)] as const),
        secondary: [
          [pk(2), addr(2)],
          [pk(9), addr(9)],
          [pk(4), addr(4)],
        ],
      });
      const set = await h.oracle.peerSet(0);
      const byBytes = (ks: ed25519.PublicKey[]) =>
        ks.sort((a, b) => a.compare(b)).map((k) => k.toHex());
      assert.deepEqual(
        set?.primary.map((k) => k.toHex()),
        byBytes(order.map(pk)),
      );
      assert.deepEqual(
        set?.secondary.map((k) => k.toHex()),
        byBytes([pk(9), pk(4)]),
      );
      await h.stop();
    });
  });

  test('a non-increasing index is ignored: no subscriber update, no kill, no change', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      h.oracle.register(5, [[pk(1), addr(1)]]);
      await h.settle();
      const sub = h.oracle.subscribe();
      await sub.next();
      const { control } = await connectOutbound(h, 1);
      h.oracle.register(5, [[pk(2), addr(2)]]);
      h.oracle.register(4, [[pk(2), addr(2)]]);
      await h.settle();
      assert.equal(sub.size, 0);
      assert.equal(control.kills, 0);
      assert.equal(await h.oracle.peerSet(4), undefined);
      assert.equal(await h.mailbox.dial(pk(2)), undefined, 'peer 2 was never tracked');
      await h.stop();
    });
  });

  test('a connect from a peer without a reservation or outside every set is killed', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      const stranger = new Control();
      h.mailbox.connect(pk(7), stranger);
      h.oracle.register(0, [[pk(1), addr(1)]]);
      await h.settle();
      const unreserved = new Control();
      h.mailbox.connect(pk(1), unreserved);
      await h.settle();
      assert.equal(stranger.kills, 1);
      assert.equal(unreserved.kills, 1);
      await h.stop();
    });
  });

  test('connect marks the peer connected; release clears it and its control', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      h.oracle.register(0, [[pk(1), addr(1)]]);
      await h.settle();
      const { control, reservation, ingress } = await connectOutbound(h, 1);
      assert.deepEqual(ingress, { kind: 'socket', addr: { ip: ip(1), port: 3000 } });
      assert.equal(control.kills, 0);
      assert.ok(h.metrics.connected.get({ peer: pk(1).toHex() }) > 0);
      assert.equal(h.metrics.reserved.get(), 1);
      reservation.release();
      await h.settle();
      assert.equal(h.metrics.connected.get({ peer: pk(1).toHex() }), 0);
      assert.equal(h.metrics.reserved.get(), 0);
      // The control was forgotten on release: a later block kills nothing.
      h.oracle.block(pk(1));
      await h.settle();
      assert.equal(control.kills, 0);
      await h.stop();
    });
  });

  test('block kills the connection, drops the IP from the allow-list, and expiry restores it', async () => {
    await run(async (ctx) => {
      const h = harness(ctx, { blockDurationMs: 10_000 });
      h.oracle.register(0, [
        [pk(1), addr(1)],
        [pk(2), addr(2)],
      ]);
      await h.settle();
      const { control, reservation } = await connectOutbound(h, 1);
      h.allowList();
      const blockedAt = ctx.clock.now();
      h.oracle.block(pk(1));
      await h.settle();
      assert.equal(control.kills, 1);
      assert.deepEqual(h.allowList(), [ip(2)]);
      reservation.release();
      await h.settle();
      assert.equal(await h.mailbox.acceptable(pk(1), ip(1)), false);
      assert.equal(await h.mailbox.dial(pk(1)), undefined);
      assert.ok(!(await h.mailbox.dialable())?.peers.some((k) => k.equals(pk(1))));
      // The tracker wakes by itself at the expiry and pushes the allow-list again.
      await ctx.clock.sleepUntil(blockedAt + 10_000);
      await h.settle();
      assert.deepEqual(h.allowList(), [ip(1), ip(2)]);
      assert.equal(await h.mailbox.acceptable(pk(1), ip(1)), true);
      await h.stop();
    });
  });

  test('pushes the any flag while a named peer is eligible and unblocked, and accepts it from any IP', async () => {
    await run(async (ctx) => {
      const h = harness(ctx, { blockDurationMs: 10_000 });
      h.oracle.register(0, [
        [pk(1), addr(1)],
        [pk(2), 'p2.example:3000'],
      ]);
      await h.settle();
      assert.deepEqual(h.allowList(), [ip(1), '*']);
      assert.equal(await h.mailbox.acceptable(pk(2), '10.9.9.9'), true);
      const blockedAt = ctx.clock.now();
      h.oracle.block(pk(2));
      await h.settle();
      assert.deepEqual(h.allowList(), [ip(1)]);
      await ctx.clock.sleepUntil(blockedAt + 10_000);
      await h.settle();
      assert.deepEqual(h.allowList(), [ip(1), '*'], 'block expired');
      h.oracle.register(1, [[pk(1), addr(1)]]);
      h.oracle.register(2, [[pk(1), addr(1)]]);
      await h.settle();
      assert.deepEqual(h.allowList(), [ip(1)], 'named peer evicted');
      await h.stop();
    });
  });

  test('blocking an unknown key is harmless and it is refused once tracked', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      h.oracle.block(pk(5));
      h.oracle.register(0, [[pk(5), addr(5)]]);
      await h.settle();
      assert.equal(await h.mailbox.acceptable(pk(5), ip(5)), false);
      assert.deepEqual(h.allowList(), []);
      await h.stop();
    });
  });

  test('overwrite kills a connection made to the old address and pushes the new IP', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      h.oracle.register(0, [[pk(1), addr(1)]]);
      await h.settle();
      const { control } = await connectOutbound(h, 1);
      h.allowList();
      h.oracle.overwrite([
        [pk(1), addr(11)],
        [pk(9), addr(9)], // unknown: ignored
      ]);
      await h.settle();
      assert.equal(control.kills, 1);
      assert.deepEqual(h.allowList(), [ip(11)]);
      // Unchanged addresses change nothing (no push).
      h.oracle.overwrite([[pk(1), addr(11)]]);
      await h.settle();
      assert.equal(h.allowList(), undefined);
      await h.stop();
    });
  });

  test('a connection whose address changed during the handshake is killed on connect', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      h.oracle.register(0, [[pk(1), addr(1)]]);
      await h.settle();
      const granted = await h.mailbox.dial(pk(1));
      assert.ok(granted);
      h.oracle.overwrite([[pk(1), addr(12)]]);
      const control = new Control();
      h.mailbox.connect(pk(1), control);
      await h.settle();
      assert.equal(control.kills, 1);
      await h.stop();
    });
  });

  test('a rollover kills exactly the peers that left every retained set', async () => {
    await run(async (ctx) => {
      const h = harness(ctx, { trackedPeerSets: 2 });
      h.oracle.register(
        0,
        [1, 2, 3].map((i) => [pk(i), addr(i)] as const),
      );
      await h.settle();
      const c1 = await connectOutbound(h, 1);
      const c2 = await connectOutbound(h, 2);
      const c3 = await connectOutbound(h, 3);
      h.oracle.register(
        1,
        [1, 2].map((i) => [pk(i), addr(i)] as const),
      );
      await h.settle();
      assert.deepEqual(
        [c1, c2, c3].map((c) => c.control.kills),
        [0, 0, 0],
      );
      h.oracle.register(2, [[pk(1), addr(1)]]);
      await h.settle();
      assert.deepEqual(
        [c1, c2, c3].map((c) => c.control.kills),
        [0, 0, 1],
      );
      assert.deepEqual(h.allowList(), [ip(1), ip(2)]);
      await h.stop();
    });
  });

  test('a registration that changes a connected peer address kills it', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      h.oracle.register(0, [[pk(1), addr(1)]]);
      await h.settle();
      const { control } = await connectOutbound(h, 1);
      h.oracle.register(1, [[pk(1), addr(1, 4000)]]);
      await h.settle();
      assert.equal(control.kills, 1);
      await h.stop();
    });
  });

  test('acceptable and listen check the source IP unless bypassIpCheck', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      h.oracle.register(0, [[pk(1), addr(1)]]);
      await h.settle();
      assert.equal(await h.mailbox.acceptable(pk(1), ip(2)), false);
      assert.equal(await h.mailbox.listen(pk(1), ip(2)), undefined);
      assert.equal(await h.mailbox.acceptable(pk(1), ip(1)), true);
      assert.equal(await h.mailbox.acceptable(pk(0), ip(1)), false, 'never ourselves');
      const r = await h.mailbox.listen(pk(1), ip(1));
      assert.ok(r);
      assert.equal(await h.mailbox.acceptable(pk(1), ip(1)), false, 'already reserved');
      h.mailbox.connect(pk(1), { kill() {} }, false, r.metadata.generation);
      r.release();
      await h.settle();
      // Released after a connection, so cooling down: acceptable, yet no reservation until the
      // cooldown passes.
      assert.equal(await h.mailbox.acceptable(pk(1), ip(1)), true);
      assert.equal(await h.mailbox.listen(pk(1), ip(1)), undefined);
      await ctx.clock.sleep(1_000);
      assert.ok(await h.mailbox.listen(pk(1), `::ffff:${ip(1)}`), 'an IPv4-mapped source matches');
      await h.stop();
    });
    await run(async (ctx) => {
      const h = harness(ctx, { bypassIpCheck: true });
      h.oracle.register(0, [[pk(1), addr(1)]]);
      await h.settle();
      assert.equal(await h.mailbox.acceptable(pk(1), ip(2)), true);
      await h.stop();
    });
  });

  test('secondary peers are acceptable but never dialable', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      h.oracle.register(0, { primary: [[pk(1), addr(1)]], secondary: [[pk(2), addr(2)]] });
      await h.settle();
      const dialable = await h.mailbox.dialable();
      assert.deepEqual(
        dialable?.peers.map((k) => k.toHex()),
        [pk(1).toHex()],
      );
      assert.equal(await h.mailbox.dial(pk(2)), undefined);
      assert.equal(await h.mailbox.acceptable(pk(2), ip(2)), true);
      await h.stop();
    });
  });

  test('after stopping, requests resolve undefined and subscriptions end', async () => {
    await run(async (ctx) => {
      const h = harness(ctx);
      h.oracle.register(0, [[pk(1), addr(1)]]);
      await h.settle();
      await h.stop();
      assert.equal(await h.mailbox.dialable(), undefined);
      assert.equal(await h.mailbox.dial(pk(1)), undefined);
      assert.equal(await h.mailbox.acceptable(pk(1), ip(1)), false);
      assert.equal(await h.oracle.peerSet(0), undefined);
      assert.equal(h.mailbox.connect(pk(1), new Control()), 'closed');
      assert.equal(await h.oracle.subscribe().next(), undefined);
    });
  });

  test('the oracle refuses a set larger than maxPeersPerSet, counting ourselves', async () => {
    await run(async (ctx) => {
      const h = harness(ctx, { maxPeersPerSet: 3 });
      assert.doesNotThrow(() =>
        h.oracle.register(
          0,
          [0, 1, 2].map((i) => [pk(i), addr(i + 1)] as const),
        ),
      );
      assert.throws(
        () =>
          h.oracle.register(
            1,
            [1, 2, 3].map((i) => [pk(i), addr(i)] as const),
          ),
        {
          name: 'P2PError',
          code: 'InvalidPeerSet',
        },
      );
      await h.stop();
    });
  });
});
