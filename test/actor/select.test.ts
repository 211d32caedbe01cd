import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { mailbox, reliable, select } from '../../src/actor/index.js';
import { memoryAfterGc } from '../helpers/memory.js';

/** A promise that counts how many reactions are attached to it. */
class CountingPromise<T> extends Promise<T> {
  static attached = 0;
  // biome-ignore lint/suspicious/noThenProperty: the point is to count reactions attached by select.
  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    CountingPromise.attached++;
    return super.then(onFulfilled, onRejected);
  }
}

function never<T>(): CountingPromise<T> {
  return new CountingPromise<T>(() => {});
}

/** A manually controlled sleep that honours its signal like Clock.sleepUntil. */
function fakeSleep(signal: AbortSignal): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    fire = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
  });
  return { promise, fire };
}

const DONE = new Error('iteration done');

describe('select', () => {
  it('returns -1 at once when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    assert.equal(await select(ac.signal, Promise.resolve(1)), -1);
  });

  it('returns the index of the first arm to settle, counting rejections', async () => {
    let fire!: () => void;
    const late = new Promise<void>((r) => {
      fire = r;
    });
    let fail!: (e: Error) => void;
    const failing = new Promise<void>((_, rej) => {
      fail = rej;
    });
    const p = select(undefined, late, failing);
    fail(new Error('x'));
    assert.equal(await p, 1);
    fire();
    assert.equal(await select(undefined, late, failing), 0);
  });

  it('is biased: the lowest settled index wins, including fresh settled arms', async () => {
    const a = Promise.resolve('a');
    const b = Promise.resolve('b');
    assert.equal(await select(undefined, a, b), 0);
    // b is now known-settled, a fresh resolved arm at index 0 still wins.
    assert.equal(await select(undefined, Promise.resolve(0), b), 0);
    assert.equal(await select(undefined, never(), b), 1);
  });

  it('handles the rejection of a losing arm even when an earlier arm wins at once', async () => {
    let unhandled = 0;
    const onUnhandled = (): void => {
      unhandled++;
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const winner = Promise.resolve();
      await select(undefined, winner);
      let fail!: (e: Error) => void;
      const loser = new Promise<void>((_, reject) => {
        fail = reject;
      });
      assert.equal(await select(undefined, winner, loser), 0);
      fail(new Error('cancelled sleep'));
      await new Promise((r) => setImmediate(r));
      assert.equal(unhandled, 0);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('returns -1 when the signal aborts first, with one listener however many calls wait', async () => {
    const ac = new AbortController();
    const forever = never();
    const p = select(ac.signal, forever);
    const q = select(ac.signal, forever);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
    ac.abort();
    assert.deepEqual(await Promise.all([p, q]), [-1, -1]);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  it('signal-less ready() shares one pending promise, so a losing ready arm does not pile up', async () => {
    const [tx, rx] = mailbox<number>(2, reliable());
    const a = rx.ready();
    for (let i = 0; i < 1000; i++) {
      const sleep = Promise.resolve();
      assert.equal(await select(undefined, rx.ready(), sleep), 1);
    }
    assert.equal(rx.ready(), a);
    tx.enqueue(1);
    assert.equal(await a, true);
    assert.notEqual(rx.ready(), a);
  });

  it('per-iteration AbortControllers leave no listener behind (20 000 iterations)', async () => {
    const stop = new AbortController();
    const [tx, rx] = mailbox<number>(4, reliable());
    let received = 0;
    for (let i = 0; i < 20_000; i++) {
      const iteration = new AbortController();
      const sleep = fakeSleep(iteration.signal);
      // 0: a message, 1: the timer, 2: both (the ready arm wins: it is listed first).
      if (i % 3 !== 1) tx.enqueue(i);
      if (i % 3 !== 0) sleep.fire();
      const arm = await select(stop.signal, rx.ready(iteration.signal), sleep.promise);
      iteration.abort(DONE);
      assert.equal(arm, i % 3 === 1 ? 1 : 0);
      received += rx.drain().length;
      assert.equal(getEventListeners(iteration.signal, 'abort').length, 0);
    }
    assert.equal(getEventListeners(stop.signal, 'abort').length, 1);
    assert.equal(received, 20_000 - Math.floor((20_000 + 1) / 3));
  });

  it('a long-lived arm gets one reaction across 1 000 000 iterations, and memory stays flat', async () => {
    const stop = new AbortController();
    const forever = never<void>();
    const [tx, rx] = mailbox<number>(4, reliable());
    CountingPromise.attached = 0;
    let received = 0;
    let wrongArm = 0;
    let heapAt100k = 0;
    for (let i = 0; i < 1_000_000; i++) {
      if (i % 2 === 0) tx.enqueue(i);
      const timer = i % 2 === 1 ? Promise.resolve() : forever;
      const arm = await select(stop.signal, forever, rx.ready(), timer);
      if (arm !== (i % 2 === 0 ? 1 : 2)) wrongArm++;
      received += rx.drain().length;
      if (i === 100_000) heapAt100k = memoryAfterGc().heapUsed;
    }
    assert.equal(CountingPromise.attached, 1);
    assert.equal(getEventListeners(stop.signal, 'abort').length, 1);
    assert.equal(wrongArm, 0);
    assert.equal(received, 500_000);
    // A leak of even one closure per iteration would add tens of MB over 900 000 iterations.
    // Measured after a full collection, so garbage awaiting collection cannot make this flaky.
    const growth = memoryAfterGc().heapUsed - heapAt100k;
    assert.ok(growth < 16 * 1024 * 1024, `heap grew by ${growth} bytes`);
  });

  it('wakes every concurrent select waiting on one arm, and a finished one no longer', async () => {
    let release!: () => void;
    const shared = new Promise<void>((resolve) => {
      release = resolve;
    });
    let releaseOther!: () => void;
    const other = new Promise<void>((resolve) => {
      releaseOther = resolve;
    });
    // One waiter, then two, then three on `shared`; the first also finishes early via `other`.
    const first = select(undefined, other, shared);
    const second = select(undefined, shared);
    const third = select(undefined, never<void>(), shared);
    releaseOther();
    assert.equal(await first, 0);
    release();
    assert.deepEqual(await Promise.all([second, third]), [0, 1]);
    // A settled arm still wins a later select at once.
    assert.equal(await select(undefined, never<void>(), shared), 1);
  });

  it('never loses a message to a losing ready arm', async () => {
    const [tx, rx] = mailbox<number>(8, reliable());
    const got: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const iteration = new AbortController();
      const sleep = fakeSleep(iteration.signal);
      sleep.fire();
      const ready = rx.ready(iteration.signal);
      const arm = await select(undefined, sleep.promise, ready);
      iteration.abort();
      assert.equal(arm, 0);
      tx.enqueue(i);
      for (let m = rx.tryRecv(); m !== undefined; m = rx.tryRecv()) got.push(m);
    }
    assert.deepEqual(
      got,
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });
});
