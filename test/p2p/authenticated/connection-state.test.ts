/**
 * `network.connected()` and `network.events()` (API.md "Connection state"), both flavours, on
 * the deterministic runtime.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectionEvent } from '../../../src/p2p/events.js';
import type { Context } from '../../../src/runtime/context.js';
import * as disc from './discovery/network/helpers.js';
import * as look from './lookup/network/helpers.js';
import { twice } from './scenarios.js';

interface Node {
  readonly hex: string;
  readonly pk: disc.Peer['pk'];
  readonly network: {
    connected(): disc.Peer['pk'][];
    events(): AsyncIterableIterator<ConnectionEvent>;
  };
  readonly oracle: { block(pk: disc.Peer['pk']): unknown };
  readonly handle: disc.Peer['handle'];
}

/** Starts three peers of a flavour, all in set 0. */
type Start = (ctx: Context) => Node[];

const flavours: [string, Start][] = [
  [
    'lookup',
    (ctx) => {
      const peers = [0, 1, 2].map((i) =>
        look.startPeer(ctx, i, { overrides: { blockDurationMs: 5_000 } }),
      );
      for (const p of peers) p.oracle.register(0, look.entries(peers));
      return peers;
    },
  ],
  [
    'discovery',
    (ctx) => {
      const boot = disc.startPeer(ctx, 0, { overrides: { blockDurationMs: 5_000 } });
      const peers = [
        boot,
        ...[1, 2].map((i) =>
          disc.startPeer(ctx, i, { bootstrappers: [boot], overrides: { blockDurationMs: 5_000 } }),
        ),
      ];
      for (const p of peers) p.oracle.register(0, disc.keys(peers));
      return peers;
    },
  ],
];

/** Reads `stream` until `pred` holds for an event; returns every event read. */
async function readUntil(
  stream: AsyncIterableIterator<ConnectionEvent>,
  pred: (e: ConnectionEvent) => boolean,
): Promise<ConnectionEvent[]> {
  const seen: ConnectionEvent[] = [];
  for (;;) {
    const r = await stream.next();
    assert.equal(r.done, false, `stream ended before the event; saw ${seen.map((e) => e.kind)}`);
    seen.push(r.value);
    if (pred(r.value)) return seen;
  }
}

for (const [name, start] of flavours) {
  describe(`${name}: connected() and events()`, () => {
    test('connected, blocked, disconnected, unblocked and reconnected, in that order', async () => {
      const result = await twice(61, async (ctx) => {
        const peers = start(ctx);
        const stream = peers[0]!.network.events();
        const [a, b, c] = peers as [Node, Node, Node];
        const hexes = (ks: Node['pk'][]) => ks.map((k) => k.toHex()).sort();
        // Both others connect; 'connected' is emitted once the peer is in connected().
        const connected = new Set<string>();
        await readUntil(stream, (e) => {
          assert.equal(e.kind, 'connected');
          assert.ok(
            a.network.connected().some((k) => k.equals(e.peer)),
            'an announced peer is in connected()',
          );
          connected.add(e.peer.toHex());
          return connected.size === 2;
        });
        assert.deepEqual(hexes(a.network.connected()), [b.hex, c.hex].sort());
        // Blocking b: 'blocked', then b's connection ends.
        const t0 = ctx.clock.now();
        a.oracle.block(b.pk);
        const seen = await readUntil(stream, (e) => e.kind === 'disconnected');
        assert.deepEqual(
          seen.map((e) => [e.kind, e.peer.toHex()]),
          [
            ['blocked', b.hex],
            ['disconnected', b.hex],
          ],
        );
        assert.equal(typeof seen[1]!.reason, 'string', 'a disconnection says why');
        assert.deepEqual(hexes(a.network.connected()), [c.hex]);
        // The block expires, and b connects again.
        const after = await readUntil(stream, (e) => e.kind === 'connected');
        assert.deepEqual(
          after.map((e) => [e.kind, e.peer.toHex()]),
          [
            ['unblocked', b.hex],
            ['connected', b.hex],
          ],
        );
        assert.ok(after[0]!.at >= t0 + 5_000, 'unblocked when the block expired');
        // Stopping the network ends the stream and empties connected().
        for (const p of peers) p.handle.stop();
        await Promise.all(peers.map((p) => p.handle.done));
        for (;;) {
          const r = await stream.next();
          if (r.done === true) break;
        }
        assert.deepEqual(a.network.connected(), []);
        assert.equal((await a.network.events().next()).done, true);
        return after[0]!.at - t0;
      });
      assert.ok(result >= 5_000);
    });
  });
}
