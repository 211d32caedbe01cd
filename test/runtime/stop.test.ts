import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scope } from '../../src/runtime/core.js';
import { deterministicRuntime, nodeRuntime } from '../../src/runtime/index.js';
import { isStopped, offStop, onStop, timerAt } from '../../src/runtime/stop.js';
import { sharedTurnClock } from '../../src/runtime/turn.js';

test('onAbort callbacks run once, after the signal listeners and before the subtree aborts; none is created', () => {
  const parent = new Scope();
  const child = new Scope(parent);
  const order: string[] = [];
  parent.signal.addEventListener('abort', () => order.push('signal'));
  const removed = (): void => {
    order.push('removed');
  };
  parent.onAbort(() => order.push(`parent sees child aborted: ${child.aborted}`));
  parent.onAbort(removed);
  parent.offAbort(removed);
  child.onAbort(() => order.push('child'));
  parent.abort('r');
  parent.abort('again');
  assert.deepEqual(order, ['signal', 'parent sees child aborted: false', 'child']);
  // Registering on an aborted scope never calls back.
  child.onAbort(() => order.push('late'));
  assert.equal(order.length, 3);
});

test('onStop hears a task stop without creating its signal; offStop unregisters; isStopped reads the scope', async () => {
  await deterministicRuntime({ seed: 1 }).run(async (ctx) => {
    const heard: string[] = [];
    let release: () => void = () => {};
    const h = ctx.spawn('t', async (c) => {
      onStop(c, () => heard.push('a'));
      const b = (): void => {
        heard.push('b');
      };
      onStop(c, b);
      offStop(c, b);
      assert.equal(isStopped(c), false);
      await new Promise<void>((r) => {
        release = r;
      });
      assert.equal(isStopped(c), true);
      // The scope's AbortController was never made (reading the signal now makes it aborted).
      assert.equal((c as unknown as { scope: Scope }).scope.reason, 'stop');
      return 'done';
    });
    await ctx.clock.sleep(1);
    h.stop('stop');
    assert.deepEqual(heard, ['a']);
    release();
    assert.equal(await h.done, 'done');
  });
});

test('timerAt fires at its virtual time in order with sleeps, and a cancelled one never fires', async () => {
  const { result } = await deterministicRuntime({ seed: 2, startTime: 0 }).run(async (ctx) => {
    const fired: string[] = [];
    timerAt(ctx.clock, 20, () => fired.push(`t20@${ctx.clock.now()}`));
    const cancelled = timerAt(ctx.clock, 10, () => fired.push('never'));
    timerAt(ctx.clock, -5, () => fired.push(`past@${ctx.clock.now()}`));
    cancelled.cancel();
    cancelled.cancel();
    await ctx.clock.sleepUntil(15);
    fired.push('sleep15');
    await ctx.clock.sleepUntil(30);
    return fired;
  });
  assert.deepEqual(result, ['past@0', 'sleep15', 't20@20']);
});

test('timerAt on the Node clock fires once and can be cancelled; other clocks get a sleep', async () => {
  const rt = nodeRuntime();
  await rt.run(async (ctx) => {
    const fired: string[] = [];
    const t0 = ctx.clock.now();
    const a = timerAt(ctx.clock, t0 + 5, () => fired.push('a'));
    const b = timerAt(ctx.clock, t0 + 5, () => fired.push('b'));
    b.cancel();
    // A clock without `timer`: the fallback sleeps with its own AbortController.
    const plain = {
      now: () => Date.now(),
      sleep: ctx.clock.sleep,
      sleepUntil: ctx.clock.sleepUntil,
    };
    const c = timerAt(plain, t0 + 5, () => fired.push('c'));
    const d = timerAt(plain, t0 + 5, () => fired.push('d'));
    d.cancel();
    // A later timer: by the time it fires, every earlier one that was not cancelled has.
    await new Promise<void>((resolve) => timerAt(ctx.clock, t0 + 15, resolve));
    assert.deepEqual(fired.sort(), ['a', 'c']);
    a.cancel();
    c.cancel();
  });
});

test('sharedTurnClock is one clock per runtime, holding its reading for the turn', async () => {
  await deterministicRuntime({ seed: 3 }).run(async (ctx) => {
    const child = ctx.child('x');
    const a = sharedTurnClock(ctx);
    assert.equal(sharedTurnClock(child), a);
    const t = a.now();
    await ctx.clock.sleep(10);
    assert.equal(a.now(), t + 10);
  });
});
