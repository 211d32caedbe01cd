/**
 * Bandwidth: max-min fair sharing, exact (commonware `simulated/mod.rs`: test_bandwidth,
 * test_bandwidth_contention, test_many_to_one_bandwidth_sharing, test_one_to_many_fast_sender,
 * test_many_slow_senders_to_fast_receiver, test_zero_receiver_ingress_bandwidth; and
 * `bandwidth.rs`'s allocation).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { allocate, type FlowLike, type Resource } from '../../../src/p2p/simulated/bandwidth.js';
import { add, cmp, ratio, ZERO } from '../../../src/p2p/simulated/rational.js';
import { Recipients } from '../../../src/p2p/types.js';
import type { Context } from '../../../src/runtime/context.js';
import { twice } from '../authenticated/scenarios.js';
import { fixed, type Sim, start, take } from './helpers.js';

const res = (bytesPerMs: bigint, per = 1n): Resource => ({ capacity: ratio(bytesPerMs, per) });
const flow = (...resources: Resource[]): FlowLike => ({ resources, rate: ZERO });

describe('max-min allocation', () => {
  test('flows sharing one resource get equal exact shares', () => {
    const r = res(10n);
    const flows = [flow(r), flow(r), flow(r)];
    allocate(flows);
    for (const f of flows) assert.deepEqual(f.rate, ratio(10n, 3n));
  });

  test('a flow held back elsewhere leaves its share to the others (progressive filling)', () => {
    // Egress E = 12 shared by three flows; one of them also crosses ingress I = 2.
    const e = res(12n);
    const i = res(2n);
    const [a, b, c] = [flow(e, i), flow(e), flow(e)];
    allocate([a, b, c]);
    assert.deepEqual(a.rate, ratio(2n));
    assert.deepEqual(b.rate, ratio(5n));
    assert.deepEqual(c.rate, ratio(5n));
  });

  test('a zero capacity freezes its flows at 0 without starving the rest', () => {
    const zero = res(0n);
    const e = res(6n);
    const [a, b] = [flow(e, zero), flow(e)];
    allocate([a, b]);
    assert.deepEqual(a.rate, ZERO);
    assert.deepEqual(b.rate, ratio(6n));
  });
});

/** `n` peers, 10 ms links, each cap applied; returns the sim. */
async function capped(
  ctx: Context,
  n: number,
  caps: [number, number | null, number | null][],
  link = fixed(10),
): Promise<Sim> {
  const sim = await start(ctx, n, { link });
  for (const [i, e, g] of caps) await sim.oracle.limitBandwidth(sim.pks[i]!, e, g);
  return sim;
}

describe('simulated bandwidth', () => {
  test('one message: transmission time at the cap, then the latency', async () => {
    const at = await twice(1, async (ctx) => {
      const sim = await capped(ctx, 2, [[0, 1_000, null]]);
      const t0 = ctx.clock.now();
      sim.channels[0]![0].send(Recipients.one(sim.pks[1]!), new Uint8Array(1_000), false);
      const [m] = await take(ctx, sim.channels[1]![1], 1);
      sim.handle.stop();
      return m!.at - t0;
    });
    assert.equal(at, 1_000 + 10);
  });

  test('one to many: the sender egress is shared equally', async () => {
    const times = await twice(2, async (ctx) => {
      const sim = await capped(ctx, 5, [[0, 4_000, null]]);
      const t0 = ctx.clock.now();
      sim.channels[0]![0].send(Recipients.all(), new Uint8Array(1_000), false);
      const out: number[] = [];
      for (let i = 1; i < 5; i++) out.push((await take(ctx, sim.channels[i]![1], 1))[0]!.at - t0);
      sim.handle.stop();
      return out;
    });
    // Four flows at 1,000 B/s each: all end at exactly 1 s.
    assert.deepEqual(times, [1_010, 1_010, 1_010, 1_010]);
  });

  test('many to one: the receiver ingress is shared equally', async () => {
    const times = await twice(3, async (ctx) => {
      const sim = await capped(ctx, 4, [[0, null, 3_000]]);
      const t0 = ctx.clock.now();
      for (let i = 1; i < 4; i++) {
        sim.channels[i]![0].send(Recipients.one(sim.pks[0]!), new Uint8Array(1_000), false);
      }
      const ms = await take(ctx, sim.channels[0]![1], 3);
      sim.handle.stop();
      return ms.map((m) => m.at - t0);
    });
    assert.deepEqual(times, [1_010, 1_010, 1_010]);
  });

  test('many slow senders to a fast receiver: each runs at its own egress', async () => {
    const times = await twice(4, async (ctx) => {
      const sim = await capped(ctx, 4, [
        [0, null, 100_000],
        [1, 1_000, null],
        [2, 2_000, null],
        [3, 4_000, null],
      ]);
      const t0 = ctx.clock.now();
      for (let i = 1; i < 4; i++) {
        sim.channels[i]![0].send(Recipients.one(sim.pks[0]!), new Uint8Array(1_000), false);
      }
      const ms = await take(ctx, sim.channels[0]![1], 3);
      sim.handle.stop();
      return ms.map((m) => m.at - t0).sort((a, b) => a - b);
    });
    assert.deepEqual(times, [260, 510, 1_010]);
  });

  test('contention: a freed share is taken by the flows still running', async () => {
    // Egress 3,000 B/s to three recipients with 1,000, 2,000 and 3,000 bytes: 1 kB/s each
    // until the first ends at 1 s, then 1.5 kB/s each: the second ends at 1 + 1/1.5 s, the third
    // at 1 + 2/3 + 1/3 = 2 s. Exact: no rounding at the boundaries.
    const times = await twice(5, async (ctx) => {
      const sim = await capped(ctx, 4, [[0, 3_000, null]]);
      const t0 = ctx.clock.now();
      const [sender] = sim.channels[0]!;
      for (let i = 1; i < 4; i++) {
        sender.send(Recipients.one(sim.pks[i]!), new Uint8Array(1_000 * i), false);
      }
      const out: number[] = [];
      for (let i = 1; i < 4; i++) out.push((await take(ctx, sim.channels[i]![1], 1))[0]!.at - t0);
      sim.handle.stop();
      return out;
    });
    assert.equal(times[0], 1_010);
    // The clock is a double of epoch ms: near 1.7e12 it resolves 2^-12 ms.
    assert.ok(Math.abs(times[1]! - (1_000 + 2_000 / 3 + 10)) < 1e-3, String(times[1]));
    assert.equal(times[2], 2_010);
  });

  test('zero ingress: nothing arrives until the cap is lifted', async () => {
    const got = await twice(6, async (ctx) => {
      const sim = await capped(ctx, 2, [[1, null, 0]]);
      const t0 = ctx.clock.now();
      sim.channels[0]![0].send(Recipients.one(sim.pks[1]!), new Uint8Array(100), false);
      await ctx.clock.sleep(10_000);
      const before = sim.channels[1]![1].size;
      await sim.oracle.limitBandwidth(sim.pks[1]!, null, null);
      const [m] = await take(ctx, sim.channels[1]![1], 1);
      sim.handle.stop();
      return [before, m!.at - t0];
    });
    assert.deepEqual(got, [0, 10_010]);
  });

  test('unlimited bandwidth: only the latency counts, whatever the size', async () => {
    const at = await twice(7, async (ctx) => {
      const sim = await capped(ctx, 2, [[0, null, null]]);
      const t0 = ctx.clock.now();
      sim.channels[0]![0].send(Recipients.one(sim.pks[1]!), new Uint8Array(1 << 20), false);
      const [m] = await take(ctx, sim.channels[1]![1], 1);
      sim.handle.stop();
      return m!.at - t0;
    });
    assert.equal(at, 10);
  });

  test('a lost message still uses the sender egress', async () => {
    const at = await twice(8, async (ctx) => {
      const sim = await capped(ctx, 3, [[0, 1_000, null]]);
      await sim.oracle.removeLink(sim.pks[0]!, sim.pks[1]!);
      await sim.oracle.addLink(sim.pks[0]!, sim.pks[1]!, {
        latency: 10,
        jitter: 0,
        successRate: 0,
      });
      const t0 = ctx.clock.now();
      const [sender] = sim.channels[0]!;
      sender.send(Recipients.one(sim.pks[1]!), new Uint8Array(1_000), false);
      sender.send(Recipients.one(sim.pks[2]!), new Uint8Array(1_000), false);
      const [m] = await take(ctx, sim.channels[2]![1], 1);
      sim.handle.stop();
      return m!.at - t0;
    });
    // Both transmit at 500 B/s: the delivered one ends at 2 s.
    assert.equal(at, 2_010);
  });

  test('a cap raised mid-transmission speeds up the rest of the message', async () => {
    const at = await twice(9, async (ctx) => {
      const sim = await capped(ctx, 2, [[0, 1_000, null]]);
      const t0 = ctx.clock.now();
      sim.channels[0]![0].send(Recipients.one(sim.pks[1]!), new Uint8Array(2_000), false);
      await ctx.clock.sleep(1_000);
      await sim.oracle.limitBandwidth(sim.pks[0]!, 4_000, null);
      const [m] = await take(ctx, sim.channels[1]![1], 1);
      sim.handle.stop();
      return m!.at - t0;
    });
    // 1,000 bytes in the first second, the other 1,000 at 4 kB/s: 250 ms.
    assert.equal(at, 1_250 + 10);
  });

  test('messages on one pair transmit one after another', async () => {
    const times = await twice(10, async (ctx) => {
      const sim = await capped(ctx, 2, [[0, 1_000, null]]);
      const t0 = ctx.clock.now();
      for (let k = 0; k < 3; k++) {
        sim.channels[0]![0].send(Recipients.one(sim.pks[1]!), new Uint8Array(500), false);
      }
      const ms = await take(ctx, sim.channels[1]![1], 3);
      sim.handle.stop();
      return ms.map((m) => m.at - t0);
    });
    assert.deepEqual(times, [510, 1_010, 1_510]);
  });
});

describe('max-min allocation, property', () => {
  test('every allocation is feasible and every flow has a bottleneck (the max-min fair one)', () => {
    const arb = fc.integer({ min: 1, max: 6 }).chain((nr) =>
      fc.record({
        capacities: fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: nr, maxLength: nr }),
        flows: fc.array(
          fc.uniqueArray(fc.integer({ min: 0, max: nr - 1 }), { minLength: 1, maxLength: 2 }),
          { minLength: 1, maxLength: 20 },
        ),
      }),
    );
    fc.assert(
      fc.property(arb, ({ capacities, flows: spec }) => {
        const resources = capacities.map((c) => res(BigInt(c), 7n));
        const flows = spec.map((rs) => flow(...rs.map((r) => resources[r]!)));
        allocate(flows);
        const through = (r: Resource) => flows.filter((f) => f.resources.includes(r));
        const used = (r: Resource) => through(r).reduce((t, f) => add(t, f.rate), ZERO);
        for (const r of resources) assert.ok(cmp(used(r), r.capacity) <= 0, 'feasible');
        for (const f of flows) {
          const bottleneck = f.resources.some(
            (r) =>
              cmp(used(r), r.capacity) === 0 && through(r).every((g) => cmp(f.rate, g.rate) >= 0),
          );
          assert.ok(bottleneck, 'each flow is limited by a full resource where it is largest');
        }
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
