/**
 * Delivery, ordering, timing and determinism on the simulated network (commonware
 * `simulated/mod.rs`: test_determinism, test_simple_message_delivery, test_message_ordering,
 * test_high_latency_message_blocks_followup, test_send_wrong_channel, test_message_too_big,
 * test_rate_limiting).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { P2PError } from '../../../src/p2p/errors.js';
import { Recipients } from '../../../src/p2p/types.js';
import { Quota } from '../../../src/quota/index.js';
import { deterministicRuntime } from '../../../src/runtime/index.js';
import { twice } from '../authenticated/scenarios.js';
import { bytes, fixed, key, type PublicKey, start, take, text } from './helpers.js';

type PK = PublicKey;

describe('simulated delivery', () => {
  test('a message arrives after the link latency, from the right sender', async () => {
    const got = await twice(1, async (ctx) => {
      const sim = await start(ctx, 2, { link: fixed(50) });
      const t0 = ctx.clock.now();
      const sentTo = sim.channels[0]![0].send(Recipients.one(sim.pks[1]!), bytes('hi'), false);
      assert.deepEqual(sentTo, [sim.pks[1]]);
      const [m] = await take(ctx, sim.channels[1]![1], 1);
      sim.handle.stop();
      await sim.handle.done;
      return { ...m!, at: m!.at - t0 };
    });
    assert.deepEqual(got, { from: key(0).toHex(), msg: 'hi', at: 50 });
  });

  test('same seed, same digest; different seeds, different latency samples', async () => {
    // test_determinism: five peers, jittery lossy links, everyone sends to everyone.
    const scenario = async (ctx: Parameters<Parameters<typeof twice>[1]>[0]) => {
      const sim = await start(ctx, 5, { link: { latency: 100, jitter: 40, successRate: 0.8 } });
      const t0 = ctx.clock.now();
      for (let i = 0; i < 5; i++) {
        for (let k = 0; k < 10; k++) {
          sim.channels[i]![0].send(Recipients.all(), bytes(`${i}:${k}`), false);
        }
      }
      await ctx.clock.sleep(1_000);
      const seen: string[] = [];
      for (const [, r] of sim.channels) {
        while (r.size > 0) {
          const [from, msg] = await r.recv();
          seen.push(`${from.toHex().slice(0, 4)}>${text(msg)}`);
        }
      }
      sim.handle.stop();
      await sim.handle.done;
      return { t0, seen, received: seen.length };
    };
    const a = await twice(7, scenario);
    const b = await deterministicRuntime({ seed: 8 }).run(scenario);
    assert.ok(a.received > 100 && a.received < 200, `about 80% of 200 delivered: ${a.received}`);
    assert.notDeepEqual(a.seen, b.result.seen, 'another seed samples other losses and latencies');
  });

  test('messages on one pair arrive in the order sent, whatever the jitter', async () => {
    const got = await twice(3, async (ctx) => {
      const sim = await start(ctx, 2, { link: { latency: 200, jitter: 150, successRate: 1 } });
      const received = take(ctx, sim.channels[1]![1], 100);
      for (let k = 0; k < 100; k++) {
        sim.channels[0]![0].send(Recipients.one(sim.pks[1]!), bytes(String(k)), false);
        await ctx.clock.sleep(10);
      }
      const ms = await received;
      sim.handle.stop();
      return ms;
    });
    assert.deepEqual(
      got.map((m) => Number(m.msg)),
      Array.from({ length: 100 }, (_, k) => k),
    );
    const times = got.map((m) => m.at);
    assert.deepEqual(
      times,
      [...times].sort((x, y) => x - y),
    );
    assert.ok(new Set(times).size > 10, 'latencies vary');
  });

  test('a slow message holds back the next one on its pair', async () => {
    const got = await twice(4, async (ctx) => {
      const sim = await start(ctx, 2, { link: fixed(500) });
      const t0 = ctx.clock.now();
      const [sender] = sim.channels[0]!;
      sender.send(Recipients.one(sim.pks[1]!), bytes('slow'), false);
      await sim.oracle.removeLink(sim.pks[0]!, sim.pks[1]!);
      await sim.oracle.addLink(sim.pks[0]!, sim.pks[1]!, fixed(10));
      await ctx.clock.sleep(1);
      sender.send(Recipients.one(sim.pks[1]!), bytes('fast'), false);
      const ms = await take(ctx, sim.channels[1]![1], 2);
      sim.handle.stop();
      return ms.map((m) => [m.msg, m.at - t0]);
    });
    // The second message's own arrival would be at 11 ms; it waits for the first (500 ms).
    assert.deepEqual(got, [
      ['slow', 500],
      ['fast', 500],
    ]);
  });

  test('one, some and all reach the connected recipients; sentTo lists them', async () => {
    await twice(5, async (ctx) => {
      const sim = await start(ctx, 4, { link: fixed(5) });
      const [a, b, c, d] = sim.pks as [PK, PK, PK, PK];
      const [sender] = sim.channels[0]!;
      const outsider = key(99);
      assert.deepEqual(sender.send(Recipients.one(outsider), bytes('x'), false), []);
      assert.deepEqual(sender.send(Recipients.one(a), bytes('self'), false), []);
      assert.deepEqual(sender.send(Recipients.some([b, outsider, c, b]), bytes('some'), false), [
        b,
        c,
      ]);
      const all = sender.send(Recipients.all(), bytes('all'), true);
      assert.deepEqual(
        new Set(all.map((k) => k.toHex())),
        new Set([b, c, d].map((k) => k.toHex())),
      );
      const [mb, mc, md] = [1, 2, 3].map((i) => sim.channels[i]![1]);
      assert.deepEqual((await take(ctx, mb!, 2)).map((m) => m.msg).sort(), ['all', 'some']);
      assert.deepEqual((await take(ctx, mc!, 2)).map((m) => m.msg).sort(), ['all', 'some']);
      assert.deepEqual(
        (await take(ctx, md!, 1)).map((m) => m.msg),
        ['all'],
      );
      sim.handle.stop();
    });
  });

  test('high priority goes first among sends handled together', async () => {
    const got = await twice(6, async (ctx) => {
      const sim = await start(ctx, 2, { link: fixed(0) });
      const [sender] = sim.channels[0]!;
      const to = Recipients.one(sim.pks[1]!);
      sender.send(to, bytes('low1'), false);
      sender.send(to, bytes('high'), true);
      sender.send(to, bytes('low2'), false);
      const ms = await take(ctx, sim.channels[1]![1], 3);
      sim.handle.stop();
      return ms.map((m) => m.msg);
    });
    assert.deepEqual(got, ['high', 'low1', 'low2']);
  });

  test('a message on a channel the recipient did not register is not delivered', async () => {
    await twice(7, async (ctx) => {
      const sim = await start(ctx, 2, { link: fixed(1) });
      const [other] = sim.oracle.control(sim.pks[0]!).register(5, Quota.perSecond(10));
      assert.equal(other.send(Recipients.one(sim.pks[1]!), bytes('x'), false).length, 1);
      sim.channels[0]![0].send(Recipients.one(sim.pks[1]!), bytes('y'), false);
      const [m] = await take(ctx, sim.channels[1]![1], 1);
      assert.equal(m!.msg, 'y');
      await ctx.clock.sleep(100);
      assert.equal(sim.channels[1]![1].size, 0);
      sim.handle.stop();
    });
  });

  test('a message longer than maxSize throws MessageTooLarge and sends nothing', async () => {
    await twice(8, async (ctx) => {
      const sim = await start(ctx, 2, { config: { maxSize: 16 } });
      const [sender] = sim.channels[0]!;
      assert.throws(
        () => sender.send(Recipients.all(), new Uint8Array(17), false),
        (e: unknown) => e instanceof P2PError && e.code === 'MessageTooLarge',
      );
      assert.equal(sender.send(Recipients.all(), new Uint8Array(16), false).length, 1);
      assert.equal((await take(ctx, sim.channels[1]![1], 1)).length, 1);
      sim.handle.stop();
    });
  });

  test('the outbound quota filters a recipient that is over it', async () => {
    await twice(9, async (ctx) => {
      const sim = await start(ctx, 2, { quota: Quota.perMinute(1) });
      const [sender] = sim.channels[0]!;
      const to = Recipients.one(sim.pks[1]!);
      assert.equal(sender.send(to, bytes('1'), false).length, 1);
      assert.deepEqual(sender.send(to, bytes('2'), false), []);
      await ctx.clock.sleep(60_000);
      assert.equal(sender.send(to, bytes('3'), false).length, 1);
      sim.handle.stop();
    });
  });

  test('a link that loses everything still reports the attempt', async () => {
    await twice(10, async (ctx) => {
      const sim = await start(ctx, 2, { link: { latency: 1, jitter: 0, successRate: 0 } });
      assert.equal(sim.channels[0]![0].send(Recipients.all(), bytes('x'), false).length, 1);
      await ctx.clock.sleep(100);
      assert.equal(sim.channels[1]![1].size, 0);
      sim.handle.stop();
    });
  });
});

describe('simulated bounds', () => {
  test('a full ingress queue makes send return []; maxInFlight drops and counts the excess', async () => {
    const got = await twice(11, async (ctx) => {
      const sim = await start(ctx, 3, {
        link: fixed(10),
        config: { mailboxSize: 2, maxInFlight: 3 },
      });
      const [sender] = sim.channels[0]!;
      const sent = [1, 2, 3].map(
        (k) => sender.send(Recipients.all(), bytes(String(k)), false).length,
      );
      await ctx.clock.sleep(50);
      const heard = sim.channels[1]![1].size + sim.channels[2]![1].size;
      const text = await ctx.metrics.encode();
      sim.handle.stop();
      return {
        sent,
        heard,
        overloaded: /messages_dropped_total\{reason="overloaded"\} 1/.test(text),
      };
    });
    // Two sends queued (two recipients each), the third refused; of four messages, three fit.
    assert.deepEqual(got, { sent: [2, 2, 0], heard: 3, overloaded: true });
  });
});
