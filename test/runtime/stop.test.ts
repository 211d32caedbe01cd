import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Context } from '../../src/runtime/context.js';
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
    // Resolves once both live timers have fired (the test runner's timeout is the deadline):
    // two real timers are not ordered against a third under load, so none is used as a fence.
    let bothFired!: () => void;
    const both = new Promise<void>((resolve) => {
      bothFired = resolve;
    });
    const fire = (name: string) => () => {
      fired.push(name);
      if (fired.includes('a') && fired.includes('c')) bothFired();
    };
    const t0 = ctx.clock.now();
    const a = timerAt(ctx.clock, t0 + 5, fire('a'));
    const b = timerAt(ctx.clock, t0 + 5, fire('b'));
    b.cancel();
    // A clock without `timer`: the fallback sleeps with its own AbortController.
    const plain = {
      now: () => Date.now(),
      sleep: ctx.clock.sleep,
      sleepUntil: ctx.clock.sleepUntil,
    };
    const c = timerAt(plain, t0 + 5, fire('c'));
    const d = timerAt(plain, t0 + 5, fire('d'));
    d.cancel();
    await both;
    assert.ok(ctx.clock.now() >= t0 + 5, 'never early');
    // The cancelled ones had their deadline too, and one more timer of each kind after it.
    const later = ctx.clock.now() + 10;
    await new Promise<void>((resolve) => timerAt(ctx.clock, later, resolve));
    await new Promise<void>((resolve) => timerAt(plain, later, resolve));
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

test('a reset timer fires once more, where a new timer made at that moment would (virtual clock)', async () => {
  const { result } = await deterministicRuntime({ seed: 4, startTime: 0 }).run(async (ctx) => {
    const fired: string[] = [];
    const periodic = timerAt(ctx.clock, 10, () => {
      fired.push(`p@${ctx.clock.now()}`);
      // Re-armed from its own callback, as a keep-alive is: once per period.
      if (ctx.clock.now() < 30) periodic.reset(ctx.clock.now() + 10);
    });
    // Made before the reset below: it fires first at their common time.
    timerAt(ctx.clock, 25, () => fired.push(`new@${ctx.clock.now()}`));
    const moved = timerAt(ctx.clock, 5, () => fired.push(`moved@${ctx.clock.now()}`));
    moved.reset(25);
    const revived = timerAt(ctx.clock, 1, () => fired.push(`revived@${ctx.clock.now()}`));
    revived.cancel();
    revived.reset(12);
    await ctx.clock.sleepUntil(50);
    return fired;
  });
  assert.deepEqual(result, ['p@10', 'revived@12', 'p@20', 'new@25', 'moved@25', 'p@30']);
});

test('Node timers share one Timeout (fifty periodic timers make a few); a fallback timer re-arms a sleep', async () => {
  await nodeRuntime().run(async (ctx) => {
    const made: number[] = [];
    const original = globalThis.setTimeout;
    // Counts the Timeouts the Node clock makes (it calls the global setTimeout).
    globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms: number, ...args: unknown[]) => {
      made.push(ms);
      return original(fn, ms, ...(args as []));
    }) as typeof setTimeout;
    const TIMERS = 50;
    let ticks = 0;
    try {
      await new Promise<void>((resolve) => {
        const start = ctx.clock.now() + 2;
        for (let i = 0; i < TIMERS; i++) {
          let own = 0;
          const t = timerAt(ctx.clock, start, () => {
            own++;
            ticks++;
            if (own < 4) t.reset(ctx.clock.now() + 2);
            else if (ticks === 4 * TIMERS) resolve();
          });
        }
      });
    } finally {
      globalThis.setTimeout = original;
    }
    assert.equal(ticks, 4 * TIMERS);
    // One shared Timeout per wake, not one per timer (a Timeout each would be 50 at least).
    assert.ok(made.length >= 1 && made.length < TIMERS, `Timeouts made: ${made.join(', ')}`);

    // Moved while pending, and revived after a cancel: each fires once, at its new time.
    const fired: string[] = [];
    const t0 = ctx.clock.now();
    const moved = timerAt(ctx.clock, t0 + 1, () => fired.push('moved'));
    moved.reset(t0 + 5);
    const revived = timerAt(ctx.clock, t0 + 1, () => fired.push('revived'));
    revived.cancel();
    revived.reset(t0 + 3);
    const plain = {
      now: () => Date.now(),
      sleep: ctx.clock.sleep,
      sleepUntil: ctx.clock.sleepUntil,
    };
    const fallback = timerAt(plain, t0 + 1, () => fired.push('fallback'));
    fallback.reset(t0 + 4);
    const dropped = timerAt(plain, t0 + 1, () => fired.push('never'));
    dropped.reset(t0 + 2);
    dropped.cancel();
    await new Promise<void>((resolve) => timerAt(ctx.clock, t0 + 20, resolve));
    assert.deepEqual(fired.sort(), ['fallback', 'moved', 'revived']);
    assert.ok(ctx.clock.now() >= t0 + 5);
  });
});

test('onStop takes an object too (its wake() is called), on a runtime context and on any other', async () => {
  await nodeRuntime().run(async (ctx) => {
    const seen: string[] = [];
    const own = ctx.spawn('own', (c) => {
      onStop(c, { wake: () => seen.push('own') });
      return new Promise<void>((resolve) => onStop(c, resolve));
    });
    // A context of another kind: the object gets a listener of its own, which offStop removes.
    const ac = new AbortController();
    const other = { signal: ac.signal } as unknown as Context;
    const kept = { wake: () => seen.push('kept') };
    const dropped = { wake: () => seen.push('dropped') };
    onStop(other, kept);
    onStop(other, dropped);
    offStop(other, dropped);
    await ctx.clock.sleep(1);
    own.stop();
    await own.done;
    ac.abort();
    assert.deepEqual(seen, ['own', 'kept']);
  });
});
