import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type ed25519, Transcript } from '../../src/crypto/index.js';
import type { Context } from '../../src/runtime/index.js';
import { deterministicRuntime, simulatedNetwork } from '../../src/runtime/index.js';
import { encodeFrame } from '../../src/stream/frame.js';
import { type Bouncer, type Config, dial, listen, type Session } from '../../src/stream/index.js';
import { encodeSyn, encodeSynAck, encodeTimestamp } from '../../src/stream/messages.js';
import {
  codeOf,
  config,
  DIALER_KEY,
  LISTENER_KEY,
  OTHER_KEY,
  type Outcome,
  outcome,
  Pipe,
  pipePair,
  skewed,
  type TapAction,
  tappedPair,
} from './helpers.js';

const utf8 = new TextEncoder();
const accept: Bouncer = () => true;

async function run<T>(fn: (ctx: Context) => Promise<T>, seed = 1): Promise<T> {
  return (await deterministicRuntime({ seed }).run(fn)).result;
}

interface Both {
  dialer: Outcome<Session>;
  listener: Outcome<Session>;
}

/** Runs both sides of a handshake over the given pipes. */
async function handshake(
  ctx: Context,
  d: Pipe,
  l: Pipe,
  opts: {
    dialerConfig?: Config;
    listenerConfig?: Config;
    dialerCtx?: Context;
    listenerCtx?: Context;
    expected?: ed25519.PublicKey;
    bouncer?: Bouncer;
  } = {},
): Promise<Both> {
  const [dialer, listener] = await Promise.all([
    outcome(
      dial(
        opts.dialerCtx ?? ctx,
        opts.dialerConfig ?? config(DIALER_KEY),
        d,
        opts.expected ?? LISTENER_KEY.publicKey,
      ),
    ),
    outcome(
      listen(
        opts.listenerCtx ?? ctx,
        opts.listenerConfig ?? config(LISTENER_KEY),
        l,
        opts.bouncer ?? accept,
      ),
    ),
  ]);
  return { dialer, listener };
}

async function roundTrip(a: Session, b: Session): Promise<void> {
  const msg = utf8.encode('ping');
  await a.sender.send(msg);
  assert.deepEqual(await b.receiver.recv(), msg);
  const reply = utf8.encode('pong');
  await b.sender.send(reply);
  assert.deepEqual(await a.receiver.recv(), reply);
}

/** The standard handshake transcript prefix. */
function transcript(ns: Uint8Array): Transcript {
  return Transcript.new(ns).fork(utf8.encode('_COMMONWARE_CRYPTOGRAPHY_HANDSHAKE'));
}

const EMPTY = new Uint8Array(0);

/** Records the dialer's first write (frame A + Syn) and its Ack from an honest handshake. */
async function recordHonest(ctx: Context): Promise<{ opening: Uint8Array; ack: Uint8Array }> {
  const writes: Uint8Array[] = [];
  const [d, l] = tappedPair({
    d2l: (bytes) => {
      writes.push(bytes);
      return bytes;
    },
  });
  const r = await handshake(ctx, d, l);
  assert.ok(r.dialer.ok && r.listener.ok);
  d.close();
  return { opening: writes[0]!, ack: writes[1]! };
}

// The X25519 points of small order (and non-canonical encodings of them), as listed by
// libsodium and the Tendermint SecretConnection fix.
const LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));

describe('stream handshake', () => {
  it('authenticates both ends and carries messages both ways', async () => {
    await run(async (ctx) => {
      const [d, l] = pipePair();
      const r = await handshake(ctx, d, l);
      assert.ok(r.dialer.ok && r.listener.ok);
      assert.ok(r.dialer.value.peer.equals(LISTENER_KEY.publicKey));
      assert.ok(r.listener.value.peer.equals(DIALER_KEY.publicKey));
      // The exact handshake bytes: 33 + 105 + 33 from the dialer, 138 from the listener.
      assert.deepEqual(d.writes, [33 + 105, 33]);
      assert.deepEqual(l.writes, [138]);
      await roundTrip(r.dialer.value, r.listener.value);
      // 'ping' as one frame: varint(4 + 16) || 4 bytes || 16-byte tag.
      assert.deepEqual(d.writes, [33 + 105, 33, 21]);
    });
  });

  it('completes over the runtime network with link delay', async () => {
    await run(async (ctx) => {
      simulatedNetwork(ctx).setDefaultLinkDelay(25);
      const server = await ctx.network.bind({ ip: '127.0.0.1', port: 4000 });
      const accepted = (async () =>
        listen(ctx, config(LISTENER_KEY), await server.accept(), accept))();
      const conn = await ctx.network.dial(server.address);
      const start = ctx.clock.now();
      const client = await dial(ctx, config(DIALER_KEY), conn, LISTENER_KEY.publicKey);
      const session = await accepted;
      // One round trip for the dialer (Syn out, SynAck back), one and a half for the listener.
      assert.equal(ctx.clock.now() - start, 75);
      await roundTrip(client, session);
      conn.close();
      server.close();
    });
  });

  it('is deterministic: the same seed gives the same run digest', async () => {
    const scenario = async (ctx: Context) => {
      const server = await ctx.network.bind({ ip: '127.0.0.1', port: 4001 });
      const accepted = (async () =>
        listen(ctx, config(LISTENER_KEY), await server.accept(), accept))();
      const conn = await ctx.network.dial(server.address);
      const client = await dial(ctx, config(DIALER_KEY), conn, LISTENER_KEY.publicKey);
      const session = await accepted;
      await client.sender.sendMany([utf8.encode('a'), utf8.encode('b')]);
      await session.receiver.recv();
      await session.receiver.recv();
      conn.close();
      server.close();
    };
    const a = await deterministicRuntime({ seed: 9 }).run(scenario);
    const b = await deterministicRuntime({ seed: 9 }).run(scenario);
    const c = await deterministicRuntime({ seed: 10 }).run(scenario);
    assert.equal(a.digest, b.digest);
    // Another seed draws other ephemeral keys, so other bytes cross the network.
    assert.notEqual(a.digest, c.digest);
  });

  it('derives distinct keys per direction and per session', async () => {
    await run(async (ctx) => {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 2; i++) {
        const [d, l] = tappedPair({
          d2l: (b, off) => {
            if (off >= 171) frames.push(b);
            return b;
          },
          l2d: (b, off) => {
            if (off >= 138) frames.push(b);
            return b;
          },
        });
        const r = await handshake(ctx, d, l);
        assert.ok(r.dialer.ok && r.listener.ok);
        const zero = new Uint8Array(32);
        await r.dialer.value.sender.send(zero);
        await r.listener.value.sender.send(zero);
        await r.listener.value.receiver.recv();
        await r.dialer.value.receiver.recv();
      }
      // Same plaintext, same nonce (0), four different ciphertexts: four different keys.
      const hexes = new Set(frames.map((f) => Buffer.from(f).toString('hex')));
      assert.equal(frames.length, 4);
      assert.equal(hexes.size, 4);
    });
  });

  it('fails on mismatched namespaces (the Syn does not verify)', async () => {
    await run(async (ctx) => {
      const [d, l] = pipePair();
      const r = await handshake(ctx, d, l, {
        dialerConfig: config(DIALER_KEY, { namespace: utf8.encode('a_STREAM') }),
        listenerConfig: config(LISTENER_KEY, { namespace: utf8.encode('b_STREAM') }),
      });
      assert.ok(!r.listener.ok && r.listener.code === 'HandshakeFailed');
      assert.ok(!r.dialer.ok);
      assert.deepEqual(l.writes, [], 'the listener sends nothing back');
      assert.ok(d.isClosed && l.isClosed);
    });
  });

  it('fails when the dialer expects another listener key', async () => {
    await run(async (ctx) => {
      const [d, l] = pipePair();
      const r = await handshake(ctx, d, l, { expected: OTHER_KEY.publicKey });
      assert.ok(!r.listener.ok && r.listener.code === 'HandshakeFailed');
      assert.ok(!r.dialer.ok);
    });
  });

  it('fails when the listener holds another key than the one dialed', async () => {
    await run(async (ctx) => {
      const [d, l] = pipePair();
      const r = await handshake(ctx, d, l, { listenerConfig: config(OTHER_KEY) });
      assert.ok(!r.listener.ok && r.listener.code === 'HandshakeFailed');
      assert.ok(!r.dialer.ok);
    });
  });

  describe('replayed Syn', () => {
    it('inside the window earns a SynAck but never a session', async () => {
      await run(async (ctx) => {
        const { opening, ack } = await recordHonest(ctx);
        // (a) The replayer cannot answer the SynAck: it times out.
        const p1 = new Pipe();
        p1.push(opening);
        const silent = await outcome(listen(ctx, config(LISTENER_KEY), p1, accept));
        assert.ok(!silent.ok && silent.code === 'HandshakeTimeout');
        assert.deepEqual(p1.writes, [138], 'a SynAck was sent');
        // (b) Replaying the recorded Ack too fails the key confirmation: new ephemeral keys.
        const p2 = new Pipe();
        p2.push(opening);
        p2.push(ack);
        const replayed = await outcome(listen(ctx, config(LISTENER_KEY), p2, accept));
        assert.ok(!replayed.ok && replayed.code === 'HandshakeFailed');
        assert.ok(p2.isClosed);
      });
    });

    it('outside the window fails with InvalidTimestamp before any reply', async () => {
      await run(async (ctx) => {
        const { opening } = await recordHonest(ctx);
        // Exactly maxHandshakeAge old: still accepted (the window includes its lower end).
        await ctx.clock.sleep(10_000);
        const atBound = new Pipe();
        atBound.push(opening);
        const edge = await outcome(listen(ctx, config(LISTENER_KEY), atBound, accept));
        assert.ok(!edge.ok && edge.code === 'HandshakeTimeout');
        assert.deepEqual(atBound.writes, [138]);
        // One ms older than that (the timeout above advanced the clock further): rejected.
        const late = new Pipe();
        late.push(opening);
        const stale = await outcome(listen(ctx, config(LISTENER_KEY), late, accept));
        assert.ok(!stale.ok && stale.code === 'InvalidTimestamp');
        assert.deepEqual(late.writes, []);
      });
    });

    it('to another listener fails verification (the Syn signs the listener key)', async () => {
      await run(async (ctx) => {
        const { opening } = await recordHonest(ctx);
        const p = new Pipe();
        p.push(opening);
        const r = await outcome(listen(ctx, config(OTHER_KEY), p, accept));
        assert.ok(!r.ok && r.code === 'HandshakeFailed');
        assert.deepEqual(p.writes, []);
      });
    });

    it('under another namespace fails verification', async () => {
      await run(async (ctx) => {
        const { opening } = await recordHonest(ctx);
        const p = new Pipe();
        p.push(opening);
        const other = config(LISTENER_KEY, { namespace: utf8.encode('other_STREAM') });
        const r = await outcome(listen(ctx, other, p, accept));
        assert.ok(!r.ok && r.code === 'HandshakeFailed');
      });
    });
  });

  describe('clock skew', () => {
    // Listener accepts t_d iff -age <= skew < bound; the dialer accepts t_l iff -bound < skew <= age.
    async function skewRun(skew: number, bound: number, age: number): Promise<Both> {
      return run(async (ctx) => {
        const [d, l] = pipePair();
        return handshake(ctx, d, l, {
          dialerCtx: skewed(ctx, skew),
          dialerConfig: config(DIALER_KEY, { synchronyBoundMs: bound, maxHandshakeAgeMs: age }),
          listenerConfig: config(LISTENER_KEY, { synchronyBoundMs: bound, maxHandshakeAgeMs: age }),
        });
      });
    }

    it('accepts a dialer clock ahead by bound - 1 and rejects it at exactly the bound', async () => {
      assert.ok((await skewRun(4_999, 5_000, 10_000)).listener.ok);
      const r = await skewRun(5_000, 5_000, 10_000);
      assert.ok(!r.listener.ok && r.listener.code === 'InvalidTimestamp');
      assert.ok(!r.dialer.ok);
    });

    it('accepts a dialer clock behind by bound - 1 and the dialer rejects at exactly the bound', async () => {
      assert.ok((await skewRun(-4_999, 5_000, 10_000)).dialer.ok);
      const r = await skewRun(-5_000, 5_000, 10_000);
      assert.ok(!r.dialer.ok && r.dialer.code === 'InvalidTimestamp');
      assert.ok(!r.listener.ok);
    });

    it('enforces the age bound on the listener (dialer behind) at max age and max age + 1', async () => {
      const ok = await skewRun(-2_000, 5_000, 2_000);
      assert.ok(ok.listener.ok && ok.dialer.ok);
      const r = await skewRun(-2_001, 5_000, 2_000);
      assert.ok(!r.listener.ok && r.listener.code === 'InvalidTimestamp');
    });

    it('enforces the age bound on the dialer (dialer ahead) at max age and max age + 1', async () => {
      const ok = await skewRun(2_000, 5_000, 2_000);
      assert.ok(ok.listener.ok && ok.dialer.ok);
      const r = await skewRun(2_001, 5_000, 2_000);
      assert.ok(!r.dialer.ok && r.dialer.code === 'InvalidTimestamp');
      assert.ok(!r.listener.ok);
    });

    it('connects exactly when the skew is inside both windows', async () => {
      for (const skew of [-3_001, -3_000, -1, 0, 1, 2_999, 3_000]) {
        const r = await skewRun(skew, 3_000, 7_000);
        const expected = skew > -3_000 && skew < 3_000;
        assert.equal(r.dialer.ok && r.listener.ok, expected, `skew ${skew}`);
      }
    });
  });

  describe('bouncer', () => {
    it('rejects before any cryptography: only frame A is read', async () => {
      await run(async (ctx) => {
        const [d, l] = pipePair();
        const seen: string[] = [];
        const r = await handshake(ctx, d, l, {
          bouncer: async (pk) => {
            seen.push(pk.toHex());
            return false;
          },
        });
        assert.ok(!r.listener.ok && r.listener.code === 'PeerRejected');
        assert.ok(!r.dialer.ok);
        assert.deepEqual(seen, [DIALER_KEY.publicKey.toHex()]);
        assert.equal(l.consumed, 33, 'the Syn was never read');
        assert.deepEqual(l.writes, []);
      });
    });

    it('a bouncer that never answers is cut off by the deadline', async () => {
      await run(async (ctx) => {
        const [d, l] = pipePair();
        const start = ctx.clock.now();
        const r = await handshake(ctx, d, l, { bouncer: () => new Promise<boolean>(() => {}) });
        assert.ok(!r.listener.ok && r.listener.code === 'HandshakeTimeout');
        assert.equal(ctx.clock.now() - start, 5_000);
        assert.ok(l.isClosed);
      });
    });
  });

  describe('low-order ephemeral keys', () => {
    it('the listener refuses a validly signed Syn carrying a low-order key', async () => {
      await run(async (ctx) => {
        for (const point of LOW_ORDER) {
          const t = transcript(config(DIALER_KEY).namespace);
          const time = encodeTimestamp(BigInt(ctx.clock.now()));
          t.commit(time).commit(LISTENER_KEY.publicKey.toBytes()).commit(point);
          const signature = DIALER_KEY.sign(EMPTY, t.summarize());
          const syn = encodeSyn({
            timestamp: BigInt(ctx.clock.now()),
            ephemeral: point,
            signature,
          });
          const p = new Pipe();
          p.push(encodeFrame(DIALER_KEY.publicKey.toBytes(), 32));
          p.push(encodeFrame(syn, 104));
          const r = await outcome(listen(ctx, config(LISTENER_KEY), p, accept));
          assert.ok(!r.ok && r.code === 'HandshakeFailed');
          assert.deepEqual(p.writes, [], 'no SynAck (and no signature) for a low-order key');
        }
      });
    });

    it('the dialer refuses a validly signed SynAck carrying a low-order key', async () => {
      await run(async (ctx) => {
        for (const point of LOW_ORDER) {
          const ns = config(DIALER_KEY).namespace;
          const [d, l] = tappedPair({});
          // A malicious listener: reads the opening, answers with a signed low-order SynAck.
          const pending = outcome(dial(ctx, config(DIALER_KEY), d, LISTENER_KEY.publicKey));
          await l.stream.recv(33);
          const synBytes = (await l.stream.recv(105)).subarray(1);
          const t = transcript(ns);
          t.commit(synBytes.subarray(0, 8));
          t.commit(LISTENER_KEY.publicKey.toBytes());
          t.commit(synBytes.subarray(8, 40));
          t.commit(DIALER_KEY.publicKey.toBytes());
          const now = BigInt(ctx.clock.now());
          t.commit(encodeTimestamp(now)).commit(point);
          const signature = LISTENER_KEY.sign(EMPTY, t.summarize());
          const synAck = encodeSynAck({
            timestamp: now,
            ephemeral: point,
            signature,
            confirmation: new Uint8Array(32),
          });
          await l.sink.send(encodeFrame(synAck, 136));
          const r = await pending;
          assert.ok(!r.ok && r.code === 'HandshakeFailed');
          assert.deepEqual(d.writes, [138], 'no Ack');
        }
      });
    });
  });

  describe('man in the middle', () => {
    // d2l: frame A [0,33) + Syn [33,138) + Ack [138,171); l2d: SynAck [0,138).
    const D2L = 171;
    const L2D = 138;

    function flipAt(position: number, mask: number) {
      return (bytes: Uint8Array, offset: number): TapAction => {
        if (position < offset || position >= offset + bytes.length) return bytes;
        const out = bytes.slice();
        out[position - offset]! ^= mask;
        return out;
      };
    }

    it('a flipped bit anywhere in frame A, Syn or Ack prevents any listener session', async () => {
      await run(async (ctx) => {
        for (let pos = 0; pos < D2L; pos++) {
          const [d, l] = tappedPair({ d2l: flipAt(pos, 1 << (pos % 8)) });
          const r = await handshake(ctx, d, l);
          assert.ok(!r.listener.ok, `listener accepted with byte ${pos} flipped`);
          if (pos < 138) assert.ok(!r.dialer.ok, `dialer accepted with byte ${pos} flipped`);
          assert.ok(d.isClosed || l.isClosed);
        }
      });
    });

    it('a flipped bit anywhere in the SynAck prevents any session', async () => {
      await run(async (ctx) => {
        for (let pos = 0; pos < L2D; pos++) {
          const [d, l] = tappedPair({ l2d: flipAt(pos, 0x80 >> (pos % 8)) });
          const r = await handshake(ctx, d, l);
          assert.ok(!r.dialer.ok, `dialer accepted with SynAck byte ${pos} flipped`);
          assert.ok(!r.listener.ok, `listener accepted with SynAck byte ${pos} flipped`);
          assert.deepEqual(d.writes, [138], 'the dialer never sends an Ack');
        }
      });
    });

    it('XOR corruption of the handshake bytes fails exactly when the mask is nonzero', async () => {
      // A port of commonware's stream/fuzz e2e target: corrupt any bytes of either direction.
      const corruption = fc.record({
        d2l: fc.uint8Array({ minLength: D2L, maxLength: D2L }),
        l2d: fc.uint8Array({ minLength: L2D, maxLength: L2D }),
        sparse: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(corruption, async ({ d2l, l2d, sparse }) => {
          // Sparse masks keep only a few nonzero bytes, so single-field corruptions are common.
          if (sparse) {
            for (const m of [d2l, l2d])
              for (let i = 0; i < m.length; i++) if (m[i]! % 16 !== 0) m[i] = 0;
          }
          const xor =
            (mask: Uint8Array) =>
            (bytes: Uint8Array, offset: number): TapAction => {
              const out = bytes.slice();
              for (let i = 0; i < out.length; i++) out[i]! ^= mask[offset + i] ?? 0;
              return out;
            };
          const corruptsHandshake = d2l.some((b) => b !== 0) || l2d.some((b) => b !== 0);
          return run(async (ctx) => {
            const [d, l] = tappedPair({ d2l: xor(d2l), l2d: xor(l2d) });
            const r = await handshake(ctx, d, l);
            return r.listener.ok === !corruptsHandshake;
          });
        }),
        { seed: 42, numRuns: 60 },
      );
    });

    it('swapping the SynAcks of two concurrent handshakes fails both', async () => {
      await run(async (ctx) => {
        const held: { bytes: Uint8Array; deliver: (b: Uint8Array) => void }[] = [];
        const pairs: [Pipe, Pipe][] = [];
        for (let i = 0; i < 2; i++) {
          const [d, l] = tappedPair({});
          // Intercept the listener's SynAck and deliver the other session's instead.
          l.output = (bytes) => {
            held.push({ bytes, deliver: (b) => d.push(b) });
            if (held.length === 2) {
              held[0]!.deliver(held[1]!.bytes);
              held[1]!.deliver(held[0]!.bytes);
            }
          };
          pairs.push([d, l]);
        }
        const results = await Promise.all(pairs.map(([d, l]) => handshake(ctx, d, l)));
        for (const r of results) {
          assert.ok(!r.dialer.ok && r.dialer.code === 'HandshakeFailed');
          assert.ok(!r.listener.ok);
        }
      });
    });

    it('truncating any handshake message at any offset fails promptly, without a session', async () => {
      await run(async (ctx) => {
        const cases: { dir: 'd2l' | 'l2d'; start: number; end: number }[] = [
          { dir: 'd2l', start: 0, end: 33 },
          { dir: 'd2l', start: 33, end: 138 },
          { dir: 'l2d', start: 0, end: 138 },
          { dir: 'd2l', start: 138, end: 171 },
        ];
        for (const { dir, start, end } of cases) {
          for (let cut = start; cut < end; cut++) {
            // Forward everything before `cut`, then cut the connection.
            const tap = (bytes: Uint8Array, offset: number): TapAction =>
              offset + bytes.length <= cut
                ? bytes
                : { cutAfter: bytes.subarray(0, Math.max(0, cut - offset)) };
            const [d, l] = tappedPair(dir === 'd2l' ? { d2l: tap } : { l2d: tap });
            const t0 = ctx.clock.now();
            const r = await handshake(ctx, d, l);
            assert.ok(!r.listener.ok, `${dir} cut at ${cut}: listener session`);
            if (!(dir === 'd2l' && start === 138)) assert.ok(!r.dialer.ok, `${dir} cut at ${cut}`);
            assert.notEqual(!r.listener.ok && r.listener.code, 'HandshakeTimeout');
            assert.equal(ctx.clock.now(), t0, 'no waiting for a deadline');
          }
        }
      });
    });
  });

  describe('deadline', () => {
    it('a slowloris dialer is closed at the deadline while an honest one completes', async () => {
      await run(async (ctx) => {
        const server = await ctx.network.bind({ ip: '127.0.0.1', port: 4100 });
        const lc = config(LISTENER_KEY);
        const serve = async () => outcome(listen(ctx, lc, await server.accept(), accept));
        const slowServed = serve();
        const slow = await ctx.network.dial(server.address);
        const honestServed = serve();
        const start = ctx.clock.now();
        // Trickle a valid frame A one byte per second.
        const frameA = encodeFrame(DIALER_KEY.publicKey.toBytes(), 32);
        const trickle = ctx.spawn('slowloris', async () => {
          try {
            for (const b of frameA) {
              await slow.sink.send(Uint8Array.of(b));
              await ctx.clock.sleep(1_000);
            }
          } catch {
            // The listener closed the connection at its deadline.
          }
        });
        await ctx.clock.sleep(1_500);
        const honestConn = await ctx.network.dial(server.address);
        const honest = await dial(ctx, config(DIALER_KEY), honestConn, LISTENER_KEY.publicKey);
        const served = await honestServed;
        assert.ok(served.ok);
        await roundTrip(honest, served.value);
        const slowResult = await slowServed;
        assert.ok(!slowResult.ok && slowResult.code === 'HandshakeTimeout');
        assert.equal(ctx.clock.now() - start, 5_000);
        await slow.closed;
        await trickle.done;
        honestConn.close();
        server.close();
      });
    });

    it('a silent listener makes the dialer time out and close, with no unhandled rejection', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown) => unhandled.push(e);
      process.on('unhandledRejection', onUnhandled);
      try {
        await run(async (ctx) => {
          const p = new Pipe();
          const start = ctx.clock.now();
          const r = await outcome(dial(ctx, config(DIALER_KEY), p, LISTENER_KEY.publicKey));
          assert.ok(!r.ok && r.code === 'HandshakeTimeout');
          assert.equal(ctx.clock.now() - start, 5_000);
          assert.ok(p.isClosed);
        });
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(unhandled, []);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('stopping the context ends the handshake with the abort reason', async () => {
      await run(async (ctx) => {
        const p = new Pipe();
        const h = ctx.spawn('dialer', (child) =>
          dial(child, config(DIALER_KEY), p, LISTENER_KEY.publicKey),
        );
        await ctx.clock.sleep(10);
        h.stop(new Error('shutdown'));
        assert.equal(await h.done, undefined);
        assert.ok(p.isClosed);
      });
    });
  });

  describe('oversize handshake frames', () => {
    it('the listener rejects a frame A longer than a key', async () => {
      await run(async (ctx) => {
        const p = new Pipe();
        p.push(encodeFrame(new Uint8Array(33), 33));
        assert.equal(await codeOf(listen(ctx, config(LISTENER_KEY), p, accept)), 'RecvTooLarge');
      });
    });

    it('the dialer rejects a SynAck prefix one over 136', async () => {
      await run(async (ctx) => {
        const [d, l] = tappedPair({});
        const pending = codeOf(dial(ctx, config(DIALER_KEY), d, LISTENER_KEY.publicKey));
        await l.stream.recv(138);
        await l.sink.send(Uint8Array.of(0x89, 0x01));
        assert.equal(await pending, 'RecvTooLarge');
      });
    });

    it('an invalid public key in frame A fails', async () => {
      await run(async (ctx) => {
        const p = new Pipe();
        // y = 2 does not decode to a curve point.
        const bad = new Uint8Array(32);
        bad[0] = 2;
        p.push(encodeFrame(bad, 32));
        assert.equal(await codeOf(listen(ctx, config(LISTENER_KEY), p, accept)), 'HandshakeFailed');
      });
    });
  });
});
