import { describe, test } from 'node:test';
import type { Receiver, Sender } from '../../../../../src/p2p/authenticated/channels.js';
import { Recipients } from '../../../../../src/p2p/types.js';
import { Quota } from '../../../../../src/quota/index.js';
import { assertOwnsBuffer, MARKER } from '../../../../helpers/owned.js';
import { twice } from '../../scenarios.js';
import { entries, fullMesh, type Peer, startPeer, stopAll, until } from './helpers.js';

// One size per allocation path of a plaintext: on the V8 heap, libsodium, OpenSSL (> 16 KiB);
// none has a length varint byte of MARKER or above.
const SIZES = [32, 100, 1024, 20_000];
const ROUNDS = 3;
const QUOTA = Quota.perSecond(100_000);

/** The marker filling the message of `sender` (1 or 2) on `channel` (0 or 1) of size `k`. */
function markerOf(sender: number, channel: number, k: number): number {
  return MARKER + (sender - 1) * 8 + channel * 4 + k;
}

describe('lookup network: a delivered message owns its bytes (deterministic)', () => {
  test('messages from two peers on two channels hold nothing but their own frame', async () => {
    await twice(
      41,
      async (ctx) => {
        const second = new Map<number, [Sender, Receiver]>();
        const peers = [0, 1, 2].map((i) =>
          startPeer(ctx, i, {
            quota: QUOTA,
            overrides: { maxMessageSize: 32 * 1024 },
            beforeStart: (network) => second.set(i, network.register(1, QUOTA)),
          }),
        );
        for (const p of peers) p.oracle.register(0, entries(peers));
        const [p0, p1, p2] = peers as [Peer, Peer, Peer];
        await until(ctx, () => fullMesh(peers), 'full mesh');
        const channels = [
          { sender: (p: Peer) => p.sender, receiver: p0.receiver },
          { sender: (p: Peer) => second.get(p.i)![0], receiver: second.get(0)![1] },
        ];
        // Both senders interleave every size on both channels, so plaintexts of different
        // peers and channels are opened one after the other on p0.
        for (let round = 0; round < ROUNDS; round++) {
          for (const [k, size] of SIZES.entries()) {
            for (const from of [p1, p2]) {
              for (const [channel, c] of channels.entries()) {
                const msg = new Uint8Array(size).fill(markerOf(from.i, channel, k));
                const sent = c.sender(from).send(Recipients.one(p0.pk), msg, false);
                if (sent.length !== 1) throw new Error(`send ${round}/${k} refused`);
              }
            }
          }
          await ctx.clock.sleep(10);
        }
        const order: string[] = [];
        const perChannel = ROUNDS * SIZES.length * 2;
        const kept: [Uint8Array, number, number, string][] = [];
        for (const [channel, c] of channels.entries()) {
          for (let n = 0; n < perChannel; n++) {
            const [pk, msg] = await c.receiver.recv();
            const from = pk.equals(p1.pk) ? 1 : 2;
            const k = SIZES.indexOf(msg.length);
            const what = `channel ${channel}, from p${from}, ${msg.length} B`;
            assertOwnsBuffer(msg, markerOf(from, channel, k), SIZES[k]!, what);
            kept.push([msg, markerOf(from, channel, k), SIZES[k]!, what]);
            order.push(`${channel}:${from}:${msg.length}`);
          }
        }
        // Still intact once every later message was opened.
        for (const [msg, marker, size, what] of kept) assertOwnsBuffer(msg, marker, size, what);
        await stopAll(peers);
        return order;
      },
      { bufferBytes: 256 * 1024 },
    );
  });
});
