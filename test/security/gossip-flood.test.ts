/**
 * Gossip and channel floods from authorized peers (security rows 7 and 11 at the network level),
 * on the deterministic runtime, each scenario run twice for one digest.
 *
 * Gossip floods (discovery): two insiders, tracked keys driving raw connections
 * (`hostileDial`), greet the target properly and then write, at once, 10^4 Peers messages of
 * `peerGossipMaxCount` (32) validly signed records each, and 10^4 BitVecs asking for every
 * record. The target reads each kind at one per half gossip period (2.5 s), the first exempt:
 * over {@link WINDOW_MS} of virtual time the record signatures it verifies
 * (`network_info_verifications{peer}`) never exceed `1 + 32 × (2 + ⌊t / 2500⌋)` at any second
 * `t` of the flood (about 13 per second), it answers no more Peers than it read BitVecs, both
 * insiders are paced (`messages_rate_limited`) and stay connected (a valid flood is no offence:
 * the protocol paces, it does not disconnect), and an honest peer sending 10 messages per second
 * to the target is delivered exactly that, every second, while its own gossip goes on.
 *
 * Unknown-channel floods (lookup and discovery): an insider reconnects 25 times, each time
 * sending data on a channel never registered (a different one each time); every connection is
 * closed and counted `invalid`, and the set of metric series of the target (names and labels,
 * from its Prometheus encoding) after the flood is the one after the fifth such connection.
 *
 * How we know the tests bite (each checked by editing the built JavaScript locally, running this
 * file, then restoring it):
 * - gossip limit off (`gossipQuota` in `discovery/peer/actor.js` set to `Quota.perSecond(1e9)`):
 *   the target verifies the whole flood in the first virtual second and the per-second bound
 *   fails (run with the flood cut to 100 messages for speed: 3,201 verifications after 1 s
 *   against a bound of 65);
 * - a `data_<channel>` label counted for an unknown channel before the connection is closed (in
 *   `peer/actor.js`): the series set grows with each reconnect and the cardinality check fails,
 *   for both flavours.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BitMap } from '../../src/codec/index.js';
import {
  encodeBitVec,
  encodeGreeting,
  encodePayload,
  encodePeers,
} from '../../src/p2p/authenticated/discovery/types.js';
import * as lookupConfig from '../../src/p2p/authenticated/lookup/config.js';
import { streamConfig } from '../../src/p2p/authenticated/network.js';
import { Recipients } from '../../src/p2p/types.js';
import type { Context, Metrics } from '../../src/runtime/context.js';
import { simulatedNetwork } from '../../src/runtime/index.js';
import { dial } from '../../src/stream/index.js';
import {
  counter,
  type Hostile,
  hostileDial,
  ipOf,
  isConnected,
  keys,
  type Peer,
  received,
  signedRecord,
  signer,
  startPeer,
  stopAll,
  until,
} from '../p2p/authenticated/discovery/network/helpers.js';
import * as lookup from '../p2p/authenticated/lookup/network/helpers.js';
import { perSecond, twice } from '../p2p/authenticated/scenarios.js';

const FLOOD = 10_000;
const MAX_COUNT = 32;
const HALF_PERIOD_MS = 2_500; // Config.local: gossipBitVecFrequencyMs / 2
const WINDOW_MS = 60_000;
const HONEST_RATE = 10; // messages per second
const PEERS_FLOODER = 50;
const BITVEC_FLOODER = 51;
const UNKNOWN = 200;

/** `peer`'s `network_<name>{peer, message}` (or `{peer}`) counter value about `of`. */
function count(peer: Peer, name: string, of: string, message?: string): number {
  const labels = message === undefined ? ['peer'] : ['peer', 'message'];
  const c = counter(peer, undefined, name, labels);
  return c.get(message === undefined ? { peer: of } : { peer: of, message });
}

/** The series (names with labels, values stripped) of a Prometheus encoding. */
async function series(metrics: Metrics): Promise<string[]> {
  const text = await metrics.encode();
  return text
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .map((l) => l.slice(0, l.lastIndexOf(' ')))
    .sort();
}

describe('gossip floods from authorized peers (discovery, deterministic)', () => {
  test(`10^4 Peers and 10^4 BitVec messages: verifications bounded by the gossip limit, flooders paced, honest traffic at its rate`, async () => {
    const result = await twice(
      91,
      async (ctx) => {
        const target = startPeer(ctx, 0);
        const honest = startPeer(ctx, 1, { bootstrappers: [target] });
        const pFlooder = signer(PEERS_FLOODER);
        const bFlooder = signer(BITVEC_FLOODER);
        const set = [...keys([target, honest]), pFlooder.publicKey, bFlooder.publicKey];
        for (const p of [target, honest]) p.oracle.register(0, set);
        await until(ctx, () => isConnected(target, honest), 'honest peer connected');
        // The honest peer sends HONEST_RATE messages a second for the whole run.
        const arrivals: number[] = [];
        const recv = ctx.spawn('recv', async () => {
          for (;;) {
            const [from] = await target.receiver.recv().catch(() => [undefined]);
            if (from === undefined) return; // the target stopped
            if (from.equals(honest.pk)) arrivals.push(ctx.clock.now());
          }
        });
        const send = ctx.spawn('send', async (c) => {
          for (let n = 0; n < 1_000 && !c.signal.aborted; n++) {
            honest.sender.send(Recipients.one(target.pk), Uint8Array.of(n & 0xff), false);
            await c.clock.sleep(1000 / HONEST_RATE, c.signal).catch(() => undefined);
          }
        });
        await ctx.clock.sleep(10_000);
        const baseline = perSecond(arrivals, ctx.clock.now() - 10_000, 10);

        const now = ctx.clock.now();
        const records = Array.from({ length: MAX_COUNT }, (_, k) =>
          signedRecord(signer(UNKNOWN + k), `${ipOf(UNKNOWN + k)}:3000`, now),
        );
        const peersFrame = encodePeers(records);
        const askAll = encodeBitVec(0, BitMap.fromBools(set.map(() => false)));
        const p = await hostileDial(ctx, pFlooder, ipOf(PEERS_FLOODER), target);
        const b = await hostileDial(ctx, bFlooder, ipOf(BITVEC_FLOODER), target);
        const start = ctx.clock.now();
        const flood = async (h: Hostile, ip: string, frame: Uint8Array) => {
          await h.send(encodeGreeting(signedRecord(h.key, `${ip}:3000`, now)));
          // The whole flood is written at once (the simulated link holds it all).
          await h.send(...new Array<Uint8Array>(FLOOD).fill(frame));
        };
        await Promise.all([
          flood(p, ipOf(PEERS_FLOODER), peersFrame),
          flood(b, ipOf(BITVEC_FLOODER), askAll),
        ]);
        // Every virtual second: the signatures verified so far stay within the limit.
        const verified = () => count(target, 'info_verifications', pFlooder.publicKey.toHex());
        const samples: number[] = [];
        for (let t = 0; t < WINDOW_MS; t += 1000) {
          const v = verified();
          samples.push(v);
          const bound = 1 + MAX_COUNT * (2 + Math.floor(t / HALF_PERIOD_MS));
          assert.ok(v <= bound, `${v} verifications after ${t} ms exceed ${bound}`);
          await ctx.clock.sleep(1000);
        }
        const elapsed = ctx.clock.now() - start;
        const pHex = pFlooder.publicKey.toHex();
        const bHex = bFlooder.publicKey.toHex();
        const peersRead = received(target, pHex, 'peers');
        const bitVecsRead = received(target, bHex, 'bit_vec');
        const most = 2 + Math.floor(elapsed / HALF_PERIOD_MS);
        assert.ok(peersRead <= most && peersRead >= most - 2, `${peersRead} Peers read`);
        assert.ok(bitVecsRead <= most && bitVecsRead >= most - 2, `${bitVecsRead} BitVecs read`);
        // Each Peers read is verified in full once its turn comes (the last may still wait).
        const v = verified();
        assert.ok(v >= 1 + MAX_COUNT * (peersRead - 1) && v <= 1 + MAX_COUNT * peersRead, `${v}`);
        assert.equal(count(target, 'info_verifications', bHex), 1, 'only its greeting');
        // No amplification: at most one Peers answer per BitVec read.
        const answers = count(target, 'messages_sent', bHex, 'peers');
        assert.ok(answers >= 1 && answers <= bitVecsRead, `${answers} answers`);
        // Both paced, neither disconnected nor counted invalid.
        for (const [hex, message] of [
          [pHex, 'peers'],
          [bHex, 'bit_vec'],
        ] as const) {
          assert.ok(count(target, 'messages_rate_limited', hex, message) >= 1, `${message} paced`);
          assert.equal(received(target, hex, 'invalid'), 0);
          assert.ok(target.network.connectedPeers().some((k) => k.toHex() === hex));
        }
        // The honest peer: connected, its traffic at its rate every second, its gossip going on.
        const during = perSecond(arrivals, start, Math.floor(elapsed / 1000));
        assert.deepEqual(baseline, new Array(10).fill(HONEST_RATE));
        assert.deepEqual(during, new Array(during.length).fill(HONEST_RATE));
        assert.ok(isConnected(target, honest) && isConnected(honest, target));
        assert.ok(received(target, honest.hex, 'bit_vec') >= WINDOW_MS / 5_000);
        assert.ok(count(target, 'info_verifications', honest.hex) <= 2 + WINDOW_MS / 5_000);
        send.stop();
        await send.done;
        // Stopping the target closes its channels, which ends the receiving task.
        await stopAll([target, honest]);
        await recv.done.catch(() => undefined);
        return { samples, peersRead, bitVecsRead, answers, verified: v };
      },
      { bufferBytes: 64 * 1024 * 1024, timeLimitMs: 600_000 },
    );
    console.log(
      `gossip flood: ${FLOOD} Peers (x${MAX_COUNT}) and ${FLOOD} BitVec written; over ${WINDOW_MS} ms the target read ${result.peersRead} Peers and ${result.bitVecsRead} BitVec, verified ${result.verified} signatures (${((result.verified * 1000) / WINDOW_MS).toFixed(1)}/s), answered ${result.answers}`,
    );
  });
});

/** Sends data on an unknown channel from `open()` connections, `rounds` times; returns the series. */
async function unknownChannelFlood(
  ctx: Context,
  open: () => Promise<{ send(frame: Uint8Array): Promise<void>; closed: Promise<void> }>,
  metrics: Metrics,
  invalid: () => number,
  rounds: number,
): Promise<{ first: string[]; last: string[]; connections: number }> {
  let first: string[] = [];
  let connections = 0;
  for (let attempt = 0; connections < rounds && attempt < 20 * rounds; attempt++) {
    let conn: Awaited<ReturnType<typeof open>>;
    try {
      conn = await open();
    } catch {
      // Refused during the handshake: try again shortly.
      await ctx.clock.sleep(250);
      continue;
    }
    const channel = 1_000 + connections * 7919;
    const before = invalid();
    await conn
      .send(encodePayload({ type: 'data', channel, message: Uint8Array.of(1) }))
      .catch(() => undefined);
    await conn.closed;
    await ctx.clock.sleep(10);
    if (invalid() === before) {
      // Closed unread: the handshake completed while the last session's cooldown ran, and the
      // tracker refused the connection. Try again shortly.
      await ctx.clock.sleep(250);
      continue;
    }
    connections++;
    assert.equal(invalid(), connections, 'one invalid per connection');
    // By the fifth connection every series about the insider exists (its `invalid` count, and its
    // `limits` once a reconnection met the cooldown); none may be added after.
    if (connections === 5) first = await series(metrics);
  }
  assert.equal(connections, rounds, 'every flood connection was made');
  return { first, last: await series(metrics), connections };
}

describe('unknown-channel floods keep metric cardinality constant (deterministic)', () => {
  const ROUNDS = 25;

  test('discovery', async () => {
    await twice(
      92,
      async (ctx) => {
        const target = startPeer(ctx, 0);
        const honest = startPeer(ctx, 1, { bootstrappers: [target] });
        const insider = signer(PEERS_FLOODER);
        for (const p of [target, honest])
          p.oracle.register(0, [...keys([target, honest]), insider.publicKey]);
        await until(ctx, () => isConnected(target, honest), 'honest peer connected');
        const hex = insider.publicKey.toHex();
        const own = signedRecord(insider, `${ipOf(PEERS_FLOODER)}:3000`, ctx.clock.now());
        const { first, last, connections } = await unknownChannelFlood(
          ctx,
          async () => {
            const h = await hostileDial(ctx, insider, ipOf(PEERS_FLOODER), target);
            await h.send(encodeGreeting(own));
            return { send: (f) => h.send(f), closed: h.closed };
          },
          target.ctx.metrics,
          () => received(target, hex, 'invalid'),
          ROUNDS,
        );
        assert.equal(connections, ROUNDS);
        assert.deepEqual(last, first, 'the same series after 5 and after 25 unknown channels');
        assert.ok(isConnected(target, honest), 'the honest peer is unaffected');
        await stopAll([target, honest]);
        return last.length;
      },
      { timeLimitMs: 600_000 },
    );
  });

  test('lookup', async () => {
    await twice(
      93,
      async (ctx) => {
        const target = lookup.startPeer(ctx, 0);
        const honest = lookup.startPeer(ctx, 1);
        const insiderIp = lookup.ipOf(PEERS_FLOODER);
        const insider = lookup.signer(PEERS_FLOODER);
        for (const p of [target, honest]) {
          p.oracle.register(0, [
            ...lookup.entries([target, honest]),
            [insider.publicKey, `${insiderIp}:3000`],
          ]);
        }
        await until(ctx, () => lookup.isConnected(target, honest), 'honest peer connected');
        // The honest peer's series are all there once a ping went each way.
        const pings = (m: string) =>
          lookup
            .counter(target, undefined, m, ['peer', 'message'])
            .get({ peer: honest.hex, message: 'ping' });
        await until(
          ctx,
          () => pings('messages_received') > 0 && pings('messages_sent') > 0,
          'pings',
        );
        const hex = insider.publicKey.toHex();
        const config = lookupConfig.Config.local({
          signer: insider,
          namespace: lookup.NAMESPACE,
          listen: `${insiderIp}:3000`,
          maxPeersPerSet: 32,
          maxMessageSize: 1024,
        });
        const { first, last } = await unknownChannelFlood(
          ctx,
          async () => {
            const conn = await simulatedNetwork(ctx)
              .host(insiderIp)
              .dial({ ip: target.ip, port: 3000 });
            const session = await dial(ctx, streamConfig(config), conn, target.pk);
            const closed = (async () => {
              for (;;) await session.receiver.recv();
            })().catch(() => undefined);
            return { send: (f) => session.sender.sendMany([f]), closed };
          },
          target.ctx.metrics,
          () =>
            lookup.counter(target, undefined, 'messages_received', ['peer', 'message']).get({
              peer: hex,
              message: 'invalid',
            }),
          ROUNDS,
        );
        assert.deepEqual(last, first, 'the same series after 5 and after 25 unknown channels');
        assert.ok(lookup.isConnected(target, honest), 'the honest peer is unaffected');
        await lookup.stopAll([target, honest]);
        return last.length;
      },
      { timeLimitMs: 600_000 },
    );
  });
});
