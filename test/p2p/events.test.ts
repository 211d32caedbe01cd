import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ed25519 } from '../../src/crypto/index.js';
import { ConnectionEvents } from '../../src/p2p/events.js';

const pk = (n: number) => ed25519.PrivateKey.fromSeed(BigInt(n)).publicKey;

describe('ConnectionEvents', () => {
  test('each stream starts at its call and sees every later event in order', async () => {
    const hub = new ConnectionEvents(8);
    hub.emit('connected', pk(1), 1);
    const a = hub.events();
    hub.emit('connected', pk(2), 2);
    const b = hub.events();
    hub.emit('disconnected', pk(2), 3, 'ConnectionClosed');
    assert.deepEqual(await a.next(), {
      value: { kind: 'connected', peer: pk(2), at: 2 },
      done: false,
    });
    const d = (await a.next()).value;
    assert.deepEqual(d, { kind: 'disconnected', peer: pk(2), at: 3, reason: 'ConnectionClosed' });
    assert.equal((await b.next()).value.kind, 'disconnected');
  });

  test('a pending next() is woken by the next event and by close', async () => {
    const hub = new ConnectionEvents(4);
    const s = hub.events();
    const pending = s.next();
    hub.emit('blocked', pk(1), 5);
    assert.equal((await pending).value.kind, 'blocked');
    const last = s.next();
    hub.close();
    assert.deepEqual(await last, { value: undefined, done: true });
    assert.equal((await hub.events().next()).done, true, 'a stream made after close is ended');
  });

  test('a reader that falls behind loses the oldest and the next event says how many', async () => {
    const hub = new ConnectionEvents(3);
    const s = hub.events();
    for (let i = 0; i < 10; i++) hub.emit('connected', pk(i), i);
    const first = (await s.next()).value;
    assert.equal(first.at, 7, 'the three newest are kept');
    assert.equal(first.missed, 7);
    assert.equal((await s.next()).value.missed, undefined, 'missed is said once');
    assert.equal((await s.next()).value.at, 9);
    hub.emit('unblocked', pk(1), 11);
    assert.equal((await s.next()).value.missed, undefined);
  });

  test('queued events are still read after close; breaking out detaches the reader', async () => {
    const hub = new ConnectionEvents(4);
    const s = hub.events();
    hub.emit('connected', pk(1), 1);
    hub.close();
    assert.equal((await s.next()).value.kind, 'connected');
    assert.equal((await s.next()).done, true);
    const hub2 = new ConnectionEvents(4);
    const r = hub2.events();
    assert.equal(hub2.readers, 1);
    hub2.emit('connected', pk(1), 1);
    for await (const e of r) {
      assert.equal(e.kind, 'connected');
      break;
    }
    assert.equal(hub2.readers, 0, 'break calls return(), which detaches');
    assert.throws(() => new ConnectionEvents(0), RangeError);
  });
});
