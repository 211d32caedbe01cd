/**
 * `Context.endOfTurn` in both runtimes: after the turn's promise continuations, before the next
 * timer or delivery, in registration order, the same on every run.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context } from '../../src/runtime/context.js';
import { deterministicRuntime, nodeRuntime } from '../../src/runtime/index.js';
import { AT_END_OF_TURN, deferCall, TurnQueue, turnsOf } from '../../src/runtime/turn.js';

/** What one program observes about the order of end-of-turn callbacks. */
async function program(ctx: Context): Promise<string[]> {
  const seen: string[] = [];
  ctx.endOfTurn(() => seen.push('end 1'));
  ctx.endOfTurn(() => {
    seen.push('end 2');
    // Registered while the queue runs: the next round, after the continuations it started.
    ctx.endOfTurn(() => seen.push('end 3'));
    void Promise.resolve().then(() => seen.push('micro from end 2'));
  });
  // Continuations of this turn, however long the chain, run first.
  void Promise.resolve()
    .then(() => seen.push('micro 1'))
    .then(() => seen.push('micro 2'))
    .then(() => seen.push('micro 3'));
  const timer = ctx.clock.sleep(0).then(() => seen.push('timer'));
  await timer;
  return seen;
}

const EXPECTED = [
  'micro 1',
  'micro 2',
  'micro 3',
  'end 1',
  'end 2',
  'micro from end 2',
  'end 3',
  'timer',
];

describe('Context.endOfTurn', () => {
  it('runs after the promise continuations of the turn, before a timer (deterministic)', async () => {
    const { result } = await deterministicRuntime({ seed: 3 }).run(program);
    assert.deepEqual(result, EXPECTED);
  });

  it('runs after the promise continuations of the turn, before a timer (node)', async () => {
    assert.deepEqual(await nodeRuntime().run(program), EXPECTED);
  });

  it('is part of the deterministic digest, and the same on every run', async () => {
    const run = (calls: number) =>
      deterministicRuntime({ seed: 9 }).run(async (ctx) => {
        for (let i = 0; i < calls; i++) ctx.endOfTurn(() => {});
        await ctx.clock.sleep(1);
      });
    const a = await run(2);
    const b = await run(2);
    const c = await run(0);
    assert.equal(a.digest, b.digest);
    assert.notEqual(a.digest, c.digest);
  });

  it('a throwing callback fails a deterministic run; the other callbacks still run', async () => {
    let ran = false;
    await assert.rejects(
      deterministicRuntime({ seed: 1 }).run(async (ctx) => {
        ctx.endOfTurn(() => {
          throw new Error('boom');
        });
        ctx.endOfTurn(() => {
          ran = true;
        });
        await ctx.clock.sleep(10);
      }),
      { code: 'TaskFailed' },
    );
    assert.ok(ran);
  });

  it('TurnQueue: one scheduled drain per round, empty when idle', async () => {
    const drains: (() => void)[] = [];
    const errors: unknown[] = [];
    const counts: number[] = [];
    const q = new TurnQueue(
      (d) => drains.push(d),
      (e) => errors.push(e),
      (n) => counts.push(n),
    );
    const seen: number[] = [];
    q.defer(() => seen.push(1));
    q.defer(() => {
      throw new Error('x');
    });
    q.defer(() => q.defer(() => seen.push(3)));
    assert.equal(drains.length, 1);
    assert.equal(q.size, 3);
    drains.shift()!();
    assert.deepEqual(seen, [1]);
    assert.equal(errors.length, 1);
    // The callback registered during the drain schedules the next round from a microtask.
    assert.equal(drains.length, 0);
    await Promise.resolve();
    assert.equal(drains.length, 1);
    drains.shift()!();
    assert.deepEqual(seen, [1, 3]);
    assert.deepEqual(counts, [3, 1]);
    assert.equal(q.size, 0);
    assert.equal(drains.length, 0);
  });
});

describe('turnsOf', () => {
  it("hands out the runtime's queue, not the (short-lived) context, and falls back to the context", async () => {
    await deterministicRuntime({ seed: 5 }).run(async (ctx) => {
      const handshake = ctx.child('handshake');
      const turns = turnsOf(handshake);
      assert.notEqual(
        turns,
        handshake,
        'a connection keeping this must not keep the handshake context',
      );
      assert.equal(turns, turnsOf(ctx.child('other')), 'one queue per runtime');
      const order: string[] = [];
      turns.endOfTurn(() => order.push('end'));
      await Promise.resolve();
      order.push('continuation');
      await ctx.clock.sleep(1);
      assert.deepEqual(order, ['continuation', 'end']);
    });
    const plain = { endOfTurn: (_fn: () => void) => {} };
    assert.equal(turnsOf(plain), plain);
  });
});

describe('deferCall', () => {
  it('calls an object at the end of the turn, in registration order with functions (both queues)', async () => {
    for (const run of [
      async (f: (ctx: Context) => Promise<string[]>) =>
        (await deterministicRuntime({ seed: 4 }).run(f)).result,
      (f: (ctx: Context) => Promise<string[]>) => nodeRuntime().run(f),
    ]) {
      const seen = await run(async (ctx) => {
        const out: string[] = [];
        const target = (name: string) => ({ [AT_END_OF_TURN]: () => out.push(name) });
        const turns = turnsOf(ctx as Context & { turns?: TurnQueue });
        assert.ok(turns instanceof TurnQueue);
        ctx.endOfTurn(() => out.push('fn 1'));
        deferCall(turns, target('object'));
        ctx.endOfTurn(() => out.push('fn 2'));
        // Any other `Turns` (a plain endOfTurn) gets a closure, same order.
        deferCall({ endOfTurn: (fn) => ctx.endOfTurn(fn) }, target('via closure'));
        void Promise.resolve().then(() => out.push('micro'));
        await ctx.clock.sleep(0);
        return out;
      });
      assert.deepEqual(seen, ['micro', 'fn 1', 'object', 'fn 2', 'via closure']);
    }
  });
});
