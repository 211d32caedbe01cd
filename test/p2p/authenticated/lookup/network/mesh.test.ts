import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Recipients } from '../../../../../src/p2p/types.js';
import type { Context } from '../../../../../src/runtime/context.js';
import { deterministicRuntime } from '../../../../../src/runtime/index.js';
import { counter, entries, type Peer, startPeer, stopAll } from './helpers.js';

type Mode = 'one' | 'some' | 'all';

const PEERS = 25;
const SLOW = process.env.AUTHP2P_SLOW === '1';
const SEEDS = SLOW ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : [0, 1];

/**
 * commonware's `run_deterministic_test`: `n` peers register the same set; each sends its own
 * public key to the others once per second (one send per recipient, one send to the list, or one
 * broadcast) until every peer has heard from every other. Returns when that happened (virtual ms
 * after start) and how many messages were received in total.
 */
async function everyoneHearsEveryone(
  ctx: Context,
  n: number,
  mode: Mode,
): Promise<[number, number]> {
  const start = ctx.clock.now();
  const peers: Peer[] = [];
  for (let i = 0; i < n; i++) peers.push(startPeer(ctx, i));
  for (const p of peers) p.oracle.register(0, entries(peers));

  let received = 0;
  const listeners = peers.map((p) =>
    ctx.spawn(`recv${p.i}`, async () => {
      const heard = new Set<string>();
      while (heard.size < n - 1) {
        const [from, msg] = await p.receiver.recv();
        assert.deepEqual(msg, from.toBytes(), 'the payload is the sender key');
        assert.notEqual(from.toHex(), p.hex);
        heard.add(from.toHex());
        received++;
      }
    }),
  );
  const senders = peers.map((p) =>
    ctx.spawn(`send${p.i}`, async (c) => {
      const others = peers.filter((q) => q !== p).map((q) => q.pk);
      const payload = p.pk.toBytes();
      while (!c.signal.aborted) {
        switch (mode) {
          case 'one':
            for (const q of others) p.sender.send(Recipients.one(q), payload, true);
            break;
          case 'some':
            p.sender.send(Recipients.some(others), payload, true);
            break;
          case 'all':
            p.sender.send(Recipients.all(), payload, true);
            break;
        }
        await c.clock.sleep(1_000, c.signal).catch(() => {});
      }
    }),
  );
  await Promise.all(listeners.map((h) => h.done));
  const elapsed = ctx.clock.now() - start;
  for (const s of senders) s.stop();
  await Promise.all(senders.map((s) => s.done));
  // Nobody exceeded a quota: the inbound limiters never had to pause a connection.
  for (const p of peers) {
    for (const q of peers) {
      if (p === q) continue;
      assert.equal(
        counter(p, undefined, 'messages_rate_limited', ['peer', 'message']).get({
          peer: q.hex,
          message: 'data_0',
        }),
        0,
      );
    }
  }
  await stopAll(peers);
  return [elapsed, received];
}

describe('lookup network: every peer hears from every other (deterministic)', () => {
  for (const mode of ['one', 'some', 'all'] as const) {
    for (const seed of SEEDS) {
      test(`25 peers in mode ${mode} with seed ${seed} all exchange messages, identically on a rerun`, async () => {
        const a = await deterministicRuntime({ seed }).run((ctx) =>
          everyoneHearsEveryone(ctx, PEERS, mode),
        );
        const b = await deterministicRuntime({ seed }).run((ctx) =>
          everyoneHearsEveryone(ctx, PEERS, mode),
        );
        assert.ok(a.result[1] >= PEERS * (PEERS - 1));
        assert.deepEqual(a.result, b.result);
        assert.equal(a.digest, b.digest);
      });
    }
  }

  test('different seeds give different executions', async () => {
    const a = await deterministicRuntime({ seed: 100 }).run((ctx) =>
      everyoneHearsEveryone(ctx, 5, 'all'),
    );
    const b = await deterministicRuntime({ seed: 101 }).run((ctx) =>
      everyoneHearsEveryone(ctx, 5, 'all'),
    );
    assert.notEqual(a.digest, b.digest);
  });
});
