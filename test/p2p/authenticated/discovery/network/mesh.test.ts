import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Context } from '../../../../../src/runtime/context.js';
import { deterministicRuntime } from '../../../../../src/runtime/index.js';
import { everyoneHearsEveryone, type Mode } from '../../scenarios.js';
import { fullMesh, keys, type Peer, startPeer, stopAll, until } from './helpers.js';

const PEERS = 25;
const SLOW = process.env.AUTHP2P_SLOW === '1';
const SEEDS = SLOW ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : [0, 1];

/**
 * `n` discovery peers that know only peer 0's address (peer 0 knows nobody's) register the same
 * set, find each other by gossip, and then run commonware's `run_deterministic_test`. Returns
 * when the mesh was complete (virtual ms), when everyone had heard from everyone, and the
 * messages received.
 */
async function discoveryMesh(
  ctx: Context,
  n: number,
  mode: Mode,
): Promise<[number, number, number]> {
  const start = ctx.clock.now();
  const boot = startPeer(ctx, 0);
  const peers: Peer[] = [boot];
  for (let i = 1; i < n; i++) peers.push(startPeer(ctx, i, { bootstrappers: [boot] }));
  for (const p of peers) p.oracle.register(0, keys(peers));
  const meshAt = (await until(ctx, () => fullMesh(peers), 'full mesh', { stepMs: 100 })) - start;
  const rateLimited = (p: Peer) =>
    p.ctx.child('network').metrics.counter('messages_rate_limited', '', ['peer', 'message']);
  const [heardAt, received] = await everyoneHearsEveryone(
    ctx,
    peers.map((p) => ({ ...p, rateLimited: () => rateLimited(p) })),
    mode,
  );
  await stopAll(peers);
  return [meshAt, heardAt, received];
}

describe('discovery network: peers bootstrapped from one find and hear each other (deterministic)', () => {
  for (const mode of ['one', 'some', 'all'] as const) {
    for (const seed of SEEDS) {
      test(`25 peers in mode ${mode} with seed ${seed} reach a full mesh and exchange messages, identically on a rerun`, async () => {
        const a = await deterministicRuntime({ seed }).run((ctx) =>
          discoveryMesh(ctx, PEERS, mode),
        );
        const b = await deterministicRuntime({ seed }).run((ctx) =>
          discoveryMesh(ctx, PEERS, mode),
        );
        assert.ok(a.result[2] >= PEERS * (PEERS - 1));
        assert.deepEqual(a.result, b.result);
        assert.equal(a.digest, b.digest);
      });
    }
  }

  test('different seeds give different executions', async () => {
    const a = await deterministicRuntime({ seed: 100 }).run((ctx) => discoveryMesh(ctx, 5, 'all'));
    const b = await deterministicRuntime({ seed: 101 }).run((ctx) => discoveryMesh(ctx, 5, 'all'));
    assert.notEqual(a.digest, b.digest);
  });
});
