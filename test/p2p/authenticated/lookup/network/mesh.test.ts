import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Context } from '../../../../../src/runtime/context.js';
import { deterministicRuntime } from '../../../../../src/runtime/index.js';
import { everyoneHearsEveryone, type Mode } from '../../scenarios.js';
import { counter, entries, type Peer, startPeer, stopAll } from './helpers.js';

const PEERS = 25;
const SLOW = process.env.AUTHP2P_SLOW === '1';
const SEEDS = SLOW ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : [0, 1];

/** commonware's `run_deterministic_test` on `n` lookup peers registering the same set. */
async function lookupMesh(ctx: Context, n: number, mode: Mode): Promise<[number, number]> {
  const peers: Peer[] = [];
  for (let i = 0; i < n; i++) peers.push(startPeer(ctx, i));
  for (const p of peers) p.oracle.register(0, entries(peers));
  const result = await everyoneHearsEveryone(
    ctx,
    peers.map((p) => ({
      ...p,
      rateLimited: () => counter(p, undefined, 'messages_rate_limited', ['peer', 'message']),
    })),
    mode,
  );
  await stopAll(peers);
  return result;
}

describe('lookup network: every peer hears from every other (deterministic)', () => {
  for (const mode of ['one', 'some', 'all'] as const) {
    for (const seed of SEEDS) {
      test(`25 peers in mode ${mode} with seed ${seed} all exchange messages, identically on a rerun`, async () => {
        const a = await deterministicRuntime({ seed }).run((ctx) => lookupMesh(ctx, PEERS, mode));
        const b = await deterministicRuntime({ seed }).run((ctx) => lookupMesh(ctx, PEERS, mode));
        assert.ok(a.result[1] >= PEERS * (PEERS - 1));
        assert.deepEqual(a.result, b.result);
        assert.equal(a.digest, b.digest);
      });
    }
  }

  test('different seeds give different executions', async () => {
    const a = await deterministicRuntime({ seed: 100 }).run((ctx) => lookupMesh(ctx, 5, 'all'));
    const b = await deterministicRuntime({ seed: 101 }).run((ctx) => lookupMesh(ctx, 5, 'all'));
    assert.notEqual(a.digest, b.digest);
  });
});
