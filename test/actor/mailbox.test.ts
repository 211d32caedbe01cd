import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import {
  byMessage,
  dropNewest,
  dropOldest,
  mailbox,
  type Responder,
  reliable,
  responder,
  unreliable,
} from '../../src/actor/index.js';

async function ticks(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

describe('Responder', () => {
  it('settles its promise exactly once with the first value', async () => {
    const [r, p] = responder<number>();
    assert.equal(r.isSettled, false);
    assert.equal(r.send(1), true);
    assert.equal(r.send(2), false);
    assert.equal(r.close(), false);
    assert.equal(r.isSettled, true);
    assert.equal(await p, 1);
  });

  it('close settles the promise with undefined', async () => {
    const [r, p] = responder<number>();
    assert.equal(r.close(), true);
    assert.equal(r.send(3), false);
    assert.equal(await p, undefined);
  });
});

describe('mailbox', () => {
  it('rejects a capacity that is not a positive integer', () => {
    for (const c of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => mailbox(c, reliable()), RangeError);
    }
  });

  it('delivers in order within capacity and reports ok', () => {
    const [tx, rx] = mailbox<number>(3, unreliable());
    assert.deepEqual([tx.enqueue(1), tx.enqueue(2), tx.enqueue(3)], ['ok', 'ok', 'ok']);
    assert.equal(rx.size, 3);
    assert.equal(rx.tryRecv(), 1);
    assert.deepEqual(rx.drain(), [2, 3]);
    assert.equal(rx.tryRecv(), undefined);
  });

  it('unreliable rejects when full and accepts again once space frees', () => {
    const [tx, rx] = mailbox<number>(2, unreliable());
    tx.enqueue(1);
    tx.enqueue(2);
    assert.equal(tx.enqueue(3), 'dropped');
    assert.equal(rx.tryRecv(), 1);
    assert.equal(tx.enqueue(4), 'ok');
    assert.deepEqual(rx.drain(), [2, 4]);
  });

  it('reliable retains overflow, reports backoff, and refills in order', () => {
    let backoffs = 0;
    const [tx, rx] = mailbox<number>(2, reliable(), { onBackoff: () => backoffs++ });
    const fb = [1, 2, 3, 4, 5].map((m) => tx.enqueue(m));
    assert.deepEqual(fb, ['ok', 'ok', 'backoff', 'backoff', 'backoff']);
    assert.equal(backoffs, 3);
    assert.equal(rx.size, 5);
    assert.equal(rx.tryRecv(), 1);
    // Overflow stays ahead of new messages even though a ready slot is free.
    assert.equal(tx.enqueue(6), 'backoff');
    assert.deepEqual(rx.drain(), [2, 3, 4, 5, 6]);
    assert.equal(tx.enqueue(7), 'ok');
  });

  it('drain(max) takes at most max messages and pulls overflow through', () => {
    const [tx, rx] = mailbox<number>(2, reliable());
    for (let i = 0; i < 7; i++) tx.enqueue(i);
    assert.deepEqual(rx.drain(3), [0, 1, 2]);
    assert.deepEqual(rx.drain(10), [3, 4, 5, 6]);
  });

  it('drainInto appends at most max messages to the given array, pulling overflow through', () => {
    const [tx, rx] = mailbox<number>(2, reliable());
    for (let i = 0; i < 7; i++) tx.enqueue(i);
    const out = [-1];
    assert.equal(rx.drainInto(out, 3), 3);
    assert.deepEqual(out, [-1, 0, 1, 2]);
    // Nothing is taken for a count of zero or less; the queue is as it was.
    assert.equal(rx.drainInto(out, 0), 0);
    assert.equal(rx.drainInto(out, -4), 0);
    assert.equal(rx.size, 4);
    assert.equal(rx.drainInto(out, 10), 4);
    assert.deepEqual(out, [-1, 0, 1, 2, 3, 4, 5, 6]);
    assert.equal(rx.drainInto(out, 10), 0);
    assert.equal(rx.size, 0);
  });

  it('dropNewest bounds the overflow by rejecting the incoming message', () => {
    const [tx, rx] = mailbox<number>(1, dropNewest(2));
    assert.deepEqual(
      [1, 2, 3, 4].map((m) => tx.enqueue(m)),
      ['ok', 'backoff', 'backoff', 'dropped'],
    );
    assert.deepEqual(rx.drain(), [1, 2, 3]);
  });

  it('dropOldest evicts the oldest overflow message and settles its responder', async () => {
    type M = { n: number; responder?: Responder<number> };
    const [tx, rx] = mailbox<M>(1, dropOldest(1));
    tx.enqueue({ n: 0 });
    const first = tx.request<number>((r) => ({ n: 1, responder: r }));
    const second = tx.request<number>((r) => ({ n: 2, responder: r }));
    assert.equal(await first, undefined);
    const got = rx.drain();
    assert.deepEqual(
      got.map((m) => m.n),
      [0, 2],
    );
    for (const m of got) m.responder?.send(m.n * 10);
    assert.equal(await second, 20);
  });

  it('a replacing message clears the overflow, settling the removed requests', async () => {
    type M = { type: 'dial'; responder: Responder<string> } | { type: 'kill' } | { type: 'hint' };
    const policy = byMessage<M>((m) =>
      m.type === 'kill' ? 'replace' : m.type === 'dial' ? 'retain' : 'reject',
    );
    const [tx, rx] = mailbox<M>(1, policy);
    assert.equal(tx.enqueue({ type: 'hint' }), 'ok');
    const a = tx.request<string>((r) => ({ type: 'dial', responder: r }));
    const b = tx.request<string>((r) => ({ type: 'dial', responder: r }));
    assert.equal(tx.enqueue({ type: 'hint' }), 'dropped');
    assert.equal(tx.enqueue({ type: 'kill' }), 'backoff');
    assert.equal(await a, undefined);
    assert.equal(await b, undefined);
    assert.deepEqual(
      rx.drain().map((m) => m.type),
      ['hint', 'kill'],
    );
  });

  it('request resolves with the actor answer', async () => {
    type M = { q: number; responder: Responder<number> };
    const [tx, rx] = mailbox<M>(4, reliable());
    const answer = tx.request<number>((r) => ({ q: 20, responder: r }));
    const m = rx.tryRecv();
    assert.ok(m);
    m.responder.send(m.q + 1);
    assert.equal(await answer, 21);
  });

  it('request resolves undefined when rejected or closed', async () => {
    type M = { responder: Responder<number> } | { fill: true };
    const [tx, rx] = mailbox<M>(1, unreliable());
    tx.enqueue({ fill: true });
    assert.equal(await tx.request<number>((r) => ({ responder: r })), undefined);
    rx.close();
    assert.equal(tx.isClosed, true);
    assert.equal(await tx.request<number>((r) => ({ responder: r })), undefined);
  });

  it('close settles every queued responder, drops messages and rejects later enqueues', async () => {
    type M = { i: number; responder: Responder<number> };
    const [tx, rx] = mailbox<M>(2, reliable());
    const answers = [0, 1, 2, 3, 4].map((i) => tx.request<number>((r) => ({ i, responder: r })));
    assert.equal(rx.size, 5);
    rx.close();
    rx.close();
    assert.deepEqual(await Promise.all(answers), [
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    assert.equal(rx.size, 0);
    assert.equal(rx.tryRecv(), undefined);
    const [r, p] = responder<number>();
    assert.equal(tx.enqueue({ i: 9, responder: r }), 'closed');
    assert.equal(await p, undefined);
  });

  it('ready resolves true at once when a message is queued and does not consume it', async () => {
    const [tx, rx] = mailbox<number>(2, reliable());
    tx.enqueue(1);
    assert.equal(await rx.ready(), true);
    assert.equal(await rx.ready(), true);
    assert.equal(rx.tryRecv(), 1);
  });

  it('ready waits for an enqueue', async () => {
    const [tx, rx] = mailbox<number>(2, reliable());
    let woke: boolean | undefined;
    const p = rx.ready().then((v) => {
      woke = v;
    });
    await ticks();
    assert.equal(woke, undefined);
    tx.enqueue(5);
    await p;
    assert.equal(woke, true);
    assert.equal(rx.tryRecv(), 5);
  });

  it('ready resolves false on close and on abort, removing its abort listener', async () => {
    const [tx, rx] = mailbox<number>(2, reliable());
    const ac = new AbortController();
    const p = rx.ready(ac.signal);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
    ac.abort();
    assert.equal(await p, false);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    assert.equal(await rx.ready(ac.signal), false);

    const ac2 = new AbortController();
    const q = rx.ready(ac2.signal);
    tx.enqueue(1);
    assert.equal(await q, true);
    assert.equal(getEventListeners(ac2.signal, 'abort').length, 0);
    rx.tryRecv();

    const ac3 = new AbortController();
    const c = rx.ready(ac3.signal);
    rx.close();
    assert.equal(await c, false);
    assert.equal(getEventListeners(ac3.signal, 'abort').length, 0);
    assert.equal(await rx.ready(), false);
  });

  it('an aborted ready does not lose the next message', async () => {
    const [tx, rx] = mailbox<number>(2, reliable());
    const ac = new AbortController();
    const p = rx.ready(ac.signal);
    ac.abort();
    await p;
    tx.enqueue(7);
    assert.equal(await rx.recv(), 7);
  });

  it('recv returns undefined once closed', async () => {
    const [, rx] = mailbox<number>(2, reliable());
    const p = rx.recv();
    rx.close();
    assert.equal(await p, undefined);
  });

  it('keeps a large reliable overflow linear (100 000 messages through capacity 1)', () => {
    const [tx, rx] = mailbox<number>(1, reliable());
    const n = 100_000;
    for (let i = 0; i < n; i++) tx.enqueue(i);
    // Interleave takes with appends: overflow order must still be kept.
    const got: number[] = [];
    for (let m = rx.tryRecv(); m !== undefined; m = rx.tryRecv()) {
      got.push(m);
      if (m < n && m % 2 === 0) tx.enqueue(n + m);
    }
    const expected = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < n; i += 2) expected.push(n + i);
    assert.deepEqual(got, expected);
  });
});

it('a watched inbox calls its watcher on every queued message and on close, never on a drop', () => {
  const [tx, rx] = mailbox<number>(2, unreliable());
  let calls = 0;
  rx.watch(() => {
    calls++;
  });
  assert.equal(tx.enqueue(1), 'ok');
  assert.equal(tx.enqueue(2), 'ok');
  assert.equal(calls, 2);
  assert.equal(tx.enqueue(3), 'dropped');
  assert.equal(calls, 2, 'a dropped message is not news');
  assert.deepEqual(rx.drain(), [1, 2]);
  rx.watch(undefined);
  tx.enqueue(4);
  assert.equal(calls, 2, 'cleared');
  rx.watch(() => {
    calls += 10;
  });
  rx.close();
  rx.close();
  assert.equal(calls, 12, 'told once of the close');
});

it('a watcher may be an object: its wake() is called, as a function watcher would be', () => {
  const [tx, rx] = mailbox<number>(1, dropNewest(1));
  const watcher = {
    calls: 0,
    wake(): void {
      this.calls++;
    },
  };
  rx.watch(watcher);
  assert.equal(tx.enqueue(1), 'ok');
  assert.equal(tx.enqueue(2), 'backoff');
  assert.equal(tx.enqueue(3), 'dropped');
  assert.equal(watcher.calls, 2);
  rx.close();
  assert.equal(watcher.calls, 3, 'told of the close');
});

it('a mailbox that never queued a message shares the empty ready queue, and still works after', () => {
  const [txA, rxA] = mailbox<number>(8, unreliable());
  const [, rxB] = mailbox<number>(8, unreliable());
  // Both idle: nothing to take, nothing to drain, closing one does not touch the other.
  assert.equal(rxA.tryRecv(), undefined);
  assert.deepEqual(rxA.drain(), []);
  rxB.close();
  assert.equal(rxA.size, 0);
  assert.equal(txA.enqueue(1), 'ok');
  assert.equal(txA.enqueue(2), 'ok');
  assert.equal(rxA.size, 2);
  assert.deepEqual(rxA.drain(), [1, 2]);
  const [txC, rxC] = mailbox<number>(8, unreliable());
  assert.equal(rxC.size, 0, "another mailbox does not see A's messages");
  assert.equal(txC.enqueue(3), 'ok');
  assert.deepEqual(rxC.drain(), [3]);
});
