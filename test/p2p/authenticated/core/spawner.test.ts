import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Feedback } from '../../../../src/actor/index.js';
import type { ed25519 } from '../../../../src/crypto/index.js';
import { Channels } from '../../../../src/p2p/authenticated/channels.js';
import { encodeData } from '../../../../src/p2p/authenticated/data.js';
import {
  type Mailbox as PeerMailbox,
  peerFlavour,
} from '../../../../src/p2p/authenticated/lookup/peer/index.js';
import type { Relay } from '../../../../src/p2p/authenticated/relay.js';
import { Actor as Router } from '../../../../src/p2p/authenticated/router/index.js';
import { Spawner } from '../../../../src/p2p/authenticated/spawner/index.js';
import { Recipients } from '../../../../src/p2p/types.js';
import type { Context } from '../../../../src/runtime/context.js';
import {
  FakeConn,
  FakeInbound,
  pk,
  Quota,
  routes,
  run,
  streamPair,
  text,
  utf8,
} from './helpers.js';

const SETTINGS = { mailboxSize: 8, sendBatchSize: 4, pingFrequencyMs: 1000 } as const;

/** Records every lifecycle call, in order. */
class Recorder {
  readonly events: string[] = [];
  readonly controls = new Map<string, PeerMailbox>();
  readonly relays = new Map<string, Relay>();
  killOnConnect = false;
  readonly tracker = {
    admit: async (peer: ed25519.PublicKey, control: PeerMailbox): Promise<boolean> => {
      this.events.push(`connect ${peer.toHex().slice(0, 4)}`);
      this.controls.set(peer.toHex(), control);
      if (this.killOnConnect) control.kill();
      return true;
    },
  };
  readonly router = {
    ready: (peer: ed25519.PublicKey, relay: Relay): Feedback => {
      this.events.push(`ready ${peer.toHex().slice(0, 4)}`);
      this.relays.set(peer.toHex(), relay);
      return 'ok';
    },
    release: (peer: ed25519.PublicKey, relay?: Relay): Feedback => {
      assert.equal(relay, this.relays.get(peer.toHex()));
      this.events.push(`release ${peer.toHex().slice(0, 4)}`);
      return 'ok';
    },
  };
  reservation(name: string): { release(): void; count: number } {
    const r = {
      count: 0,
      release: (): void => {
        r.count++;
        this.events.push(`reservation ${name}`);
      },
    };
    return r;
  }
  conn(n: number): FakeConn {
    const c = new FakeConn(pk(n));
    const close = c.connection.close;
    (c as { connection: { close(): void } }).connection = {
      close: (): void => {
        if (!c.closed) this.events.push(`close ${pk(n).toHex().slice(0, 4)}`);
        close();
      },
    };
    return c;
  }
}

const short = (n: number): string => pk(n).toHex().slice(0, 4);

describe('lookup spawner', () => {
  it('runs each connection as a peer and cleans up router, connection and reservation in order', async () => {
    await run(async (ctx) => {
      const rec = new Recorder();
      const inbound = new FakeInbound(ctx, 0, Quota.perSecond(100));
      const [spawner, mailbox] = Spawner.create(ctx, {
        router: rec.router,
        mailboxSize: SETTINGS.mailboxSize,
        flavour: peerFlavour(SETTINGS, routes(inbound), rec.tracker),
      });
      spawner.start();
      const conn = rec.conn(5);
      const reservation = rec.reservation('5');
      assert.equal(mailbox.spawn(conn, reservation, false), 'ok');
      await ctx.clock.sleep(1);
      assert.equal(spawner.live, 1);
      assert.deepEqual(rec.events, [`connect ${short(5)}`, `ready ${short(5)}`]);
      conn.push(encodeData(0, utf8('hello')));
      rec.relays.get(pk(5).toHex())!.send(encodeData(0, utf8('out')), true);
      await ctx.clock.sleep(1);
      assert.deepEqual(
        inbound.delivered.map((d) => d.message),
        ['hello'],
      );
      assert.deepEqual(
        conn.sent.map((b) => b.map((f) => text(f.subarray(3)))),
        [['out']],
      );
      rec.controls.get(pk(5).toHex())!.kill();
      await ctx.clock.sleep(1);
      assert.equal(spawner.live, 0);
      assert.deepEqual(rec.events.slice(2), [
        `close ${short(5)}`,
        `release ${short(5)}`,
        `reservation 5`,
      ]);
      assert.equal(reservation.count, 1);
      const m = await ctx.metrics.encode();
      assert.match(m, /messages_received_total\{peer="[0-9a-f]+",message="data_0"\} 1/);
      assert.match(m, /messages_sent_total\{peer="[0-9a-f]+",message="data_0"\} 1/);
    });
  });

  it('releases the reservation and closes the connection of a peer the tracker kills at once', async () => {
    await run(async (ctx) => {
      const rec = new Recorder();
      rec.killOnConnect = true;
      const [spawner, mailbox] = Spawner.create(ctx, {
        router: rec.router,
        mailboxSize: SETTINGS.mailboxSize,
        flavour: peerFlavour(SETTINGS, routes(), rec.tracker),
      });
      spawner.start();
      const conn = rec.conn(6);
      const reservation = rec.reservation('6');
      mailbox.spawn(conn, reservation, false);
      await ctx.clock.sleep(1);
      assert.equal(conn.closed, true);
      assert.equal(reservation.count, 1);
      assert.equal(conn.sent.length, 0);
    });
  });

  it('rejects spawns beyond its mailbox, releasing their reservations and closing their connections', async () => {
    await run(async (ctx) => {
      const rec = new Recorder();
      const [spawner, mailbox] = Spawner.create(ctx, {
        router: rec.router,
        mailboxSize: 2,
        flavour: peerFlavour(SETTINGS, routes(), rec.tracker),
      });
      const conns = [1, 2, 3].map((n) => rec.conn(n));
      const reservations = [1, 2, 3].map((n) => rec.reservation(String(n)));
      const feedback = conns.map((c, i) => mailbox.spawn(c, reservations[i]!, false));
      assert.deepEqual(feedback, ['ok', 'ok', 'dropped']);
      assert.equal(conns[2]!.closed, true);
      assert.equal(reservations[2]!.count, 1);
      assert.equal(reservations[0]!.count + reservations[1]!.count, 0);
      // Stopping the spawner gives back queued and running connections alike.
      const handle = spawner.start();
      await ctx.clock.sleep(1);
      assert.equal(spawner.live, 2);
      handle.stop();
      await handle.done;
      await ctx.clock.sleep(1);
      assert.equal(spawner.live, 0);
      assert.deepEqual(
        reservations.map((r) => r.count),
        [1, 1, 1],
      );
      assert.ok(conns.every((c) => c.closed));
      // After it stopped, spawn is refused the same way.
      const late = rec.conn(4);
      const lateReservation = rec.reservation('4');
      assert.equal(mailbox.spawn(late, lateReservation, false), 'closed');
      assert.equal(late.closed, true);
      assert.equal(lateReservation.count, 1);
    });
  });

  it('carries channel messages end to end between two spawned peers over a real stream', async () => {
    await run(async (ctx) => {
      const side = (c: Context, name: string) => {
        const child = c.child(name);
        const channels = new Channels(child, { maxMessageSize: 1024, retainedPeers: 4 });
        const [sender, receiver] = channels.register(7, Quota.perSecond(100));
        const [router, routerMailbox] = Router.create(child, {
          mailboxSize: SETTINGS.mailboxSize + channels.capacity,
        });
        const reservation = {
          count: 0,
          release(): void {
            this.count++;
          },
        };
        const controls: PeerMailbox[] = [];
        const [spawner, spawnerMailbox] = Spawner.create(child, {
          router: routerMailbox,
          mailboxSize: SETTINGS.mailboxSize,
          flavour: peerFlavour(SETTINGS, channels, {
            admit: async (_p: ed25519.PublicKey, control: PeerMailbox) =>
              controls.push(control) > 0,
          }),
        });
        router.start();
        spawner.start();
        channels.start(routerMailbox);
        return { sender, receiver, spawnerMailbox, reservation, controls, channels };
      };
      const one = side(ctx, 'one');
      const two = side(ctx, 'two');
      const { a, b } = await streamPair(ctx);
      one.spawnerMailbox.spawn(a, one.reservation, false);
      two.spawnerMailbox.spawn(b, two.reservation, false);
      await ctx.clock.sleep(1);
      assert.deepEqual(
        one.sender.send(Recipients.all(), utf8('hi two'), false).map((k) => k.toHex()),
        [pk(2).toHex()],
      );
      two.sender.send(Recipients.one(pk(1)), utf8('hi one'), true);
      const [fromOne, m1] = await two.receiver.recv();
      const [fromTwo, m2] = await one.receiver.recv();
      assert.equal(fromOne.toHex(), pk(1).toHex());
      assert.equal(text(m1), 'hi two');
      assert.equal(fromTwo.toHex(), pk(2).toHex());
      assert.equal(text(m2), 'hi one');
      // Killing one side ends both, releases both reservations, and empties the snapshots.
      one.controls[0]!.kill();
      await ctx.clock.sleep(10);
      assert.equal(one.reservation.count, 1);
      assert.equal(two.reservation.count, 1);
      assert.deepEqual(one.sender.send(Recipients.all(), utf8('gone'), false), []);
      one.channels.close();
      two.channels.close();
      await assert.rejects(one.receiver.recv(), /NetworkClosed/);
    });
  });
  it('keeps broadcasting to a fast peer while a slow peer never drains its connection', async () => {
    await run(async (ctx) => {
      const channels = new Channels(ctx, { maxMessageSize: 1024, retainedPeers: 4 });
      const [sender] = channels.register(0, Quota.perSecond(10_000));
      const [router, routerMailbox] = Router.create(ctx, { mailboxSize: 1000 });
      const [spawner, mailbox] = Spawner.create(ctx, {
        router: routerMailbox,
        mailboxSize: 4,
        flavour: peerFlavour({ ...SETTINGS, mailboxSize: 4, pingFrequencyMs: 60_000 }, channels, {
          admit: async () => true,
        }),
      });
      router.start();
      spawner.start();
      channels.start(routerMailbox);
      const slow = new FakeConn(pk(1));
      slow.gate = new Promise(() => {}); // the first write never completes
      const fast = new FakeConn(pk(2));
      const release = { release(): void {} };
      mailbox.spawn(slow, release, false);
      mailbox.spawn(fast, release, false);
      await ctx.clock.sleep(1);
      const start = ctx.clock.now();
      for (let i = 0; i < 100; i++) {
        assert.equal(sender.send(Recipients.all(), utf8(`m${i}`), false).length, 2);
        await ctx.clock.sleep(1);
      }
      const fastFrames = fast.sent.flat().map((f) => text(f.subarray(3)));
      assert.deepEqual(
        fastFrames,
        Array.from({ length: 100 }, (_, i) => `m${i}`),
      );
      assert.ok(ctx.clock.now() - start <= 100, 'no waiting on the slow peer');
      // The slow peer got its first batch written (stuck), then 4 queued, the rest dropped.
      assert.equal(slow.sent.flat().length, 1);
      const dropped = await ctx.metrics.encode();
      assert.match(dropped, /relay_low_backoff\S* 95/);
    });
  });
});
