/**
 * Hostile discovery peers: a real authenticated connection (handshake with a tracked key) that
 * then writes chosen frames. Each violation must end the connection with its own reason, be
 * counted once as `invalid`, and leave the target serving honest peers.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BitMap } from '../../../../../src/codec/index.js';
import type { ed25519 } from '../../../../../src/crypto/index.js';
import { parseIngress } from '../../../../../src/p2p/address.js';
import { Info } from '../../../../../src/p2p/authenticated/discovery/info.js';
import {
  encodeBitVec,
  encodeGreeting,
  encodePayload,
  encodePeers,
} from '../../../../../src/p2p/authenticated/discovery/types.js';
import { Recipients } from '../../../../../src/p2p/types.js';
import type { Context } from '../../../../../src/runtime/context.js';
import {
  hostileDial,
  ipOf,
  isConnected,
  NAMESPACE,
  type Peer,
  received,
  signer,
  startPeer,
  stopAll,
  twiceLogged,
  until,
  updates,
} from './helpers.js';

const HOSTILE = 50;
const SYNCHRONY_BOUND_MS = 5_000;

/** `key`'s validly signed record for `ip:3000` at `timestampMs`. */
function record(key: ed25519.PrivateKey, ip: string, timestampMs: number): Info {
  return Info.sign(key, NAMESPACE, parseIngress(`${ip}:3000`), timestampMs);
}

/** What a case writes, given the target and the hostile key's own honest record. */
type Frames = (ctx: Context, target: Peer, own: Info) => Uint8Array[];

const data = encodePayload({ type: 'data', channel: 0, message: Uint8Array.of(1, 2, 3) });

/** `[what, reason, whether it starts with a valid greeting, frames]`. */
const CASES: readonly (readonly [string, string, boolean, Frames])[] = [
  [
    'a greeting whose signature was made by another key',
    'InvalidSignature',
    false,
    (ctx, _t, own) => {
      const forged = record(signer(99), ipOf(HOSTILE), ctx.clock.now());
      return [encodeGreeting(Info.from({ ...forged, publicKey: own.publicKey }))];
    },
  ],
  [
    'a peers message carrying a record whose signature was made by another key',
    'InvalidSignature',
    true,
    (ctx, _t, own) => {
      const forged = record(signer(99), ipOf(2), ctx.clock.now());
      return [
        encodeGreeting(own),
        encodePeers([Info.from({ ...forged, publicKey: signer(2).publicKey })]),
      ];
    },
  ],
  [
    'a peers message carrying a record about the receiver itself',
    'ReceivedSelf',
    true,
    (_c, target, own) => [encodeGreeting(own), encodePeers([target.network.info])],
  ],
  [
    'a greeting dated beyond synchronyBoundMs',
    'SynchronyBound',
    false,
    (ctx) => [
      encodeGreeting(
        record(signer(HOSTILE), ipOf(HOSTILE), ctx.clock.now() + SYNCHRONY_BOUND_MS + 1),
      ),
    ],
  ],
  [
    'a peers message with more than peerGossipMaxCount records',
    // The decoder's count limit rejects it before the verifier sees the records.
    'DecodeFailed',
    true,
    (_c, _t, own) => [encodeGreeting(own), encodePeers(new Array(33).fill(own))],
  ],
  [
    "a greeting holding another tracked peer's genuine record",
    'GreetingMismatch',
    false,
    (ctx) => [encodeGreeting(record(signer(2), ipOf(2), ctx.clock.now()))],
  ],
  ['data before any greeting', 'MissingGreeting', false, () => [data]],
  [
    'a bit vector before any greeting',
    'MissingGreeting',
    false,
    () => [encodeBitVec(0, BitMap.fromBools([true, false, false]))],
  ],
  [
    'a second greeting',
    'DuplicateGreeting',
    true,
    (_c, _t, own) => [encodeGreeting(own), data, encodeGreeting(own)],
  ],
];

describe('discovery network: hostile records and message order (deterministic)', () => {
  for (const [what, code, greeted, frames] of CASES) {
    test(`${what} closes the connection with ${code} and counts one invalid message`, async () => {
      const result = await twiceLogged(61, async (ctx, log) => {
        const target = startPeer(ctx, 0, { overrides: { synchronyBoundMs: SYNCHRONY_BOUND_MS } });
        const hostileKey = signer(HOSTILE);
        const set = [target.pk, hostileKey.publicKey, signer(2).publicKey];
        target.oracle.register(0, set);
        // An honest peer, connected before the attack, must not notice it.
        const honest = startPeer(ctx, 2, { bootstrappers: [target] });
        honest.oracle.register(0, set);
        await until(ctx, () => isConnected(target, honest), 'the honest peer connected');
        const hostile = await hostileDial(ctx, hostileKey, ipOf(HOSTILE), target);
        const own = record(hostileKey, ipOf(HOSTILE), ctx.clock.now());
        await hostile.send(...frames(ctx, target, own));
        let closed = false;
        void hostile.closed.then(() => {
          closed = true;
        });
        await until(ctx, () => closed, 'the target closes the connection', { stepMs: 1 });
        const hex = hostileKey.publicKey.toHex();
        assert.deepEqual(
          log.find('peer exited', { peer: hex }).map((l) => l.fields.reason),
          [code],
          'the connection ended once, with this reason',
        );
        assert.equal(received(target, hex, 'invalid'), 1, 'one invalid message counted');
        // Only a valid greeting's record is taken; nothing from the faulty message.
        assert.equal(updates(target, hostileKey.publicKey), greeted ? 1 : 0);
        assert.ok(isConnected(target, honest) && isConnected(honest, target));
        honest.sender.send(Recipients.one(target.pk), Uint8Array.of(7), false);
        // (Data the hostile peer sent before its violation was delivered; skip it.)
        let [from, message] = await target.receiver.recv();
        while (from.equals(hostileKey.publicKey)) [from, message] = await target.receiver.recv();
        assert.ok(from.equals(honest.pk));
        assert.deepEqual(message, Uint8Array.of(7));
        await stopAll([target, honest]);
        return ctx.clock.now();
      });
      assert.ok(result > 0);
    });
  }
});
