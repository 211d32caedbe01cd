/**
 * Multi-peer scenarios both flavours run (commonware's `run_deterministic_test`), over any peers
 * that expose a key, a sender and a receiver on channel 0.
 */

import assert from 'node:assert/strict';
import type { ed25519 } from '../../../src/crypto/index.js';
import type { Receiver, Sender } from '../../../src/p2p/authenticated/channels.js';
import { Recipients } from '../../../src/p2p/types.js';
import type { Context, Counter } from '../../../src/runtime/context.js';
import {
  type DeterministicRuntimeOptions,
  deterministicRuntime,
} from '../../../src/runtime/index.js';

/** Asserts two runs of one scenario with one seed saw the same events and results. */
export function assertSameRun<T>(
  a: { readonly digest: string; readonly result: T },
  b: { readonly digest: string; readonly result: T },
): void {
  assert.equal(a.digest, b.digest, 'same seed, same execution');
  assert.deepEqual(a.result, b.result);
}

/** Runs `scenario` twice with `seed`, asserts identical digests and results, returns the result. */
export async function twice<T>(
  seed: number,
  scenario: (ctx: Context) => Promise<T>,
  options: Omit<DeterministicRuntimeOptions, 'seed'> = {},
): Promise<T> {
  const a = await deterministicRuntime({ seed, ...options }).run(scenario);
  const b = await deterministicRuntime({ seed, ...options }).run(scenario);
  assertSameRun(a, b);
  return a.result;
}

/** How each peer addresses the others. */
export type Mode = 'one' | 'some' | 'all';

/** What a scenario needs of a running peer. */
export interface ScenarioPeer {
  readonly pk: ed25519.PublicKey;
  readonly hex: string;
  readonly sender: Sender;
  readonly receiver: Receiver;
  /** The peer network's `messages_rate_limited{peer, message}` counter (looked up at the end). */
  rateLimited(): Counter;
}

/**
 * Each peer sends its own public key to the others once per second (one send per recipient,
 * one send to the list, or one broadcast) until every peer has heard from every other; asserts
 * nobody's inbound quota had to pause a connection. Returns when that happened (virtual ms after
 * the call) and how many messages were received in total.
 */
export async function everyoneHearsEveryone(
  ctx: Context,
  peers: readonly ScenarioPeer[],
  mode: Mode,
): Promise<[number, number]> {
  const start = ctx.clock.now();
  const n = peers.length;
  let received = 0;
  const listeners = peers.map((p, i) =>
    ctx.spawn(`recv${i}`, async () => {
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
  const senders = peers.map((p, i) =>
    ctx.spawn(`send${i}`, async (c) => {
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
  for (const p of peers) {
    for (const q of peers) {
      if (p === q) continue;
      assert.equal(p.rateLimited().get({ peer: q.hex, message: 'data_0' }), 0);
    }
  }
  return [elapsed, received];
}

/** How many of `times` (virtual ms) fall in each of the `seconds` whole seconds from `from`. */
export function perSecond(times: readonly number[], from: number, seconds: number): number[] {
  const out = new Array<number>(seconds).fill(0);
  for (const t of times) {
    const s = Math.floor((t - from) / 1000);
    if (s >= 0 && s < seconds) out[s]!++;
  }
  return out;
}
