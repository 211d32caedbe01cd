import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CodecError } from '../../../src/codec/index.js';
import { P2PError } from '../../../src/p2p/errors.js';
import { Recipients } from '../../../src/p2p/types.js';
import { Muxer, parse } from '../../../src/p2p/utils/index.js';
import type { Context } from '../../../src/runtime/context.js';
import { deterministicRuntime } from '../../../src/runtime/index.js';
import { type Flavour, pair, twice, type UtilPeer, until } from './helpers.js';

const text = new TextEncoder();
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A muxer over peer `p`'s channel 0, under its own context `mux`. */
function muxer(p: UtilPeer, mailboxSize: number, backup = false): Muxer {
  return Muxer.create(p.ctx.child('mux'), p.sender, p.receiver, { mailboxSize, backup });
}

function count(p: UtilPeer, name: string, labels?: Record<string, string | number>): number {
  const names = labels === undefined ? [] : Object.keys(labels);
  return p.ctx.child('mux').metrics.counter(name, '', names).get(labels);
}

describe('Muxer', () => {
  test('parse splits varint(subchannel) || payload and rejects a bad prefix', () => {
    const [sub, payload] = parse(Uint8Array.of(0x81, 0x01, 7, 8));
    assert.equal(sub, 129);
    assert.deepEqual([...payload], [7, 8]);
    // The examples of PROTOCOL.md.
    const [five, hi] = parse(Uint8Array.of(0x05, 0x68, 0x69));
    assert.deepEqual([five, str(hi)], [5, 'hi']);
    assert.equal(parse(Uint8Array.of(0x80, 0x01))[0], 128);
    assert.throws(() => parse(Uint8Array.of(0x80)), CodecError, 'truncated');
    assert.throws(() => parse(Uint8Array.of(0x80, 0x00)), CodecError, 'non-canonical');
  });

  test('create and register check their arguments', async () => {
    await deterministicRuntime({ seed: 1 }).run(async (ctx) => {
      const [a, , stop] = await pair(ctx, 'lookup');
      assert.throws(
        () => Muxer.create(ctx, a.sender, a.receiver, { mailboxSize: 0 }),
        (e: unknown) => e instanceof P2PError && e.code === 'InvalidConfig',
      );
      const m = muxer(a, 4);
      m.register(1);
      for (const bad of [-1, 1.5, 2 ** 53]) {
        assert.throws(
          () => m.register(bad),
          (e: unknown) => e instanceof P2PError && e.code === 'InvalidChannel',
        );
      }
      assert.throws(
        () => m.register(1),
        (e: unknown) => e instanceof P2PError && e.code === 'DuplicateChannel',
      );
      await stop();
    });
  });

  for (const flavour of ['lookup', 'discovery'] as const satisfies Flavour[]) {
    test(`routes sub-channels over one ${flavour} channel, with a global sender`, async () => {
      const got = await twice(11, async (ctx) => {
        const [a, b, stop] = await pair(ctx, flavour);
        const ma = muxer(a, 8);
        const mb = muxer(b, 8);
        const [a1] = ma.register(1);
        const [, b1] = mb.register(1);
        const [, b300] = mb.register(300);
        const handles = [ma.start(), mb.start()];
        a1.send(Recipients.one(b.pk), text.encode('one'), false);
        ma.globalSender().send(300, Recipients.all(), text.encode('three hundred'), false);
        const [from1, m1] = await b1.recv();
        const [from300, m300] = await b300.recv();
        assert.ok(from1.equals(a.pk) && from300.equals(a.pk));
        await stop();
        // The parent receivers end with the network: the muxers close their sub-channels.
        await Promise.all(handles.map((h) => h.done));
        await assert.rejects(
          b1.recv(),
          (e: unknown) => e instanceof P2PError && e.code === 'NetworkClosed',
        );
        assert.throws(
          () => mb.register(2),
          (e: unknown) => e instanceof P2PError && e.code === 'NetworkClosed',
        );
        return [str(m1), str(m300)];
      });
      assert.deepEqual(got, ['one', 'three hundred']);
    });
  }

  test('a full sub-channel drops new messages and counts them; others still flow', async () => {
    const got = await twice(12, async (ctx) => {
      const [a, b, stop] = await pair(ctx, 'lookup');
      const ma = muxer(a, 2);
      const mb = muxer(b, 2);
      const [a1] = ma.register(1);
      const [a2] = ma.register(2);
      const [, b1] = mb.register(1);
      const [, b2] = mb.register(2);
      mb.start();
      for (let i = 0; i < 5; i++) a1.send(Recipients.one(b.pk), Uint8Array.of(i), false);
      // One connection keeps order: once the marker on 2 arrives, all five on 1 were routed.
      a2.send(Recipients.one(b.pk), text.encode('marker'), false);
      const [, marker] = await b2.recv();
      const kept = [(await b1.recv())[1][0], (await b1.recv())[1][0]];
      assert.equal(b1.size, 0);
      const dropped = count(b, 'dropped', { subchannel: 1 });
      await stop();
      return { marker: str(marker), kept, dropped };
    });
    assert.deepEqual(got, { marker: 'marker', kept: [0, 1], dropped: 3 });
  });

  test('unknown sub-channels go to the backup channel; a closed sub-channel becomes unknown', async () => {
    const got = await twice(13, async (ctx) => {
      const [a, b, stop] = await pair(ctx, 'discovery');
      const ma = muxer(a, 4);
      const mb = muxer(b, 4, true);
      const [, b1] = mb.register(1);
      mb.start();
      const global = ma.globalSender();
      global.send(9, Recipients.all(), text.encode('nine'), false);
      const [sub, from, payload] = await mb.backup!.recv();
      assert.ok(from.equals(a.pk));
      b1.close();
      await assert.rejects(
        b1.recv(),
        (e: unknown) => e instanceof P2PError && e.code === 'NetworkClosed',
      );
      global.send(1, Recipients.all(), text.encode('one, closed'), false);
      const [sub2, , payload2] = await mb.backup!.recv();
      // Registered again, it receives again.
      const [, again] = mb.register(1);
      global.send(1, Recipients.all(), text.encode('one, again'), false);
      const [, payload3] = await again.recv();
      await stop();
      return [sub, str(payload), sub2, str(payload2), str(payload3)];
    });
    assert.deepEqual(got, [9, 'nine', 1, 'one, closed', 'one, again']);
  });

  test('without a backup, unknown sub-channels and bad prefixes are dropped and counted', async () => {
    const got = await twice(14, async (ctx: Context) => {
      const [a, b, stop] = await pair(ctx, 'lookup');
      const mb = muxer(b, 4);
      const [, b2] = mb.register(2);
      mb.start();
      assert.equal(mb.backup, undefined);
      const global = muxer(a, 4).globalSender();
      global.send(7, Recipients.all(), text.encode('nobody'), false);
      global.send(8, Recipients.all(), text.encode('nobody either'), false);
      a.sender.send(Recipients.all(), Uint8Array.of(0x80), false); // truncated varint
      a.sender.send(Recipients.all(), Uint8Array.of(0x80, 0x00), false); // non-canonical
      global.send(2, Recipients.all(), text.encode('marker'), false);
      const [, marker] = await b2.recv();
      await until(ctx, () => count(b, 'invalid') === 2, 'invalid counted');
      const result = [str(marker), count(b, 'unrouted'), count(b, 'invalid')];
      await stop();
      return result;
    });
    assert.deepEqual(got, ['marker', 2, 2]);
  });

  test('stopping the muxer closes its sub-channels and leaves the parent channel usable', async () => {
    await deterministicRuntime({ seed: 15 }).run(async (ctx) => {
      const [a, b, stop] = await pair(ctx, 'lookup');
      const mb = muxer(b, 4);
      const [, b1] = mb.register(1);
      const handle = mb.start();
      assert.equal(mb.start(), handle, 'start is idempotent');
      handle.stop();
      await handle.done;
      await assert.rejects(
        b1.recv(),
        (e: unknown) => e instanceof P2PError && e.code === 'NetworkClosed',
      );
      a.sender.send(Recipients.all(), text.encode('raw'), false);
      const [, raw] = await b.receiver.recv();
      assert.equal(str(raw), 'raw');
      await stop();
    });
  });
});
