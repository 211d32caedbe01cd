import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Feedback } from '../../../../src/actor/index.js';
import { ed25519 } from '../../../../src/crypto/index.js';
import {
  Oracle,
  type TrackerMailbox,
  trackedPeers,
} from '../../../../src/p2p/authenticated/discovery/oracle.js';
import { checkPeerSetSize, type Subscriber } from '../../../../src/p2p/authenticated/oracle.js';
import { P2PError } from '../../../../src/p2p/errors.js';
import { TrackedPeers } from '../../../../src/p2p/types.js';
import type { Logger } from '../../../../src/runtime/context.js';
import { silentLogger } from '../../../../src/runtime/index.js';

function pk(i: number): ed25519.PublicKey {
  return ed25519.PrivateKey.fromSeed(BigInt(i)).publicKey;
}
const hexes = (keys: readonly ed25519.PublicKey[]): string[] => keys.map((k) => k.toHex());
const isPeerSet = (e: unknown): boolean => e instanceof P2PError && e.code === 'InvalidPeerSet';

/** A fake discovery tracker mailbox: records calls; answers `peerSet` when told to. */
class FakeMailbox implements TrackerMailbox {
  readonly registered: [number, TrackedPeers][] = [];
  readonly blocked: ed25519.PublicKey[] = [];
  readonly subscribers: Subscriber[] = [];
  readonly requests: ((peers: TrackedPeers | undefined) => void)[] = [];
  feedback: Feedback = 'ok';
  isClosed = false;

  register(index: number, peers: TrackedPeers): Feedback {
    this.registered.push([index, peers]);
    return this.feedback;
  }
  peerSet(): Promise<TrackedPeers | undefined> {
    return new Promise((resolve) => this.requests.push(resolve));
  }
  subscribe(subscriber: Subscriber): Feedback {
    this.subscribers.push(subscriber);
    return this.feedback;
  }
  block(peer: ed25519.PublicKey): Feedback {
    this.blocked.push(peer);
    return this.feedback;
  }
}

/** An oracle for ourselves = pk(0) with maxPeersPerSet = 3. */
function oracle(log: Logger = silentLogger, signal?: AbortSignal) {
  const mailbox = new FakeMailbox();
  const check = (p: TrackedPeers): void => checkPeerSetSize(TrackedPeers.union(p), pk(0), 3);
  return { mailbox, oracle: new Oracle(mailbox, check, log, signal) };
}

describe('discovery oracle', () => {
  test('register takes a key list (all primary) or both roles, forwards them as given (the tracker sorts, in steps), and passes the feedback on', () => {
    const { mailbox, oracle: o } = oracle();
    assert.equal(o.register(0, [pk(2), pk(1)]), 'ok');
    assert.equal(o.register(1, new Set([pk(1)])), 'ok');
    mailbox.feedback = 'backoff';
    assert.equal(o.register(2, { primary: [pk(2)], secondary: [pk(2), pk(0), pk(3)] }), 'backoff');
    assert.equal(o.register(3, { primary: [pk(1)] }), 'backoff');
    const got = mailbox.registered.map(([i, p]) => [i, hexes(p.primary), hexes(p.secondary)]);
    const h = (...n: number[]) => n.map((i) => pk(i).toHex());
    assert.deepEqual(got, [
      [0, h(2, 1), []],
      [1, h(1), []],
      // The tracker counts a key in both roles as primary; listing ourselves adds no peer.
      [2, h(2), h(2, 0, 3)],
      [3, h(1), []],
    ]);
  });

  test('register validates at the call (index, duplicates in a role, size) and forwards nothing on failure', () => {
    const { mailbox, oracle: o } = oracle();
    for (const bad of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) {
      assert.throws(() => o.register(bad, [pk(1)]), isPeerSet);
    }
    assert.throws(() => o.register(0, [pk(1), pk(2), pk(1)]), isPeerSet);
    assert.throws(() => o.register(0, { primary: [pk(1)], secondary: [pk(2), pk(2)] }), isPeerSet);
    // Three peers plus ourselves exceed 3, in one role or across both.
    assert.throws(() => o.register(0, [pk(1), pk(2), pk(3)]), isPeerSet);
    assert.throws(() => o.register(0, { primary: [pk(1), pk(2)], secondary: [pk(3)] }), isPeerSet);
    assert.deepEqual(mailbox.registered, []);
    assert.equal(o.register(0, [pk(0), pk(1), pk(2)]), 'ok', 'ourselves counts once');
    assert.throws(() => trackedPeers({ primary: [pk(4), pk(4)] }), isPeerSet);
  });

  test('block logs a warning with the peer and forwards it; peerSet and subscribe go to the tracker', async () => {
    const warnings: [object, string | undefined][] = [];
    const log: Logger = { ...silentLogger, warn: (obj, msg) => warnings.push([obj, msg]) };
    const { mailbox, oracle: o } = oracle(log);
    assert.equal(o.block(pk(5)), 'ok');
    assert.deepEqual(hexes(mailbox.blocked), [pk(5).toHex()]);
    assert.deepEqual(warnings, [[{ peer: pk(5).toHex() }, 'blocking peer']]);

    const request = o.peerSet(7);
    const set = TrackedPeers.from([pk(1)]);
    mailbox.requests[0]!(set);
    assert.equal(await request, set);

    const sub = o.subscribe();
    assert.equal(mailbox.subscribers[0], sub);
    const update = { index: 1, latest: set, all: set };
    assert.equal(mailbox.subscribers[0]!.push(update), true);
    assert.equal(await sub.next(), update);
  });

  test('once the tracker has stopped, every call answers at once and reaches nothing', async () => {
    const warnings: unknown[] = [];
    const { mailbox, oracle: o } = oracle({ ...silentLogger, warn: (obj) => warnings.push(obj) });
    mailbox.isClosed = true;
    assert.equal(o.isClosed, true);
    assert.equal(o.register(0, [pk(1)]), 'closed');
    assert.throws(() => o.register(-1, [pk(1)]), isPeerSet, 'validation still runs');
    assert.equal(o.block(pk(1)), 'closed');
    assert.equal(await o.peerSet(0), undefined);
    assert.equal(await o.subscribe().next(), undefined);
    assert.deepEqual(
      [mailbox.registered, mailbox.blocked, mailbox.subscribers, mailbox.requests, warnings],
      [[], [], [], [], []],
    );
  });

  test('once the context stops, pending and later calls answer as after shutdown', async () => {
    const context = new AbortController();
    const { mailbox, oracle: o } = oracle(silentLogger, context.signal);
    const request = o.peerSet(0);
    const sub = o.subscribe();
    const next = sub.next();
    context.abort();
    assert.equal(await request, undefined);
    assert.equal(await next, undefined);
    const none = TrackedPeers.empty();
    assert.equal(mailbox.subscribers[0]!.push({ index: 0, latest: none, all: none }), false);
    assert.equal(o.isClosed, true);
    assert.equal(o.register(0, [pk(1)]), 'closed');
    assert.equal(o.block(pk(1)), 'closed');
    assert.equal(await o.peerSet(0), undefined);
    assert.equal(await o.subscribe().next(), undefined);
    // A late answer from the tracker changes nothing.
    mailbox.requests[0]!(TrackedPeers.empty());
    assert.equal(await request, undefined);
  });
});
