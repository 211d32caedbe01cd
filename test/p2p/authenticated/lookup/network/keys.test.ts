import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ed25519 } from '../../../../../src/crypto/index.js';
import { Recipients } from '../../../../../src/p2p/types.js';
import { twice } from '../../scenarios.js';
import { isConnected, startPeer, stopAll, until } from './helpers.js';

describe('lookup network: one key object per peer (deterministic)', () => {
  test('an inbound connection holds the key object its tracker registered, not the handshake copy', async () => {
    await twice(43, async (ctx) => {
      const [p0, p1] = [startPeer(ctx, 0), startPeer(ctx, 1)];
      // p0's own key object for p1 (equal by value to p1's, another object), at a port nobody
      // listens on: p0's dials fail, so the connection is p1's, inbound at p0.
      const registered = ed25519.PublicKey.fromHex(p1.hex);
      assert.notEqual(registered, p1.pk);
      p0.oracle.register(0, [[registered, `${p1.ip}:3999`]]);
      p1.oracle.register(0, [[p0.pk, p0.address]]);
      await until(ctx, () => isConnected(p0, p1) && isConnected(p1, p0), 'connected');
      assert.deepEqual(p1.sender.send(Recipients.one(p0.pk), Uint8Array.of(7), false), [p0.pk]);
      const [from, msg] = await p0.receiver.recv();
      assert.deepEqual([...msg], [7]);
      // The delivering connection's key is the registered object itself.
      assert.equal(from, registered);
      await stopAll([p0, p1]);
      return from.toHex();
    });
  });
});
