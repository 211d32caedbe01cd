/** The channel utilities over the simulated network (`authp2p/simulated`). */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { u64Number } from '../../../src/codec/index.js';
import { Recipients } from '../../../src/p2p/types.js';
import { Muxer, wrap } from '../../../src/p2p/utils/index.js';
import { bytes, start, text } from '../simulated/helpers.js';
import { twice } from './helpers.js';

test('Muxer and wrap over the simulated network; the control blocks a bad peer', async () => {
  const got = await twice(31, async (ctx) => {
    const sim = await start(ctx.child('sim'), 2);
    const [a, b] = sim.pks as [(typeof sim.pks)[0], (typeof sim.pks)[0]];
    const [[aTx, aRx], [bTx, bRx]] = sim.channels as [
      (typeof sim.channels)[0],
      (typeof sim.channels)[0],
    ];
    const ma = Muxer.create(ctx.child('ma'), aTx, aRx, { mailboxSize: 8 });
    const mb = Muxer.create(ctx.child('mb'), bTx, bRx, { mailboxSize: 8, backup: true });
    const [a1] = ma.register(1);
    const [, b1] = mb.register(1);
    const [b2Tx, b2] = mb.register(2);
    mb.start();
    a1.send(Recipients.one(b), bytes('one'), false);
    ma.globalSender().send(7, Recipients.all(), bytes('seven'), false);
    const [, m1] = await b1.recv();
    const [sub, from, m7] = await mb.backup!.recv();
    assert.ok(from.equals(a));
    // Typed values on sub-channel 2; a value that does not decode makes b block a.
    const [, values] = wrap(u64Number, b2Tx, b2, sim.oracle.control(b));
    ma.globalSender().send(2, Recipients.all(), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 9), false);
    const [, nine] = await values.recv();
    ma.globalSender().send(2, Recipients.all(), Uint8Array.of(1), false);
    const next = values.recv();
    let blocked: [typeof a, typeof a][] = [];
    for (let i = 0; i < 100 && blocked.length === 0; i++) {
      await ctx.clock.sleep(10);
      blocked = await sim.oracle.blocked();
    }
    sim.handle.stop();
    await sim.handle.done;
    await assert.rejects(next);
    return [
      text(m1),
      sub,
      text(m7),
      nine,
      values.invalid,
      blocked.map(([x, y]) => [x.equals(b), y.equals(a)]),
    ];
  });
  assert.deepEqual(got, ['one', 7, 'seven', 9, 1, [[true, true]]]);
});
