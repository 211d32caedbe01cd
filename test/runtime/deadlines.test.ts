import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { Deadline, DeadlineList } from '../../src/runtime/node/deadlines.js';

// The Node network's read deadlines: a FIFO list under one Timeout. Node's mock timers drive
// setTimeout and Date (the list's clock here): virtual time, nothing waits on the wall clock.

class Entry extends Deadline {
  readonly name: string;
  readonly passed: string[];
  constructor(name: string, passed: string[]) {
    super();
    this.name = name;
    this.passed = passed;
  }
  deadlinePassed(): void {
    this.passed.push(`${this.name}@${Date.now()}`);
  }
}

/** Advances mocked time 1 ms at a time (a callback then sees the time it ran at). */
function advance(ms: number): void {
  for (let i = 0; i < ms; i++) mock.timers.tick(1);
}

describe('DeadlineList (mocked time)', () => {
  let made = 0;
  let cleared = 0;
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    made = 0;
    cleared = 0;
    const set = globalThis.setTimeout;
    const clear = globalThis.clearTimeout;
    mock.method(globalThis, 'setTimeout', (...args: Parameters<typeof setTimeout>) => {
      made++;
      const t = set(...args);
      // The mocked Timeout lacks unref; the list calls it.
      (t as { unref?: () => void }).unref ??= () => {};
      return t;
    });
    mock.method(globalThis, 'clearTimeout', (t: Parameters<typeof clearTimeout>[0]) => {
      cleared++;
      clear(t);
    });
  });
  afterEach(() => {
    mock.restoreAll();
    mock.timers.reset();
  });

  test('deadlines pass in order, each `ms` after its last arming; disarmed ones never do', () => {
    const passed: string[] = [];
    const list = new DeadlineList(100, Date.now);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => new Entry(n, passed)) as Entry[];
    list.arm(a!);
    advance(10);
    list.arm(b!);
    list.arm(c!);
    advance(10);
    list.arm(d!);
    list.arm(a!); // re-armed: now the last, at 120
    list.disarm(c!);
    list.disarm(c!);
    assert.equal(list.size, 3);
    assert.ok(list.has(a!) && !list.has(c!));
    advance(89);
    assert.deepEqual(passed, []);
    advance(1);
    assert.deepEqual(passed, ['b@110']);
    advance(10);
    assert.deepEqual(passed, ['b@110', 'd@120', 'a@120']);
    assert.equal(list.size, 0);
    // A passed entry can be armed again.
    list.arm(b!);
    advance(100);
    assert.deepEqual(passed, ['b@110', 'd@120', 'a@120', 'b@220']);
  });

  test('a thousand entries re-armed at different times share one Timeout at a time', () => {
    const passed: string[] = [];
    const list = new DeadlineList(5_000, Date.now);
    const entries = Array.from({ length: 1000 }, (_, i) => new Entry(String(i), passed));
    for (const e of entries) list.arm(e);
    // Each is re-armed once, one per millisecond: deadlines 5001..6000, in index order.
    for (const e of entries) {
      advance(1);
      list.arm(e);
    }
    assert.equal(passed.length, 0);
    assert.ok(made <= 3, `${made} Timeouts for 2000 armings`);
    advance(5_000);
    assert.equal(passed.length, 1000);
    assert.deepEqual(
      passed.map((p) => Number(p.split('@')[0])),
      entries.map((_, i) => i),
    );
    for (const [i, p] of passed.entries()) assert.equal(Number(p.split('@')[1]), 5001 + i);
  });

  test('disarming the last entry clears the Timeout; one re-armed by its callback waits a full period', () => {
    const passed: string[] = [];
    const list = new DeadlineList(50, Date.now);
    const a = new Entry('a', passed);
    list.arm(a);
    list.disarm(a);
    assert.equal(cleared, 1);
    advance(100);
    assert.deepEqual(passed, []);
    class Again extends Entry {
      override deadlinePassed(): void {
        super.deadlinePassed();
        if (this.passed.length < 3) list.arm(this);
      }
    }
    list.arm(new Again('again', passed));
    advance(200);
    assert.deepEqual(passed, ['again@150', 'again@200', 'again@250']);
    assert.equal(list.size, 0);
  });

  test('an entry moves between lists: arming it in one disarms it in the other', () => {
    const passed: string[] = [];
    const short = new DeadlineList(10, Date.now);
    const long = new DeadlineList(100, Date.now);
    const a = new Entry('a', passed);
    short.arm(a);
    long.arm(a);
    assert.ok(!short.has(a) && long.has(a));
    advance(100);
    assert.deepEqual(passed, ['a@100']);
  });
});
