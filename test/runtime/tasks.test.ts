import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  type Context,
  deterministicRuntime,
  nodeRuntime,
  RuntimeError,
  runningTasks,
} from '../../src/runtime/index.js';
import { onStop, spawnCallback, type TaskEnd } from '../../src/runtime/stop.js';

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

  test(`${name}: a callback task ends when it says so, like an async task`, () =>
    run(async (ctx) => {
      let end: TaskEnd<number> | undefined;
      let started: Context | undefined;
      const h = spawnCallback<number>(ctx, 'cb', (c, e) => {
        started = c;
        end = e;
      });
      // It starts on a microtask, under its own label, and runs until it ends.
      assert.equal(started, undefined);
      await ctx.clock.sleep(1);
      assert.equal((started as Context | undefined)?.label, 'cb');
      assert.deepEqual(runningTasks(ctx).sort(), ['', 'cb']);
      end!.returned(5);
      end!.threw(new Error('ignored: the first end counts'));
      assert.equal(await h.done, 5);
      assert.deepEqual(runningTasks(ctx), ['']);
      // Stopped: it ends with its scope's reason, and counts as stopped (done is undefined).
      const stopped = spawnCallback<number>(ctx, 'stopped', (c, e) => {
        onStop(c, () => e.threw(c.signal.reason));
      });
      await ctx.clock.sleep(1);
      stopped.stop();
      assert.equal(await stopped.done, undefined);
      // A failure after stop is shutdown noise; a throwing start is a failure like any other.
      const thrower = spawnCallback(ctx, 'thrower', () => {
        throw new Error('start threw');
      });
      thrower.stop();
      await assert.rejects(thrower.done, /start threw/);
      assert.deepEqual(runningTasks(ctx), ['']);
    }));

  test(`${name}: a callback task failing unexpectedly fails the run`, async () => {
    await assert.rejects(
      run(async (ctx) => {
        spawnCallback(ctx, 'bad', (c, e) => {
          void c.clock.sleep(5).then(() => e.threw(new Error('cb boom')));
        });
        await forever(ctx);
      }),
      (e) =>
        e instanceof RuntimeError &&
        e.code === 'TaskFailed' &&
        (e.cause as Error).message === 'cb boom',
    );
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

test('a callback task on a context of another kind runs as a spawn its end settles', async () => {
  const failed: string[] = [];
  await nodeRuntime({ onTaskError: (e) => failed.push((e as Error).message) }).run(async (ctx) => {
    // A context that is not the runtime's own (a wrapper forwarding to it).
    const wrapper = { spawn: ctx.spawn.bind(ctx) } as unknown as Context;
    assert.equal(
      await spawnCallback<string>(wrapper, 'wrapped', (_c, e) => e.returned('ok')).done,
      'ok',
    );
    await assert.rejects(
      spawnCallback(wrapper, 'wrapped', (_c, e) => e.threw(new Error('no'))).done,
      /no/,
    );
  });
  assert.deepEqual(failed, ['no']);
});
