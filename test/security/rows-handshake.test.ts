/**
 * Security rows 1-5 (reference security.md section 2) at the network level: handshake replay,
 * clock skew, malformed frames, oversize length prefixes and slowloris during the handshake. Each
 * scenario drives whole networks on the deterministic runtime (virtual clock, in-memory network),
 * for lookup and for discovery: the target (peer 0, `Network.create` + `start`), an authorized
 * honest peer beside it (peer 1), and an attacker using the key (peer 2) or the address of an
 * authorized but absent peer, or fresh addresses. Each asserts the attack's typed failure (read
 * from the target's log), that the offending connection closed, that the target's metrics count
 * it, and that the honest peer still exchanges messages with the target. Every scenario runs
 * twice with one seed and must give one digest (`twiceLogged`).
 *
 * Two closes are counted by no metric today (reported, not worked around; the tests assert the
 * close and the logged reason instead): a stream receive failure after the handshake (row 4's
 * prefixes: the peer actor logs `receive failed` and stops with `ReceiveFailed`), and
 * discovery's BitVec of the wrong length (row 3: the tracker logs `killing peer`; `invalid`
 * stays 0). Not covered here: row 1's other-namespace replay and row 5 on real TCP (both exist
 * at the unit level / in lookup's tcp.test.ts).
 *
 * The unit-level tests of the same rows are listed in SECURITY.md; these are their network-level
 * counterparts. How each describe was confirmed to bite is stated at its top.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BitMap } from '../../src/codec/index.js';
import type { ed25519 } from '../../src/crypto/index.js';
import type { Receiver, Sender } from '../../src/p2p/authenticated/channels.js';
import { Config as DiscoveryConfig } from '../../src/p2p/authenticated/discovery/config.js';
import {
  encodeBitVec,
  encodeGreeting,
  maxGossipFrame,
} from '../../src/p2p/authenticated/discovery/types.js';
import { Config as LookupConfig } from '../../src/p2p/authenticated/lookup/config.js';
import { streamConfig } from '../../src/p2p/authenticated/network.js';
import { Recipients } from '../../src/p2p/types.js';
import { Quota } from '../../src/quota/index.js';
import type { Connection, Context, Handle } from '../../src/runtime/context.js';
import { simulatedNetwork } from '../../src/runtime/index.js';
import { encodeFrame } from '../../src/stream/frame.js';
import { dial, type Config as StreamConfig } from '../../src/stream/index.js';
import * as discovery from '../p2p/authenticated/discovery/network/helpers.js';
import * as lookup from '../p2p/authenticated/lookup/network/helpers.js';
import { skewed, tappedPair } from '../stream/helpers.js';

type Flavour = 'lookup' | 'discovery';
const FLAVOURS: readonly Flavour[] = ['lookup', 'discovery'];
const ATTACKER = 2;
const PERIOD_MS = 10 * 60_000;

/** What the scenarios need of a running peer of either flavour. */
interface Node {
  readonly pk: ed25519.PublicKey;
  readonly ip: string;
  readonly label: string;
  readonly ctx: Context;
  readonly sender: Sender;
  readonly receiver: Receiver;
  readonly handle: Handle<void>;
  readonly network: { connectedPeers(): ed25519.PublicKey[]; readonly handshakesInFlight: number };
}

/** The target, the honest peer beside it, and ways to start more tracked peers. */
interface Setup {
  readonly flavour: Flavour;
  readonly target: Node;
  readonly honest: Node;
  /** Starts tracked peer `i` (one of `extra`) under `root` (a skewed context, for example). */
  start(root: Context, i: number): Node;
  /** The stream configuration `key` dials with under the flavour's network configuration. */
  stream(key: ed25519.PrivateKey, ip: string): StreamConfig;
}

function nodeOf(p: lookup.Peer | discovery.Peer, label: string): Node {
  return { ...p, label, network: p.network };
}

/**
 * Starts the target (with `overrides`) and the honest peer, both tracking peers 0, 1 and every
 * index of `extra` (at `ipOf(i):3000`). Lookup's target bypasses its IP pre-filter, so attackers
 * from fresh addresses reach its limiters.
 */
function setup(
  ctx: Context,
  flavour: Flavour,
  overrides: lookup.Overrides & discovery.Overrides = {},
  extra: readonly number[] = [ATTACKER],
): Setup {
  if (flavour === 'lookup') {
    const t = lookup.startPeer(ctx, 0, { overrides: { ...overrides, bypassIpCheck: true } });
    const a = lookup.startPeer(ctx, 1);
    const entries: [ed25519.PublicKey, string][] = [
      ...lookup.entries([t, a]),
      ...extra.map((i) => [lookup.signer(i).publicKey, `${lookup.ipOf(i)}:3000`] as const),
    ].map(([k, v]) => [k, v]);
    for (const p of [t, a]) p.oracle.register(0, entries);
    return {
      flavour,
      target: nodeOf(t, 'p0'),
      honest: nodeOf(a, 'p1'),
      start(root, i) {
        const p = lookup.startPeer(root, i);
        p.oracle.register(0, entries);
        return nodeOf(p, `p${i}`);
      },
      stream: (key, ip) =>
        streamConfig(
          LookupConfig.local({
            signer: key,
            namespace: lookup.NAMESPACE,
            listen: `${ip}:3000`,
            maxPeersPerSet: 32,
            maxMessageSize: 1024,
          }),
        ),
    };
  }
  const t = discovery.startPeer(ctx, 0, { overrides });
  const a = discovery.startPeer(ctx, 1, { bootstrappers: [t] });
  const set = [t.pk, a.pk, ...extra.map((i) => discovery.signer(i).publicKey)];
  for (const p of [t, a]) p.oracle.register(0, set);
  return {
    flavour,
    target: nodeOf(t, 'p0'),
    honest: nodeOf(a, 'p1'),
    start(root, i) {
      const p = discovery.startPeer(root, i, { bootstrappers: [t] });
      p.oracle.register(0, set);
      return nodeOf(p, `p${i}`);
    },
    stream: (key, ip) => {
      const config = DiscoveryConfig.local({
        signer: key,
        namespace: discovery.NAMESPACE,
        listen: `${ip}:3000`,
        dialable: `${ip}:3000`,
        bootstrappers: [],
        maxPeersPerSet: 64,
        maxMessageSize: 1024,
      });
      return streamConfig(config, maxGossipFrame(config.maxPeersPerSet, config.peerGossipMaxCount));
    },
  };
}

/** A test per flavour running `scenario` twice with `seed` (one digest). */
function eachFlavour(
  seed: number,
  scenario: (flavour: Flavour) => (ctx: Context, log: discovery.Captured) => Promise<unknown>,
): void {
  for (const flavour of FLAVOURS) {
    test(flavour, async () => {
      await discovery.twiceLogged(seed, scenario(flavour));
    });
  }
}

/** Whether `a`'s router lists `b` connected. */
function connected(a: Node, b: Node | ed25519.PublicKey): boolean {
  const pk = 'pk' in b ? b.pk : b;
  return a.network.connectedPeers().some((k) => k.equals(pk));
}

/** A counter of `node`'s listener (`network_listener_<name>`). */
function listenerCount(node: Node, name: string): number {
  return node.ctx.child('network').child('listener').metrics.counter(name, '').get();
}

/** Resolves with `p`, or fails after `ms` of virtual time. */
async function within<T>(ctx: Context, p: Promise<T>, ms: number, what: string): Promise<T> {
  const abort = new AbortController();
  const late = ctx.clock.sleep(ms, abort.signal).then(
    () => {
      throw new Error(`timed out after ${ms} ms: ${what}`);
    },
    () => undefined as never,
  );
  try {
    return await Promise.race([p, late]);
  } finally {
    abort.abort();
  }
}

/** The honest peer and the target exchange one message each way (within 2 s). */
async function exchange(ctx: Context, s: Setup): Promise<void> {
  const { target, honest } = s;
  const msg = Uint8Array.of(ctx.clock.now() & 0xff);
  for (const [from, to] of [
    [honest, target],
    [target, honest],
  ] as const) {
    from.sender.send(Recipients.one(to.pk), msg, false);
    const [who, got] = await within(ctx, to.receiver.recv(), 2_000, `${from.label} -> ${to.label}`);
    assert.ok(who.equals(from.pk));
    assert.deepEqual(got, msg);
  }
}

/** Waits until the target and the honest peer are connected, and checks they exchange. */
async function ready(ctx: Context, s: Setup): Promise<void> {
  await lookup.until(
    ctx,
    () => connected(s.target, s.honest) && connected(s.honest, s.target),
    'mesh',
  );
  await exchange(ctx, s);
}

/** The `err` strings `node` logged with `msg` (its handshake and peer failures). */
function errors(log: discovery.Captured, node: Node, msg: string): string[] {
  return log
    .find(msg)
    .filter((l) => String(l.fields.label).startsWith(`${node.label}_`))
    .map((l) => String(l.fields.err ?? l.fields.reason));
}

/** A raw connection to `to`'s listener from `ip`. */
function rawDial(ctx: Context, ip: string, to: Node): Promise<Connection> {
  return simulatedNetwork(ctx).host(ip).dial({ ip: to.ip, port: 3000 });
}

/** Whether `conn` closed within `ms` (virtual). */
async function closesWithin(ctx: Context, conn: Connection, ms: number): Promise<boolean> {
  let done = false;
  void conn.closed.then(() => {
    done = true;
  });
  const end = ctx.clock.now() + ms;
  while (!done && ctx.clock.now() < end) await ctx.clock.sleep(10);
  return done;
}

async function stop(nodes: readonly Node[]): Promise<void> {
  for (const n of nodes) n.handle.stop();
  await Promise.all(nodes.map((n) => n.handle.done.catch(() => undefined)));
}

/**
 * The bytes `key`'s real dialer writes first to `to` (frame A with its key, then the signed
 * Syn), as an eavesdropper on the wire would record them: the dial runs over a tapped pipe and
 * is abandoned before any answer.
 */
async function recordSyn(ctx: Context, s: Setup, key: ed25519.PrivateKey, to: Node) {
  const writes: Uint8Array[] = [];
  const [d] = tappedPair({
    d2l: (bytes) => {
      writes.push(bytes.slice());
      return bytes;
    },
  });
  const pending = dial(ctx, s.stream(key, '10.0.0.3'), d, to.pk).catch(() => undefined);
  await ctx.clock.sleep(1);
  d.close();
  await pending;
  const opening = Uint8Array.from(writes.flatMap((w) => [...w]));
  assert.equal(opening.length, 138, 'frame A (33) and the Syn (105)');
  return opening;
}

describe('row 1: a replayed handshake never yields a session (lookup and discovery)', () => {
  // Bites (checked by editing the built JS and restoring it, both flavours fail each time): in
  // build/src/stream/handshake.js, dropping the lower bound of `checkTimestamp` (`t < low ||`)
  // answers the stale replay with a SynAck ("a stale Syn closes at once" fails); skipping the
  // `invalid Syn signature` throw lets the replay to the other listener on ("the other listener
  // closes" fails); in build/src/p2p/authenticated/listener.js, `ipOk` always true loses the
  // `handshake_ip_rate_limited` count.
  const scenario = (flavour: Flavour) => async (ctx: Context, log: discovery.Captured) => {
    const s = setup(ctx, flavour, {
      allowedHandshakeRatePerIp: Quota.withPeriod(PERIOD_MS).allowBurst(3),
    });
    await ready(ctx, s);
    const { target, honest } = s;
    const key = discovery.signer(ATTACKER);
    const ip = lookup.ipOf(ATTACKER);
    const syn = await recordSyn(ctx, s, key, target);
    const failed = () => listenerCount(target, 'handshakes_failed');

    // (a) Inside the window: the target answers with a SynAck, but the replayer has no
    // ephemeral secret, so it cannot confirm: the handshake times out, no session.
    const silent = await rawDial(ctx, ip, target);
    await silent.sink.send(syn);
    const synAck = await silent.stream.recv(138);
    assert.equal(synAck.length, 138, 'a SynAck (2-byte prefix, 136 bytes)');
    assert.ok(await closesWithin(ctx, silent, 5_100), 'closed at the handshake deadline');
    assert.equal(failed(), 1);
    // (a') With a made-up Ack: key confirmation fails at once.
    const guessing = await rawDial(ctx, ip, target);
    await guessing.sink.send([syn, encodeFrame(new Uint8Array(32), 32)]);
    assert.ok(await closesWithin(ctx, guessing, 100), 'closed on the bad Ack');
    assert.equal(failed(), 2);
    assert.ok(!connected(target, key.publicKey), 'no session for the replayed key');

    // (b) After maxHandshakeAgeMs (10 s since the Syn was signed): InvalidTimestamp, no reply.
    await ctx.clock.sleep(10_000);
    const stale = await rawDial(ctx, ip, target);
    await stale.sink.send(syn);
    assert.ok(await closesWithin(ctx, stale, 100), 'a stale Syn closes at once');
    assert.deepEqual(stale.stream.peek(1000), new Uint8Array(0), 'no SynAck');
    assert.equal(failed(), 3);

    // The per-IP limit caps what replays cost: a fourth connection from that IP is refused.
    const capped = await rawDial(ctx, ip, target);
    await capped.sink.send(syn).catch(() => undefined);
    assert.ok(await closesWithin(ctx, capped, 100));
    assert.equal(listenerCount(target, 'handshake_ip_rate_limited'), 1);
    assert.equal(failed(), 3, 'refused before any handshake work');

    // (c) The target's Syn replayed to another listener (the honest peer): the Syn signs the
    // listener's key, so verification fails before any reply.
    const fresh = await recordSyn(ctx, s, key, target);
    const other = await rawDial(ctx, ip, honest);
    await other.sink.send(fresh);
    assert.ok(await closesWithin(ctx, other, 100), 'the other listener closes');
    assert.deepEqual(other.stream.peek(1000), new Uint8Array(0), 'no SynAck');
    assert.equal(listenerCount(honest, 'handshakes_failed'), 1);

    const targetErrors = errors(log, target, 'inbound handshake failed');
    assert.equal(targetErrors.length, 3);
    // The logged errors are StreamErrors (the message is the code when there is no other).
    assert.match(targetErrors[0]!, /^StreamError: HandshakeTimeout$/);
    assert.match(targetErrors[1]!, /^StreamError: Ack confirmation mismatch$/); // HandshakeFailed
    assert.match(targetErrors[2]!, /^StreamError: timestamp \d+ outside/); // InvalidTimestamp
    const otherErrors = errors(log, honest, 'inbound handshake failed');
    assert.deepEqual(otherErrors, ['StreamError: invalid Syn signature']); // HandshakeFailed
    await exchange(ctx, s);
    assert.ok(connected(target, honest), 'the honest peer stayed connected throughout');
    await stop([target, honest]);
    return targetErrors.length;
  };
  eachFlavour(11, scenario);
});

describe('row 2: clock skew (lookup and discovery)', () => {
  // Bites (checked by editing the built build/src/stream/handshake.js and restoring it): making
  // the window's upper end inclusive in `checkTimestamp` (`t > high` for `t >= high`) lets the
  // peer skewed by exactly the bound connect ("never connected" fails, both flavours).
  const BOUND = 5_000;
  const scenario =
    (flavour: Flavour, skew: number, connects: boolean) =>
    async (ctx: Context, log: discovery.Captured) => {
      const s = setup(ctx, flavour);
      await ready(ctx, s);
      const { target, honest } = s;
      const off = s.start(skewed(ctx, skew), ATTACKER);
      const linked = () => connected(target, off) && connected(off, target);
      if (connects) {
        await lookup.until(ctx, linked, `peer at ${skew} ms connects`, { timeoutMs: 10_000 });
      } else {
        await ctx.clock.sleep(10_000);
        assert.ok(!connected(target, off) && !connected(off, target), 'never connected');
        // Whichever side dialed, the side that saw the bad timestamp said so.
        const seen = [
          ...errors(log, target, 'inbound handshake failed'),
          ...errors(log, off, 'inbound handshake failed'),
          ...errors(log, target, 'dial failed'),
          ...errors(log, off, 'dial failed'),
        ];
        assert.ok(
          seen.some((e) => /^StreamError: timestamp \d+ outside/.test(e)),
          `InvalidTimestamp among ${seen}`,
        );
        assert.ok(
          listenerCount(target, 'handshakes_failed') + listenerCount(off, 'handshakes_failed') > 0,
          'failed handshakes counted',
        );
      }
      await exchange(ctx, s);
      assert.ok(connected(target, honest));
      await stop([target, honest, off]);
      return linked();
    };
  for (const flavour of FLAVOURS) {
    test(`${flavour}: ±(bound − 1 ms) connects, ±bound and ±(bound + 1 ms) never do`, async () => {
      for (const [skew, connects] of [
        [BOUND - 1, true],
        [-(BOUND - 1), true],
        [BOUND, false],
        [-BOUND, false],
        [BOUND + 1, false],
        [-(BOUND + 1), false],
      ] as const) {
        await discovery.twiceLogged(20_000 + skew, scenario(flavour, skew, connects));
      }
    });
  }
});

/** Keys (and IPs, `ipOf(i)`) of the attackers of rows 3 and 4: tracked, never started. */
const HOSTILES = [2, 3, 4, 5, 6, 7];

/**
 * An authenticated connection to the target as tracked peer `i` from `ipOf(i)`: a real
 * handshake under the flavour's stream configuration, then the raw connection and session.
 */
async function authenticated(ctx: Context, s: Setup, i: number) {
  const key = lookup.signer(i);
  const ip = lookup.ipOf(i);
  const conn = await rawDial(ctx, ip, s.target);
  const session = await dial(ctx, s.stream(key, ip), conn, s.target.pk);
  // Drain what the target sends, so that only the target's close ends the connection.
  void (async () => {
    for (let k = 0; k < 10_000; k++) await session.receiver.recv();
  })().catch(() => undefined);
  await lookup.until(ctx, () => connected(s.target, key.publicKey), `hostile ${i} connected`, {
    stepMs: 10,
    timeoutMs: 2_000,
  });
  return { key, ip, conn, session, hex: key.publicKey.toHex() };
}

/** `node`'s `messages_received{peer: hex, message: 'invalid'}`. */
function invalid(node: Node, hex: string): number {
  return node.ctx
    .child('network')
    .metrics.counter('messages_received', '', ['peer', 'message'])
    .get({ peer: hex, message: 'invalid' });
}

describe('row 3: malformed frames close the connection, counted invalid (lookup and discovery)', () => {
  // Bites (checked by editing the built build/src/p2p/authenticated/peer/actor.js and restoring
  // it, both flavours fail each time): not counting decode failures (`invalid: () => {}`) fails
  // the `invalid` counts; `continue` instead of the `InvalidChannel` return leaves the
  // connection with data on an unknown channel open.
  const scenario = (flavour: Flavour) => async (ctx: Context, log: discovery.Captured) => {
    const s = setup(ctx, flavour, {}, HOSTILES);
    await ready(ctx, s);
    const { target, honest } = s;
    const data = (channel: number) => Uint8Array.of(0x00, channel, 1, 0xaa);
    // `[what, frames, greeting first]`; discovery's peers greet first unless the case is the
    // missing greeting (lookup has none).
    const cases: [string, (i: number) => Uint8Array[], boolean][] = [
      ['unknown payload tag', () => [Uint8Array.of(0xff, 1, 2, 3)], true],
      ['data frame cut after its tag', () => [Uint8Array.of(0x00)], true],
      ['data on an unknown channel', () => [data(7)], true],
    ];
    if (flavour === 'discovery') {
      cases.push(
        ['data before any greeting', () => [data(0)], false],
        [
          'BitVec whose length is not the set size',
          () => [encodeBitVec(0, BitMap.fromBools([true, false, false]))],
          true,
        ],
      );
    }
    const reasons: string[] = [];
    for (const [k, [what, frames, greet]] of cases.entries()) {
      const i = HOSTILES[k]!;
      const h = await authenticated(ctx, s, i);
      const greeting =
        flavour === 'discovery' && greet
          ? [encodeGreeting(discovery.signedRecord(h.key, `${h.ip}:3000`, ctx.clock.now()))]
          : [];
      await h.session.sender.sendMany([...greeting, ...frames(i)]);
      assert.ok(await closesWithin(ctx, h.conn, 1_000), `${what}: connection closed`);
      if (what.startsWith('BitVec')) {
        // Killed by the tracker, logged with its reason, but counted nowhere (reported: the
        // `invalid` count stays 0 for this one).
        const kills = log.find('killing peer', { peer: h.hex });
        assert.deepEqual(
          kills.map((l) => l.fields.why),
          ['bit vector length does not match the set'],
        );
      } else {
        assert.equal(invalid(target, h.hex), 1, `${what}: counted invalid once`);
      }
      assert.ok(!connected(target, h.key.publicKey), `${what}: no longer connected`);
      reasons.push(errors(log, target, 'peer stopped').at(-1) ?? '');
      await exchange(ctx, s);
    }
    assert.ok(connected(target, honest), 'the honest peer stayed connected throughout');
    await stop([target, honest]);
    return reasons;
  };
  for (const flavour of FLAVOURS) {
    test(flavour, async () => {
      const reasons = await discovery.twiceLogged(31, scenario(flavour));
      // The typed failure each connection's peer actor stopped with.
      const common = ['DecodeFailed', 'DecodeFailed', 'InvalidChannel'];
      const own = flavour === 'discovery' ? ['MissingGreeting', 'PeerKilled'] : [];
      assert.deepEqual(reasons, [...common, ...own]);
    });
  }
});

/** The code of a logged StreamError string (`RecvTooLarge` has its own message). */
function codeOfLogged(err: string): string {
  if (/^StreamError: frame of \d+ bytes exceeds \d+$/.test(err)) return 'RecvTooLarge';
  return err.replace(/^StreamError: /, '');
}

/** The varint prefixes row 4 sends, with the stream error each must give. */
function prefixes(limit: number): [string, Uint8Array, string][] {
  const varint = (n: number) => {
    const out: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      if (v < 128) return Uint8Array.from([...out, v]);
      out.push((v % 128) | 0x80);
    }
  };
  return [
    ['0xFFFFFFFF0F (2^32 - 1)', Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), 'RecvTooLarge'],
    ['a 6-byte varint', Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 'InvalidVarint'],
    ['2^32 (does not fit a u32)', varint(2 ** 32), 'InvalidVarint'],
    ['the limit + 1', varint(limit + 1), 'RecvTooLarge'],
    ['an endless continuation (0x80...)', new Uint8Array(64).fill(0x80), 'InvalidVarint'],
  ];
}

describe('row 4: oversize length prefixes close the connection before allocating (lookup and discovery)', () => {
  // Bites (checked by editing the built build/src/stream/frame.js and restoring it, both
  // flavours fail each time): `checkRecvLimit` never throwing leaves the handshake's 2^32 - 1
  // prefix waiting for its bytes (not closed at once); throwing only for limits under 1000 (the
  // handshake's) leaves the same prefix after the handshake waiting (not closed).
  const scenario = (flavour: Flavour) => async (ctx: Context, log: discovery.Captured) => {
    const s = setup(ctx, flavour, {}, HOSTILES);
    await ready(ctx, s);
    const { target, honest } = s;
    const before = process.memoryUsage().arrayBuffers;
    // (a) In place of frame A (a 32-byte key): counted as failed handshakes.
    const inHandshake = prefixes(32);
    for (const [k, [what, bytes]] of inHandshake.entries()) {
      const conn = await rawDial(ctx, `10.0.9.${k + 1}`, target);
      await conn.sink.send(bytes);
      assert.ok(await closesWithin(ctx, conn, 100), `${what} in the handshake: closed at once`);
      assert.equal(listenerCount(target, 'handshakes_failed'), k + 1);
    }
    const handshakeErrors = errors(log, target, 'inbound handshake failed');
    assert.deepEqual(
      handshakeErrors.map(codeOfLogged),
      inHandshake.map(([, , code]) => code),
    );
    // (b) After the handshake, in place of an encrypted frame's length.
    const limit = s.stream(lookup.signer(0), target.ip).maxMessageSize + 16;
    const after = prefixes(limit);
    for (const [k, [what, bytes]] of after.entries()) {
      const h = await authenticated(ctx, s, HOSTILES[k]!);
      await h.conn.sink.send(bytes);
      assert.ok(await closesWithin(ctx, h.conn, 100), `${what} after the handshake: closed`);
      assert.ok(!connected(target, h.key.publicKey), `${what}: disconnected`);
    }
    const receiveErrors = errors(log, target, 'receive failed');
    assert.deepEqual(
      receiveErrors.map(codeOfLogged),
      after.map(([, , code]) => code),
    );
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 8 << 20, `array buffers grew by ${grown} bytes`);
    await exchange(ctx, s);
    assert.ok(connected(target, honest), 'the honest peer stayed connected throughout');
    await stop([target, honest]);
    return receiveErrors;
  };
  eachFlavour(41, scenario);
});

describe('row 5: slowloris during the handshake (lookup and discovery)', () => {
  // Bites (checked by editing the built JS and restoring it, both flavours fail each time):
  // without the concurrency check in build/src/p2p/authenticated/listener.js the fifth trickler
  // is admitted (no `handshake_concurrent_rate_limited`); with the deadline in `guarded`
  // (build/src/stream/handshake.js) 100 times longer the tricklers are not closed at 5 s.
  const CAP = 4;
  const TIMEOUT = 5_000;
  const scenario = (flavour: Flavour) => async (ctx: Context, log: discovery.Captured) => {
    const s = setup(ctx, flavour, { maxConcurrentHandshakes: CAP, handshakeTimeoutMs: TIMEOUT });
    await ready(ctx, s);
    const { target, honest } = s;
    let peak = 0;
    const watch = ctx.spawn('watch', async (c) => {
      for (let k = 0; k < 1_000 && !c.signal.aborted; k++) {
        peak = Math.max(peak, target.network.handshakesInFlight);
        await c.clock.sleep(50, c.signal).catch(() => undefined);
      }
    });
    // A valid frame A, one byte a second (33 s in all: far beyond the deadline).
    const frameA = encodeFrame(lookup.signer(ATTACKER).publicKey.toBytes(), 32);
    const closedAt: number[] = [];
    const trickle = async (n: number) => {
      const conn = await rawDial(ctx, `10.0.8.${n + 1}`, target);
      const opened = ctx.clock.now();
      void conn.closed.then(() => closedAt.push(ctx.clock.now() - opened));
      return ctx.spawn('slowloris', async (c) => {
        for (const b of frameA) {
          const sent = await conn.sink.send(Uint8Array.of(b)).then(
            () => true,
            () => false,
          );
          if (!sent || c.signal.aborted) return;
          await c.clock.sleep(1_000, c.signal).catch(() => undefined);
        }
      });
    };
    const tricklers = [await trickle(0), await trickle(1), await trickle(2)];
    await ctx.clock.sleep(1_000);
    // An honest peer joining now still connects (one slot is free) and the old one exchanges.
    const joining = s.start(ctx, ATTACKER);
    await lookup.until(ctx, () => connected(target, joining), 'joining peer', { stepMs: 10 });
    await exchange(ctx, s);
    // Fill the last slot; one more is refused by the cap.
    tricklers.push(await trickle(3), await trickle(4));
    await ctx.clock.sleep(10);
    assert.equal(listenerCount(target, 'handshake_concurrent_rate_limited'), 1);
    await ctx.clock.sleep(TIMEOUT);
    await Promise.all(tricklers.map((t) => t.done));
    closedAt.sort((a, b) => a - b);
    assert.equal(closedAt[0], 0, 'the refused one closed at once');
    assert.deepEqual(
      closedAt.slice(1),
      new Array(CAP).fill(TIMEOUT),
      'each closed at the deadline',
    );
    assert.equal(peak, CAP, 'in-flight handshakes never above the cap');
    assert.equal(listenerCount(target, 'handshakes_failed'), CAP);
    const timeouts = errors(log, target, 'inbound handshake failed');
    assert.deepEqual(timeouts, new Array(CAP).fill('StreamError: HandshakeTimeout'));
    await exchange(ctx, s);
    assert.ok(connected(target, honest) && connected(target, joining));
    watch.stop();
    await watch.done;
    await stop([target, honest, joining]);
    return closedAt;
  };
  eachFlavour(51, scenario);
});
