import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ed25519 } from '../../../src/crypto/index.js';
import { PeerSetSubscription } from '../../../src/p2p/authenticated/oracle.js';
import { type PeerSetUpdate, TrackedPeers } from '../../../src/p2p/types.js';

function pk(i: number): ed25519.PublicKey {
  return ed25519.PrivateKey.fromSeed(BigInt(i)).publicKey;
}

function update(index: number): PeerSetUpdate {
  const peers = TrackedPeers.from([pk(index + 1)]);
  return { index, latest: peers, all: peers };
}

describe('PeerSetSubscription', () => {
  test('two pending next() calls both settle, in call order, each with its own update', async () => {
    const sub = new PeerSetSubscription();
    const first = sub.next();
    const second = sub.next();
    assert.equal(sub.push(update(1)), true);
    assert.equal(sub.push(update(2)), true);
    assert.deepEqual([(await first)?.index, (await second)?.index], [1, 2]);
    assert.equal(sub.size, 0);
  });

  test('end settles every pending next() with undefined; queued updates stay readable', async () => {
    const sub = new PeerSetSubscription();
    const pending = [sub.next(), sub.next(), sub.next()];
    sub.push(update(1));
    sub.end();
    assert.deepEqual(
      (await Promise.all(pending)).map((u) => u?.index),
      [1, undefined, undefined],
    );
    assert.equal(sub.push(update(2)), false, 'nothing is accepted after the end');

    const later = new PeerSetSubscription();
    later.push(update(3));
    later.push(update(4));
    later.end();
    assert.equal((await later.next())?.index, 3);
    assert.equal((await later.next())?.index, 4);
    assert.equal(await later.next(), undefined);
  });

  test('close settles every pending next() with undefined and discards queued updates', async () => {
    const sub = new PeerSetSubscription();
    const pending = [sub.next(), sub.next()];
    sub.close();
    assert.deepEqual(await Promise.all(pending), [undefined, undefined]);
    assert.equal(sub.push(update(1)), false, 'the tracker forgets a closed subscription');

    const queued = new PeerSetSubscription();
    queued.push(update(1));
    assert.equal(queued.size, 1);
    queued.close();
    assert.equal(queued.size, 0);
    assert.equal(await queued.next(), undefined);
  });

  test('iteration yields queued then pushed updates, ends with the subscription, and closes it on break', async () => {
    const sub = new PeerSetSubscription();
    sub.push(update(1));
    const seen: number[] = [];
    const loop = (async () => {
      for await (const u of sub) seen.push(u.index);
    })();
    sub.push(update(2));
    sub.end();
    await loop;
    assert.deepEqual(seen, [1, 2]);

    const early = new PeerSetSubscription();
    early.push(update(5));
    for await (const u of early) {
      assert.equal(u.index, 5);
      break;
    }
    assert.equal(early.push(update(6)), false);
  });
});
