import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { ed25519 } from '../../../src/crypto/index.js';
import { Config as LookupConfig } from '../../../src/p2p/authenticated/lookup/config.js';
import { Oracle } from '../../../src/p2p/authenticated/lookup/oracle.js';
import {
  Actor as Tracker,
  type Config as TrackerConfig,
} from '../../../src/p2p/authenticated/lookup/tracker/index.js';
import { PeerSetSubscription, roles } from '../../../src/p2p/authenticated/oracle.js';
import { P2PError } from '../../../src/p2p/errors.js';
import { type PeerSetUpdate, TrackedPeers } from '../../../src/p2p/types.js';
import type { Context } from '../../../src/runtime/context.js';
import { deterministicRuntime, silentLogger } from '../../../src/runtime/index.js';

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

/** The lookup tracker's settings, from the local preset: ourselves = pk(0), maxPeersPerSet = 3. */
const SETTINGS = LookupConfig.local({
  signer: ed25519.PrivateKey.fromSeed(0n),
  namespace: new TextEncoder().encode('oracle-test'),
  listen: '10.0.0.1:3000',
  maxPeersPerSet: 3,
  maxMessageSize: 64,
});
const TRACKER: TrackerConfig = { ...SETTINGS, myself: SETTINGS.signer.publicKey };

/** A lookup oracle on a real tracker (not started), answering to `ctx`'s signal. */
function lookupOracle(ctx: Context): { oracle: Oracle; tracker: Tracker } {
  const [tracker, mailbox] = Tracker.create(TRACKER, { rng: ctx.rng });
  const oracle = new Oracle(mailbox, (p) => tracker.checkSize(p), silentLogger, ctx.signal);
  return { oracle, tracker };
}

/**
 * Runs `fn` with a context that `stop()` stops (a spawned task's), on the deterministic
 * runtime.
 */
function withOwner(
  fn: (owner: Context, stop: () => Promise<void>) => Promise<void>,
): Promise<unknown> {
  return deterministicRuntime({ seed: 5 }).run(async (ctx) => {
    let owner!: Context;
    const task = ctx.spawn('owner', async (c) => {
      owner = c;
      await c.clock.sleep(1_000_000_000, c.signal).catch(() => {});
    });
    await ctx.clock.sleep(1);
    await fn(owner, async () => {
      task.stop();
      await task.done;
    });
  });
}

const addr = (i: number): string => `10.0.0.${i}:3000`;

/** Every oracle call answers as after shutdown. */
async function assertClosed(oracle: Oracle): Promise<void> {
  assert.equal(oracle.isClosed, true);
  assert.equal(oracle.register(1, [[pk(1), addr(1)]]), 'closed');
  assert.equal(oracle.block(pk(1)), 'closed');
  assert.equal(oracle.overwrite([[pk(1), addr(2)]]), 'closed');
  assert.equal(await oracle.peerSet(0), undefined);
  assert.equal(await oracle.subscribe().next(), undefined);
}

describe('oracle (lookup flavour, real tracker)', () => {
  test('once the context stops, a never-started network answers as after shutdown, pending calls too', async () => {
    await withOwner(async (owner, stop) => {
      const { oracle } = lookupOracle(owner);
      assert.equal(oracle.isClosed, false);
      assert.equal(oracle.register(0, [[pk(1), addr(1)]]), 'ok', 'queued for the tracker');
      const pendingSet = oracle.peerSet(0);
      const sub = oracle.subscribe();
      const pendingUpdate = sub.next();
      await stop();
      assert.equal(await pendingSet, undefined);
      assert.equal(await pendingUpdate, undefined);
      assert.equal(await sub.next(), undefined);
      await assertClosed(oracle);
    });
  });

  test('a started tracker answers until its context stops, then the oracle is closed', async () => {
    await withOwner(async (owner, stop) => {
      const { oracle, tracker } = lookupOracle(owner);
      const handle = tracker.start(owner);
      oracle.register(0, [[pk(1), addr(1)]]);
      const sub = oracle.subscribe();
      assert.deepEqual(
        (await oracle.peerSet(0))?.primary.map((k) => k.toHex()),
        [pk(1).toHex()],
      );
      assert.equal((await sub.next())?.index, 0);
      const pending = sub.next();
      await stop();
      await handle.done;
      assert.equal(await pending, undefined);
      await assertClosed(oracle);
    });
  });

  test('the oracle holds one abort listener, and only while a request or subscription is live', async () => {
    await withOwner(async (owner) => {
      const { oracle, tracker } = lookupOracle(owner);
      const listeners = (): number => getEventListeners(owner.signal, 'abort').length;
      const before = listeners();
      const a = oracle.subscribe();
      const b = oracle.subscribe();
      const request = oracle.peerSet(0);
      assert.equal(listeners(), before + 1);
      tracker.start(owner);
      assert.equal(await request, undefined, 'index 0 is not tracked');
      a.close();
      assert.equal(listeners(), before + 1, 'b is still live');
      b.close();
      assert.equal(listeners(), before);
    });
  });

  test('registrations are validated at the call: index, duplicates, then size', async () => {
    await withOwner(async (owner) => {
      const { oracle } = lookupOracle(owner);
      const isPeerSet = { name: 'P2PError', code: 'InvalidPeerSet' };
      assert.throws(() => oracle.register(-1, [[pk(1), 'not an address']]), isPeerSet);
      assert.throws(
        () =>
          oracle.register(0, [
            [pk(1), addr(1)],
            [pk(1), addr(2)],
          ]),
        isPeerSet,
      );
      // Three peers plus ourselves exceed maxPeersPerSet = 3; listing ourselves counts once.
      const three = [1, 2, 3].map((i) => [pk(i), addr(i)] as const);
      assert.throws(() => oracle.register(0, three), isPeerSet);
      assert.equal(oracle.register(0, [[pk(0), addr(9)], ...three.slice(1)]), 'ok');
    });
  });
});

describe('lookup oracle: addresses read and validated at the call', () => {
  test('a generator may reuse its tuple, and the caller may change its pairs after the call', async () => {
    await withOwner(async (owner) => {
      const [tracker, mailbox] = Tracker.create(TRACKER, { rng: owner.rng });
      const oracle = new Oracle(mailbox, (p) => tracker.checkSize(p), silentLogger, owner.signal);
      const tuple: [ed25519.PublicKey, string] = [pk(1), addr(1)];
      function* reused(): Generator<readonly [ed25519.PublicKey, string]> {
        for (const i of [1, 2]) {
          tuple[0] = pk(i);
          tuple[1] = addr(i);
          yield tuple;
        }
      }
      assert.equal(oracle.register(0, reused()), 'ok');
      const pairs: [ed25519.PublicKey, string][] = [[pk(3), '[2001:DB8::3]:3000']];
      assert.equal(oracle.register(1, { primary: [], secondary: pairs }), 'ok');
      tuple[1] = 'not an address';
      pairs[0]![1] = 'not an address';
      tracker.start(owner);
      const set = await oracle.peerSet(0);
      assert.deepEqual(
        set?.primary.map((k) => k.toHex()),
        [pk(1), pk(2)].map((k) => k.toHex()).sort(),
      );
      const status = await mailbox.status(0, 10);
      const address = new Map(status?.peers.map((p) => [p.key.toHex(), p.address]));
      assert.equal(address.get(pk(1).toHex()), addr(1));
      assert.equal(address.get(pk(2).toHex()), addr(2));
      assert.equal(address.get(pk(3).toHex()), '[2001:db8::3]:3000', 'shown canonical');
    });
  });

  test('a bad address anywhere in the set throws at the call and registers nothing', async () => {
    await withOwner(async (owner) => {
      const { oracle, tracker } = lookupOracle(owner);
      const isAddress = { name: 'P2PError', code: 'InvalidAddress' };
      for (const bad of ['10.0.0.1:03000', '[2001:db8::1]', 'host_name:1', '10.0.0.256:1']) {
        assert.throws(
          () =>
            oracle.register(0, [
              [pk(1), addr(1)],
              [pk(2), bad],
            ]),
          isAddress,
          bad,
        );
        assert.throws(
          () => oracle.register(0, { primary: [[pk(1), addr(1)]], secondary: [[pk(2), bad]] }),
          isAddress,
          bad,
        );
      }
      tracker.start(owner);
      assert.equal(await oracle.peerSet(0), undefined);
    });
  });
});

describe("roles (the oracles' duplicate check)", () => {
  const sorted = [1, 2, 3, 4, 5, 6].map(pk).sort((a, b) => (a.toHex() < b.toHex() ? -1 : 1));
  const hexes = (keys: readonly ed25519.PublicKey[]): string[] => keys.map((k) => k.toHex());
  const run = (keys: ed25519.PublicKey[], secondary: ed25519.PublicKey[] = []) =>
    roles(
      { primary: keys, secondary },
      (k: ed25519.PublicKey) => k,
      (k) => k,
    );
  const duplicate = (e: unknown): boolean =>
    e instanceof P2PError && e.code === 'InvalidPeerSet' && /duplicate/.test(e.message);

  test('keys in order or not pass as given, in the order given', () => {
    assert.deepEqual(hexes(run(sorted).primary), hexes(sorted));
    const shuffled = [sorted[3]!, sorted[0]!, sorted[5]!, sorted[1]!, sorted[4]!, sorted[2]!];
    assert.deepEqual(hexes(run(shuffled).primary), hexes(shuffled));
    const late = [...sorted.slice(1), sorted[0]!];
    assert.deepEqual(hexes(run(late).primary), hexes(late), 'out of order only at the end');
  });

  test('a repeated key is refused wherever it is: adjacent in order, or after the order breaks', () => {
    const [a, b, c, d] = sorted as [ed25519.PublicKey, ...ed25519.PublicKey[]];
    const cases: ed25519.PublicKey[][] = [
      [a, a],
      [a, b!, b!, c!],
      // The order breaks at the repeat of a key from the ordered prefix...
      [a, b!, c!, b!],
      // ...or before it: the keys seen in order are remembered too.
      [a, c!, b!, d!, c!],
      [d!, a, b!, a],
      // Another key object with the same bytes.
      [a, b!, ed25519.PublicKey.fromHex(b!.toHex())],
    ];
    for (const keys of cases) assert.throws(() => run(keys), duplicate);
    assert.throws(() => run([a, b!], [c!, d!, c!]), duplicate, 'secondaries too');
    assert.doesNotThrow(() => run([a, b!], [a, b!]), 'a key in both roles is not a repeat');
  });
});
