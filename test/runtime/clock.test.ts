import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deterministicRuntime, RuntimeError, withTimeout } from '../../src/runtime/index.js';

const HOUR = 60 * 60 * 1000;

test('sleeping an hour of virtual time completes at once and advances now exactly', async () => {
  const wall = performance.now();
  const { result } = await deterministicRuntime({ seed: 1, startTime: 1_000 }).run(async (ctx) => {
    const before = ctx.clock.now();
    await ctx.clock.sleep(HOUR);
    const mid = ctx.clock.now();
    await ctx.clock.sleepUntil(mid + 5);
    await ctx.clock.sleepUntil(mid - 100);
    return [before, mid, ctx.clock.now()];
  });
  assert.deepEqual(result, [1_000, 1_000 + HOUR, 1_000 + HOUR + 5]);
  assert.ok(performance.now() - wall < 1_000, 'virtual time took real time');
});

test('the default start time is fixed', async () => {
  const { result } = await deterministicRuntime({ seed: 1 }).run(async (ctx) => ctx.clock.now());
  assert.equal(result, 1_700_000_000_000);
});

test('timers fire in deadline order, ties in the order they were set', async () => {
  const { result } = await deterministicRuntime({ seed: 1 }).run(async (ctx) => {
    const order: string[] = [];
    const at = (name: string, ms: number) =>
      ctx.clock.sleep(ms).then(() => order.push(`${name}@${ctx.clock.now() - 1_700_000_000_000}`));
    await Promise.all([at('c', 30), at('a', 10), at('b', 10), at('z', 0), at('d', 20)]);
    return order;
  });
  assert.deepEqual(result, ['z@0', 'a@10', 'b@10', 'd@20', 'c@30']);
});

test('an aborted sleep rejects with the reason and its timer never fires', async () => {
  const { result } = await deterministicRuntime({ seed: 1 }).run(async (ctx) => {
    const ac = new AbortController();
    const long = ctx.clock.sleep(HOUR, ac.signal);
    await ctx.clock.sleep(10);
    ac.abort(new Error('enough'));
    await assert.rejects(long, /enough/);
    await assert.rejects(ctx.clock.sleep(1, ac.signal), /enough/);
    // Time moves on to the next real timer, not to the cancelled hour.
    await ctx.clock.sleep(5);
    return ctx.clock.now() - 1_700_000_000_000;
  });
  assert.equal(result, 15);
});

test('withTimeout rejects on the clock and clears its timer when the promise wins', async () => {
  const { result } = await deterministicRuntime({ seed: 1 }).run(async (ctx) => {
    const fast = await withTimeout(
      ctx.clock.sleep(10).then(() => 'fast'),
      100,
      ctx.clock,
    );
    await assert.rejects(
      withTimeout(new Promise<never>(() => {}), 50, ctx.clock),
      (e) => e instanceof RuntimeError && e.code === 'Timeout',
    );
    await assert.rejects(
      withTimeout(ctx.clock.sleep(100), 50, ctx.clock, () => new Error('custom')),
      /custom/,
    );
    return [fast, ctx.clock.now() - 1_700_000_000_000];
  });
  // 10 for the fast one, then 50 for each timeout; the cleared 100 ms timer never fired.
  assert.deepEqual(result, ['fast', 110]);
});

test('one million timer events run quickly and in exact virtual time', async (t) => {
  const TASKS = 1000;
  const SLEEPS = 1000;
  const wall = performance.now();
  const { result } = await deterministicRuntime({ seed: 11 }).run(async (ctx) => {
    const start = ctx.clock.now();
    const handles = [];
    for (let i = 0; i < TASKS; i++) {
      handles.push(
        ctx.spawn('sleeper', async (c) => {
          let total = 0;
          for (let j = 0; j < SLEEPS; j++) {
            const ms = c.rng.int(1, 1000);
            total += ms;
            await c.clock.sleep(ms);
          }
          assert.equal(c.clock.now() - start, total);
          return total;
        }),
      );
    }
    const totals = await Promise.all(handles.map((h) => h.done));
    return {
      count: totals.length,
      end: ctx.clock.now() - start,
      max: Math.max(...(totals as number[])),
    };
  });
  const seconds = (performance.now() - wall) / 1000;
  assert.equal(result.count, TASKS);
  assert.equal(result.end, result.max);
  const rate = Math.round((TASKS * SLEEPS) / seconds);
  t.diagnostic(`1e6 timer events in ${seconds.toFixed(2)} s: ${rate} events/s`);
});
