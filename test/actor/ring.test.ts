import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { type Responder, responder, ring } from '../../src/actor/index.js';

describe('ring', () => {
  it('keeps the newest capacity items, evicting the oldest', () => {
    const [tx, rx] = ring<number>(3);
    for (let i = 1; i <= 5; i++) assert.equal(tx.send(i), 'ok');
    assert.equal(rx.size, 3);
    assert.equal(rx.evicted, 2);
    assert.equal(rx.tryRecv(), 3);
    assert.deepEqual(rx.drain(), [4, 5]);
  });

  it('rejects a capacity that is not a positive integer', () => {
    assert.throws(() => ring(0), RangeError);
  });

  it('ready wakes on send, resolves false on abort and close, without leaking listeners', async () => {
    const [tx, rx] = ring<number>(1);
    const ac = new AbortController();
    const p = rx.ready(ac.signal);
    tx.send(1);
    assert.equal(await p, true);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    assert.equal(await rx.recv(), 1);
    const q = rx.ready(ac.signal);
    ac.abort();
    assert.equal(await q, false);
    const c = rx.recv();
    rx.close();
    assert.equal(await c, undefined);
    assert.equal(tx.send(2), 'closed');
  });

  it('settles responders of evicted and discarded items', async () => {
    const [tx, rx] = ring<{ responder: Responder<number> }>(1);
    const [a, pa] = responder<number>();
    const [b, pb] = responder<number>();
    tx.send({ responder: a });
    tx.send({ responder: b });
    assert.equal(await pa, undefined);
    rx.close();
    assert.equal(await pb, undefined);
  });
});
