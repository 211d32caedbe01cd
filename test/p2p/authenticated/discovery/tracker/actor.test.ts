import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BitMap } from '../../../../../src/codec/bitmap.js';
import { ed25519 } from '../../../../../src/crypto/index.js';
import { parseIngress } from '../../../../../src/p2p/address.js';
import {
  Actor,
  type BitVec,
  type Config,
  type InfoLike,
  type Mailbox,
  type PeerControl,
} from '../../../../../src/p2p/authenticated/discovery/tracker/index.js';
import { DirectoryMetrics } from '../../../../../src/p2p/authenticated/tracker/index.js';
import { TrackedPeers } from '../../../../../src/p2p/types.js';
import type { Context } from '../../../../../src/runtime/context.js';
import { deterministicRuntime } from '../../../../../src/runtime/index.js';

const pk = (i: number) => ed25519.PrivateKey.fromSeed(BigInt(i)).publicKey;
const info = (i: number, timestampMs = 1, ip = `8.8.8.${i}`): InfoLike => ({
  ingress: parseIngress(`${ip}:3000`),
  timestampMs,
  publicKey: pk(i),
  signature: new Uint8Array(64),
});
const BOOT = 9;

/** A fake peer control that records what the tracker sends. */
class Control implements PeerControl {
  kills = 0;
  readonly bitVecs: BitVec[] = [];
  readonly sent: (readonly InfoLike[])[] = [];
  kill(): void {
    this.kills++;
  }
  bitVec(bitVec: BitVec): void {
    this.bitVecs.push(bitVec);
  }
  peers(infos: readonly InfoLike[]): void {
    this.sent.push(infos);
  }
}

function config(overrides: Partial<Config> = {}): Config {
  return {
    myself: info(0),
    bootstrappers: [[pk(BOOT), parseIngress('8.8.8.9:3000')]],
    mailboxSize: 4,
    allowPrivateIps: false,
    allowDns: true,
    trackedPeerSets: 2,
    maxPeersPerSet: 16,
    peerConnectionCooldownMs: 1_000,
    blockDurationMs: 10_000,
    dialFailLimit: 1,
    peerGossipMaxCount: 32,
    ...overrides,
  };
}

function start(ctx: Context, overrides: Partial<Config> = {}) {
  const metrics = DirectoryMetrics.register(ctx.child('tracker').metrics);
  const [actor, mailbox] = Actor.create(config(overrides), { rng: ctx.rng, metrics });
  const handle = actor.start(ctx);
  return {
    mailbox,
    metrics,
    settle: () => ctx.clock.sleep(1),
    async stop() {
      handle.stop();
      await handle.done;
    },
  };
}

/** Dials `i` and reports the connection; returns its control and reservation. */
async function connect(mailbox: Mailbox, i: number) {
  const granted = await mailbox.dial(pk(i));
  assert.ok(granted, `dial reservation for ${i}`);
  const control = new Control();
  const greeting = await mailbox.connect(pk(i), control, true);
  return { control, greeting, reservation: granted.reservation };
}

function run(fn: (ctx: Context) => Promise<void>, seed = 1): Promise<unknown> {
  return deterministicRuntime({ seed }).run(fn);
}

const hex = (infos: readonly InfoLike[] | undefined) => infos?.map((i) => i.publicKey.toHex());

describe('discovery tracker actor', () => {
  test('connect answers our Info; an ineligible peer gets undefined', async () => {
    await run(async (ctx) => {
      const t = start(ctx);
      const { greeting } = await connect(t.mailbox, BOOT);
      assert.ok(greeting?.publicKey.equals(pk(0)));
      assert.equal(await t.mailbox.connect(pk(5), new Control(), false), undefined, 'untracked');
      await t.stop();
      assert.equal(await t.mailbox.connect(pk(BOOT), new Control(), false), undefined, 'stopped');
    });
  });

  test('construct sends a BitVec of a retained set; without sets nothing is sent', async () => {
    await run(async (ctx) => {
      const t = start(ctx);
      const { control } = await connect(t.mailbox, BOOT);
      t.mailbox.construct(pk(BOOT));
      await t.settle();
      assert.equal(control.bitVecs.length, 0, 'no set yet');
      t.mailbox.register(3, TrackedPeers.from([pk(0), pk(1), pk(BOOT)]));
      t.mailbox.construct(pk(BOOT));
      await t.settle();
      assert.equal(control.bitVecs.length, 1);
      assert.equal(control.bitVecs[0]!.index, 3);
      assert.equal(control.bitVecs[0]!.bits.length, 3);
      await t.stop();
    });
  });

  test('a BitVec is answered with the Infos the peer lacks; a length mismatch kills', async () => {
    await run(async (ctx) => {
      const t = start(ctx);
      t.mailbox.register(0, TrackedPeers.from([pk(0), pk(1), pk(BOOT)]));
      const { control } = await connect(t.mailbox, BOOT);
      t.mailbox.bitVec(pk(BOOT), { index: 0, bits: new BitMap(3) });
      await t.settle();
      assert.deepEqual(hex(control.sent[0]), [pk(0).toHex()], 'ours (others are not connected)');
      t.mailbox.bitVec(pk(BOOT), { index: 7, bits: new BitMap(3) });
      await t.settle();
      assert.equal(control.sent.length, 1, 'unknown index: no answer');
      assert.equal(control.kills, 0);
      t.mailbox.bitVec(pk(BOOT), { index: 0, bits: new BitMap(2) });
      await t.settle();
      assert.equal(control.kills, 1, 'the peer disagrees on the set');
      await t.stop();
    });
  });

  test('gossiped Infos make tracked peers dialable; unknown keys and replays are ignored', async () => {
    await run(async (ctx) => {
      const t = start(ctx);
      t.mailbox.register(0, TrackedPeers.from([pk(1), pk(2)], [pk(3)]));
      t.mailbox.peers([info(1, 10), info(3, 10), info(7, 10)]);
      t.mailbox.peers([info(1, 5, '9.9.9.9')]);
      const dialable = await t.mailbox.dialable();
      const keys = dialable?.peers.map((k) => k.toHex()).sort();
      assert.deepEqual(keys, [pk(1), pk(BOOT)].map((k) => k.toHex()).sort(), 'primaries only');
      const d = await t.mailbox.dial(pk(1));
      assert.deepEqual(d?.ingress, parseIngress('8.8.8.1:3000'), 'the newer Info stays');
      assert.equal(await t.mailbox.dial(pk(7)), undefined);
      assert.equal(await t.mailbox.acceptable(pk(3), '8.8.8.3'), true, 'a secondary is accepted');
      await t.stop();
    });
  });

  test('a rollover kills peers that left every set, and block kills and expires', async () => {
    await run(async (ctx) => {
      const t = start(ctx, { trackedPeerSets: 1, blockDurationMs: 5_000 });
      t.mailbox.register(0, TrackedPeers.from([pk(1), pk(2)]));
      t.mailbox.peers([info(1), info(2)]);
      const one = await connect(t.mailbox, 1);
      const two = await connect(t.mailbox, 2);
      t.mailbox.register(1, TrackedPeers.from([pk(2)]));
      await t.settle();
      assert.deepEqual([one.control.kills, two.control.kills], [1, 0]);
      const blockedAt = ctx.clock.now();
      t.mailbox.block(pk(2));
      await t.settle();
      assert.equal(two.control.kills, 1);
      two.reservation.release();
      assert.equal(await t.mailbox.acceptable(pk(2), ''), false);
      await ctx.clock.sleepUntil(blockedAt + 5_000);
      await t.settle();
      assert.equal(await t.mailbox.acceptable(pk(2), ''), true, 'the block expired');
      await t.stop();
    });
  });

  test('a blocked peer is killed and its late gossip requests are ignored', async () => {
    await run(async (ctx) => {
      const t = start(ctx, { trackedPeerSets: 1 });
      t.mailbox.register(0, TrackedPeers.from([pk(1)]));
      t.mailbox.peers([info(1)]);
      const { control } = await connect(t.mailbox, 1);
      t.mailbox.block(pk(1));
      await t.settle();
      assert.equal(control.kills, 1);
      // The peer actor may still ask before it notices; the tracker forgot it already.
      t.mailbox.construct(pk(1));
      t.mailbox.bitVec(pk(1), { index: 0, bits: new BitMap(1) });
      await t.settle();
      assert.equal(control.bitVecs.length + control.sent.length, 0);
      await t.stop();
    });
  });

  test('a Peers answer is capped at peerGossipMaxCount with a seed-determined subset', async () => {
    const answer = (seed: number) => {
      let out: string[] = [];
      return run(async (ctx) => {
        const t = start(ctx, { peerGossipMaxCount: 2, peerConnectionCooldownMs: 0 });
        const ids = [1, 2, 3, 4, 5, 6];
        t.mailbox.register(0, TrackedPeers.from([pk(0), ...ids.map(pk), pk(BOOT)]));
        t.mailbox.peers(ids.map((i) => info(i)));
        for (const i of ids) await connect(t.mailbox, i);
        const { control } = await connect(t.mailbox, BOOT);
        t.mailbox.bitVec(pk(BOOT), { index: 0, bits: new BitMap(8) });
        await t.settle();
        out = hex(control.sent[0]) ?? [];
        await t.stop();
      }, seed).then(() => out);
    };
    const first = await answer(5);
    assert.equal(first.length, 2);
    assert.deepEqual(await answer(5), first);
  });
});
