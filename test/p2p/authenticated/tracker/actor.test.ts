import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ed25519 } from '../../../../src/crypto/index.js';
import { parseAddress } from '../../../../src/p2p/address.js';
import { Actor } from '../../../../src/p2p/authenticated/lookup/tracker/index.js';
import { Metadata } from '../../../../src/p2p/authenticated/tracker/index.js';
import { AddressableTrackedPeers } from '../../../../src/p2p/types.js';
import type { Context } from '../../../../src/runtime/context.js';
import { deterministicRuntime, nodeRuntime } from '../../../../src/runtime/index.js';

// The shared loop is exercised through the lookup tracker, its first user.

const pk = (i: number) => ed25519.PrivateKey.fromSeed(BigInt(i)).publicKey;

/** A lookup tracker with small limits; `maxPeersPerSet` as given. */
function create(ctx: Context, maxPeersPerSet = 8) {
  const limits = { trackedPeerSets: 2, peerConnectionCooldownMs: 1_000, blockDurationMs: 10_000 };
  const policy = { allowPrivateIps: true, allowDns: true, bypassIpCheck: false };
  return Actor.create(
    { myself: pk(0), mailboxSize: 4, maxPeersPerSet, ...limits, ...policy },
    { rng: ctx.rng },
  );
}

function start(ctx: Context) {
  const [actor, mailbox] = create(ctx);
  const handle = actor.start(ctx);
  const metrics = ctx.child('tracker').metrics;
  /** The `bookkeeping_errors{kind}` count in the exposition (0 if absent). */
  const slips = async (kind: string): Promise<number> => {
    const text = await metrics.encode();
    const re = new RegExp(`^tracker_bookkeeping_errors_total\\{kind="${kind}"\\} (\\d+)$`, 'm');
    return Number(re.exec(text)?.[1] ?? 0);
  };
  return { mailbox, handle, slips };
}

describe('tracker actor core', () => {
  test('a release for an unknown key or an inert record is counted and logged, not fatal', async () => {
    await deterministicRuntime({ seed: 3 }).run(async (ctx) => {
      const { mailbox, handle, slips } = start(ctx);
      mailbox.register(0, AddressableTrackedPeers.from([[pk(1), parseAddress('10.0.0.1:1')]]));
      mailbox.release(Metadata.dialer(pk(9)));
      mailbox.release(Metadata.listener(pk(1)));
      await ctx.clock.sleep(1);
      assert.equal(await slips('release_unknown'), 1);
      assert.equal(await slips('release_inert'), 1);
      // A real reservation released twice by metadata: the second is a slip, the first counts.
      const granted = await mailbox.dial(pk(1));
      assert.ok(granted);
      mailbox.release(granted.reservation.metadata);
      mailbox.release(granted.reservation.metadata);
      await ctx.clock.sleep(1);
      assert.equal(await slips('release_inert'), 2);
      // The tracker still answers.
      const dialable = await mailbox.dialable();
      assert.ok(dialable !== undefined);
      assert.equal(mailbox.isClosed, false);
      handle.stop();
      await handle.done;
    });
  });
});

describe('tracker actor core: large registrations', () => {
  const n = 12_000;
  let made: ed25519.PublicKey[] | undefined;
  const keys = (): ed25519.PublicKey[] => {
    made ??= Array.from({ length: n }, (_, i) => pk(i + 1));
    return made;
  };

  /** Registers `n` peers and checks that another task got turns meanwhile, on `ctx`'s runtime. */
  async function largeRegister(ctx: Context): Promise<void> {
    const ks = keys();
    const peers = AddressableTrackedPeers.from(
      ks.map((k, i) => [k, parseAddress(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:1`)]),
    );
    const [actor, mailbox] = create(ctx, n + 1);
    const handle = actor.start(ctx);
    await ctx.clock.sleep(1);
    // A task that counts the turns it gets while the tracker works.
    let working = true;
    let turns = 0;
    const ticker = ctx.spawn('ticker', async () => {
      while (working) {
        turns++;
        await ctx.clock.sleep(0);
      }
    });
    mailbox.register(0, peers);
    mailbox.block(ks[7]!);
    const dialable = await mailbox.dialable();
    working = false;
    await ticker.done;
    assert.ok(turns > 2, `other tasks ran during the registration (${turns} turns)`);
    assert.equal(dialable?.peers.length, n - 1, 'every peer but the blocked one');
    assert.ok(!dialable?.peers.some((k) => k.equals(ks[7]!)));
    assert.equal((await mailbox.peerSet(0))?.primary.length, n);
    handle.stop();
    await handle.done;
  }

  test('a large register is applied over several turns, and later messages wait for it in order', async () => {
    await deterministicRuntime({ seed: 4 }).run(largeRegister);
  });

  // On Node the yield is a zero sleep, one setImmediate: the other task's zero sleeps (also
  // immediates) interleave with the tracker's turns.
  test('the same on the Node runtime, whose zero sleep is an immediate', async () => {
    await nodeRuntime().run(largeRegister);
  });
});
