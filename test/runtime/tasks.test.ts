import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  type Context,
  deterministicRuntime,
  nodeRuntime,
  RuntimeError,
  runningTasks,
} from '../../src/runtime/index.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
process.on('unhandledRejection', onUnhandled);
after(() => {
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, [], 'no unhandled rejection');
});

function forever(ctx: Context): Promise<never> {
  return new Promise((_, reject) => {
    if (ctx.signal.aborted) reject(ctx.signal.reason);
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });
}

const runtimes: [string, <T>(fn: (ctx: Context) => Promise<T>) => Promise<T>][] = [
  ['deterministic', async (fn) => (await deterministicRuntime({ seed: 2 }).run(fn)).result],
  ['node', (fn) => nodeRuntime().run(fn)],
];

for (const [name, run] of runtimes) {
  test(`${name}: stopping a parent stops its children and grandchildren`, () =>
    run(async (ctx) => {
      const stopped: string[] = [];
      let grandchild: Promise<unknown> | undefined;
      const parent = ctx.spawn('parent', async (p) => {
        const child = p.spawn('child', async (c) => {
          assert.equal(c.label, 'parent_child');
          grandchild = c.spawn('grandchild', async (g) => {
            try {
              await g.clock.sleep(1e9, g.signal);
            } finally {
              stopped.push(g.label);
            }
          }).done;
          await forever(c).finally(() => stopped.push(c.label));
        });
        await child.done;
        return 'parent returned';
      });
      await ctx.clock.sleep(1);
      assert.deepEqual(runningTasks(ctx).sort(), [
        '',
        'parent',
        'parent_child',
        'parent_child_grandchild',
      ]);
      const reason = new Error('stop');
      parent.stop(reason);
      parent.stop();
      assert.equal(await parent.done, 'parent returned');
      assert.equal(await grandchild, undefined);
      assert.deepEqual(stopped.sort(), ['parent_child', 'parent_child_grandchild']);
      assert.deepEqual(runningTasks(ctx), ['']);
    }));

  test(`${name}: done resolves with the value, undefined when stopped, rejects on error`, () =>
    run(async (ctx) => {
      assert.equal(await ctx.spawn('value', async () => 7).done, 7);
      const stopped = ctx.spawn('stopped', (c) => forever(c));
      stopped.stop();
      assert.equal(await stopped.done, undefined);
      // A failure after stop is shutdown noise: done rejects, the runtime carries on.
      const noisy = ctx.spawn('noisy', async (c) => {
        await forever(c).catch(() => undefined);
        throw new Error('socket closed');
      });
      noisy.stop();
      await assert.rejects(noisy.done, /socket closed/);
      // A task spawned under a stopped parent starts with its signal aborted.
      const late = ctx.spawn('late', async (c) => {
        await c.clock.sleep(1);
        return c.spawn('inner', async (i) => i.signal.aborted).done;
      });
      late.stop();
      assert.equal(await late.done, true);
    }));

  test(`${name}: run stops the tasks left running when the root returns`, async () => {
    let cleaned = false;
    const out = await run(async (ctx) => {
      ctx.spawn('background', async (c) => {
        try {
          await forever(c);
        } finally {
          cleaned = true;
        }
      });
      return 'root';
    });
    assert.equal(out, 'root');
    assert.equal(cleaned, true);
  });

  test(`${name}: run rejects with the root function's error`, async () => {
    await assert.rejects(
      run(async () => {
        throw new Error('root failed');
      }),
      /root failed/,
    );
  });

  test(`${name}: a task failing unexpectedly fails the run after stopping everything`, async () => {
    let otherStopped = false;
    await assert.rejects(
      run(async (ctx) => {
        ctx.spawn('other', (c) => forever(c).finally(() => (otherStopped = true)));
        ctx.spawn('bad', async (c) => {
          await c.clock.sleep(5);
          throw new Error('boom');
        });
        await forever(ctx);
      }),
      (e) =>
        e instanceof RuntimeError &&
        e.code === 'TaskFailed' &&
        e.message.includes('bad') &&
        (e.cause as Error).message === 'boom',
    );
    assert.equal(otherStopped, true);
  });

  test(`${name}: labels are validated and child contexts share the parent's signal`, () =>
    run(async (ctx) => {
      assert.throws(() => ctx.child('bad-label'), TypeError);
      assert.throws(() => ctx.spawn('', async () => 0), TypeError);
      const child = ctx.child('peer1').child('tracker');
      assert.equal(child.label, 'peer1_tracker');
      assert.equal(child.signal, ctx.signal);
    }));
}

test('node: onTaskError receives failures and the run continues', async () => {
  const seen: string[] = [];
  const out = await nodeRuntime({
    onTaskError: (error, task) => seen.push(`${task.label}:${(error as Error).message}`),
  }).run(async (ctx) => {
    await assert.rejects(
      ctx.spawn('bad', async () => {
        throw new Error('boom');
      }).done,
      /boom/,
    );
    return 'still running';
  });
  assert.equal(out, 'still running');
  assert.deepEqual(seen, ['bad:boom']);
});
