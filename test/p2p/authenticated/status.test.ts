/**
 * `network.status()`: the tracker's page joined with the traffic totals, both flavours, on the
 * deterministic runtime (each scenario run twice with the same seed).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NetworkStatus } from '../../../src/p2p/authenticated/status.js';
import { Recipients } from '../../../src/p2p/types.js';
import type { Context } from '../../../src/runtime/context.js';
import * as disc from './discovery/network/helpers.js';
import * as look from './lookup/network/helpers.js';
import { twice } from './scenarios.js';

interface Node {
  readonly hex: string;
  readonly pk: disc.Peer['pk'];
  readonly network: disc.Peer['network'] | look.Peer['network'];
  readonly oracle: { block(pk: disc.Peer['pk']): unknown };
  readonly sender: disc.Peer['sender'];
  readonly receiver: disc.Peer['receiver'];
  readonly handle: disc.Peer['handle'];
}

const overrides = { blockDurationMs: 5_000 };
const flavours: [string, (ctx: Context) => Node[]][] = [
  [
    'lookup',
    (ctx) => {
      const peers = [0, 1, 2].map((i) => look.startPeer(ctx, i, { overrides }));
      for (const p of peers) p.oracle.register(0, look.entries(peers));
      return peers;
    },
  ],
  [
    'discovery',
    (ctx) => {
      const boot = disc.startPeer(ctx, 0, { overrides });
      const peers = [
        boot,
        ...[1, 2].map((i) => disc.startPeer(ctx, i, { bootstrappers: [boot], overrides })),
      ];
      for (const p of peers) p.oracle.register(0, disc.keys(peers));
      return peers;
    },
  ],
];

/** `node`'s status once `pred` holds for it (polled every 100 ms of virtual time). */
async function until(
  ctx: Context,
  node: Node,
  pred: (s: NetworkStatus) => boolean,
): Promise<NetworkStatus> {
  for (;;) {
    const s = await node.network.status();
    assert.ok(s !== undefined, 'a running network answers');
    if (pred(s)) return s;
    await ctx.clock.sleep(100);
  }
}

for (const [name, start] of flavours) {
  describe(`${name}: network.status()`, () => {
    test('peers connected with their traffic, then blocked with its expiry; undefined once stopped', async () => {
      await twice(71, async (ctx) => {
        const peers = start(ctx);
        const [a, b, c] = peers as [Node, Node, Node];
        const all = (s: NetworkStatus) => s.peers.every((p) => p.state === 'connected');
        let s = await until(ctx, a, (x) => x.peers.length === 2 && all(x));
        assert.equal(s.total, 2);
        assert.ok(s.key.equals(a.pk));
        assert.deepEqual(
          s.sets.map((set) => [set.index, set.primary.length]),
          [[0, 3]],
        );
        if (name === 'discovery') assert.equal(s.sets[0]!.known?.count(), 3);
        else assert.equal(s.sets[0]!.known, undefined);
        for (const p of s.peers) assert.ok(p.address !== undefined && p.since !== undefined);
        // Traffic: b sends a ten times; a counts it in, b counts it out.
        for (let i = 0; i < 10; i++)
          b.sender.send(Recipients.one(a.pk), new Uint8Array(100), false);
        for (let i = 0; i < 10; i++) await a.receiver.recv();
        s = await until(ctx, a, () => true);
        const fromB = s.peers.find((p) => p.key.equals(b.pk))!;
        assert.equal(fromB.messagesIn, 10);
        assert.ok(fromB.bytesIn >= 1000);
        assert.equal(s.channels[0]?.[0], 0);
        assert.ok(s.channels[0]![1].messagesIn >= 10);
        const toA = (await b.network.status())!.peers.find((p) => p.key.equals(a.pk))!;
        assert.equal(toA.messagesOut, 10);
        // A block shows with its expiry; the page answers what was asked.
        const t0 = ctx.clock.now();
        a.oracle.block(b.pk);
        s = await until(ctx, a, (x) => x.peers.some((p) => p.state === 'blocked'));
        const blocked = s.peers.find((p) => p.key.equals(b.pk))!;
        assert.equal(blocked.state, 'blocked');
        assert.ok(blocked.blockedUntil !== undefined && blocked.blockedUntil >= t0 + 5_000);
        const page = (await a.network.status({ offset: 1, limit: 1 }))!;
        assert.equal(page.total, 2);
        assert.deepEqual(
          page.peers.map((p) => p.key.toHex()),
          [s.peers[1]!.key.toHex()],
        );
        assert.equal((await a.network.status({ offset: 2 }))!.peers.length, 0);
        await assert.rejects(a.network.status({ limit: 10_001 }), /limit/);
        for (const p of peers) p.handle.stop();
        await Promise.all(peers.map((p) => p.handle.done));
        assert.equal(await a.network.status(), undefined);
        return [c.hex, blocked.blockedUntil];
      });
    });
  });
}
