import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { deterministicRuntime, RuntimeError } from '../../src/runtime/index.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
process.on('unhandledRejection', onUnhandled);
after(() => {
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, [], 'no unhandled rejection');
});

test('a deadlock fails the run naming the waiting tasks', async () => {
  const wall = performance.now();
  await assert.rejects(
    deterministicRuntime({ seed: 1 }).run(async (ctx) => {
      const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
      const a = ctx.spawn('waiting_for_accept', (c) => listener.accept(c.signal));
      const b = ctx.child('peer').spawn('waiting_forever', () => new Promise<void>(() => {}));
      const c = ctx.spawn('finishes', (c) => c.clock.sleep(100));
      await Promise.all([a.done, b.done, c.done]);
    }),
    (e) => {
      assert.ok(e instanceof RuntimeError);
      assert.equal(e.code, 'Stalled');
      assert.match(e.message, /waiting tasks: <root>, waiting_for_accept, peer_waiting_forever$/);
      assert.match(e.message, /virtual time 1700000000100/);
      return true;
    },
  );
  assert.ok(performance.now() - wall < 2_000);
});

test('tasks that ignore the shutdown are reported rather than waited for', async () => {
  await assert.rejects(
    deterministicRuntime({ seed: 1 }).run(async (ctx) => {
      ctx.spawn('stubborn', () => new Promise<void>(() => {}));
      return 1;
    }),
    (e) =>
      e instanceof RuntimeError && e.code === 'Stalled' && /did not stop.*stubborn/.test(e.message),
  );
});

test('a virtual time limit stops a program that never ends', async () => {
  await assert.rejects(
    deterministicRuntime({ seed: 1, timeLimitMs: 10_000 }).run(async (ctx) => {
      for (;;) await ctx.clock.sleep(1_000);
    }),
    (e) => e instanceof RuntimeError && e.code === 'Timeout',
  );
});
