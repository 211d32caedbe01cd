import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { nodeClock, pendingNodeTimers } from '../../src/runtime/node/clock.js';

// The Node clock's callback timers share one heap and one Timeout. Node's mock timers drive
// setTimeout and Date here: virtual time, nothing waits on the wall clock.

const T0 = 1_000_000;

/** Advances mocked time 1 ms at a time (a callback then sees the time it fired at). */
function advance(ms: number): void {
  for (let i = 0; i < ms; i++) mock.timers.tick(1);
}

describe('node callback timers (one shared Timeout, mocked time)', () => {
  let made = 0;
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
    made = 0;
    const mocked = globalThis.setTimeout;
    mock.method(globalThis, 'setTimeout', (...args: Parameters<typeof setTimeout>) => {
      made++;
      return mocked(...args);
    });
  });
  afterEach(() => {
    const pending = pendingNodeTimers();
    mock.restoreAll();
    mock.timers.reset();
    assert.equal(pending, 0, 'every timer fired or was cancelled');
  });

  test('fire at their deadline (never early), in deadline order, ties in arming order', () => {
    const fired: string[] = [];
    const at = (name: string, ms: number) =>
      nodeClock.timer(T0 + ms, () => fired.push(`${name}@${Date.now() - T0}`));
    at('c', 30);
    at('a', 10);
    at('b', 10);
    at('z', 0);
    at('d', 20);
    // A deadline already reached fires on the next run (setTimeout's 1 ms).
    advance(1);
    assert.deepEqual(fired, ['z@1']);
    advance(8);
    assert.deepEqual(fired, ['z@1']);
    advance(1);
    assert.deepEqual(fired, ['z@1', 'a@10', 'b@10']);
    advance(20);
    assert.deepEqual(fired, ['z@1', 'a@10', 'b@10', 'd@20', 'c@30']);
  });

  test('cancel and reset: a cancelled timer never fires, a reset one fires once at its new time', () => {
    const fired: string[] = [];
    const a = nodeClock.timer(T0 + 10, () => fired.push(`a@${Date.now() - T0}`));
    const b = nodeClock.timer(T0 + 20, () => fired.push(`b@${Date.now() - T0}`));
    const c = nodeClock.timer(T0 + 30, () => fired.push(`c@${Date.now() - T0}`));
    b.cancel();
    b.cancel();
    c.reset(T0 + 5); // earlier than the earliest
    a.reset(T0 + 40); // later
    assert.equal(pendingNodeTimers(), 2);
    advance(50);
    assert.deepEqual(fired, ['c@5', 'a@40']);
    // Reset after firing and after cancelling: it fires again, once.
    a.reset(T0 + 60);
    b.reset(T0 + 55);
    advance(20);
    assert.deepEqual(fired, ['c@5', 'a@40', 'b@55', 'a@60']);
    // Cancelling the last pending timer clears the shared Timeout (the process may exit).
    a.reset(T0 + 1_000);
    a.cancel();
    assert.equal(pendingNodeTimers(), 0);
  });

  test('a thousand timers fire in order under one Timeout at a time, reset while pending', () => {
    const fired: number[] = [];
    const timers = Array.from({ length: 1000 }, (_, i) =>
      nodeClock.timer(T0 + ((i * 7919) % 1000) + 1, () => fired.push(i)),
    );
    // Every other one moves 1 s later.
    for (let i = 0; i < 1000; i += 2) timers[i]!.reset(T0 + 1_000 + ((i * 7919) % 1000) + 1);
    assert.equal(pendingNodeTimers(), 1000);
    const setBefore = made;
    mock.timers.tick(2_001);
    assert.equal(fired.length, 1000);
    const deadline = (i: number) => (i % 2 === 0 ? 1_000 : 0) + ((i * 7919) % 1000);
    for (let k = 1; k < fired.length; k++) {
      assert.ok(deadline(fired[k - 1]!) <= deadline(fired[k]!), `order at ${k}`);
    }
    // One Timeout per distinct wake (at most one per deadline), not one per timer and arming.
    assert.ok(made - setBefore <= 1000, `${made - setBefore} Timeouts`);
  });

  test('a callback that re-arms itself into the past fires again on a later run, not in a loop', () => {
    let n = 0;
    const runs: number[] = [];
    const t = nodeClock.timer(T0 + 10, () => {
      n++;
      runs.push(made);
      if (n < 3) t.reset(Date.now() - 5);
    });
    mock.timers.tick(100);
    assert.equal(n, 3);
    // Each firing came from its own run of the shared Timeout (a new one armed in between).
    assert.ok(runs[0]! < runs[1]! && runs[1]! < runs[2]!, `Timeouts made: ${runs.join(', ')}`);
  });

  test("a timer's callback may be an object: its wake() is called", () => {
    const seen: number[] = [];
    nodeClock.timer(T0 + 3, { wake: () => seen.push(Date.now() - T0) });
    advance(3);
    assert.deepEqual(seen, [3]);
  });

  test('a deadline beyond the longest setTimeout delay fires then, not at once', () => {
    const MAX = 2 ** 31 - 1;
    let firedAt: number | undefined;
    nodeClock.timer(T0 + MAX + 500, () => {
      firedAt = Date.now() - T0;
    });
    mock.timers.tick(MAX);
    assert.equal(firedAt, undefined);
    mock.timers.tick(500);
    assert.equal(firedAt, MAX + 500);
  });

  test('a throwing callback does not lose the others: they fire on the next run', () => {
    const fired: string[] = [];
    nodeClock.timer(T0 + 10, () => {
      fired.push('thrower');
      throw new Error('boom');
    });
    nodeClock.timer(T0 + 10, () => fired.push('next'));
    assert.throws(() => mock.timers.tick(10), /boom/);
    assert.deepEqual(fired, ['thrower']);
    mock.timers.tick(1);
    assert.deepEqual(fired, ['thrower', 'next']);
  });
});
