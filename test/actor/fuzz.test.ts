import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  byMessage,
  dropOldest,
  type Feedback,
  mailbox,
  type OverflowPolicy,
  type Responder,
  reliable,
  unreliable,
} from '../../src/actor/index.js';

/**
 * Microtask-tick jitter (repeater's fuzz trick): instead of timers, each step yields a random
 * number of microtask turns, so producers and the consumer interleave in many different orders
 * deterministically from the seed.
 */
function jitterer(seed: number): () => Promise<void> {
  let s = seed >>> 0 || 1;
  return async () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const n = s % 6;
    for (let i = 0; i < n; i++) await Promise.resolve();
  };
}

interface Msg {
  p: number;
  i: number;
  responder?: Responder<number>;
}

interface Run {
  sent: { msg: Msg; fb: Feedback }[][];
  received: Msg[];
}

async function run(
  policy: OverflowPolicy<Msg>,
  capacity: number,
  counts: number[],
  seed: number,
): Promise<Run> {
  const [tx, rx] = mailbox<Msg>(capacity, policy);
  const jitter = jitterer(seed);
  const sent: Run['sent'] = counts.map(() => []);
  const received: Msg[] = [];
  let live = counts.length;
  const producers = counts.map(async (count, p) => {
    for (let i = 0; i < count; i++) {
      await jitter();
      const msg = { p, i };
      (sent[p] as Run['sent'][number]).push({ msg, fb: tx.enqueue(msg) });
    }
    live--;
  });
  const consumer = (async () => {
    let spins = 0;
    while (live > 0 || rx.size > 0) {
      const ac = new AbortController();
      const ready = rx.ready(ac.signal);
      await jitter();
      ac.abort(); // cancel if still waiting: nothing may be lost by this
      await ready;
      assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
      received.push(...rx.drain(1 + ((spins++ * 7) % 4)));
    }
  })();
  await Promise.all([...producers, consumer]);
  return { sent, received };
}

const arbitraries = fc.tuple(
  fc.integer({ min: 1, max: 6 }),
  fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 4 }),
  fc.integer({ min: 1, max: 2 ** 31 - 1 }),
);

function perProducer(msgs: Msg[], p: number): number[] {
  return msgs.filter((m) => m.p === p).map((m) => m.i);
}

describe('mailbox under microtask-jittered interleavings', () => {
  it('reliable: everything arrives exactly once, in per-producer order', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraries, async ([capacity, counts, seed]) => {
        const { sent, received } = await run(reliable(), capacity, counts, seed);
        assert.equal(
          received.length,
          counts.reduce((a, b) => a + b, 0),
        );
        counts.forEach((count, p) => {
          assert.deepEqual(
            perProducer(received, p),
            Array.from({ length: count }, (_, i) => i),
          );
          for (const { fb } of sent[p] ?? []) assert.ok(fb === 'ok' || fb === 'backoff');
        });
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('unreliable: arrivals are exactly the accepted messages, in order', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraries, async ([capacity, counts, seed]) => {
        const { sent, received } = await run(unreliable(), capacity, counts, seed);
        counts.forEach((_, p) => {
          const accepted = (sent[p] ?? []).filter((s) => s.fb === 'ok').map((s) => s.msg.i);
          for (const s of sent[p] ?? []) assert.ok(s.fb === 'ok' || s.fb === 'dropped');
          assert.deepEqual(perProducer(received, p), accepted);
        });
        // Identity, not just equality: no duplicates.
        assert.equal(new Set(received).size, received.length);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('dropOldest: arrivals are an in-order subsequence and never exceed what was retained', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraries,
        fc.integer({ min: 0, max: 3 }),
        async ([capacity, counts, seed], limit) => {
          const { sent, received } = await run(dropOldest(limit), capacity, counts, seed);
          counts.forEach((_, p) => {
            const got = perProducer(received, p);
            for (let k = 1; k < got.length; k++)
              assert.ok((got[k] as number) > (got[k - 1] as number));
            const dropped = new Set(
              (sent[p] ?? []).filter((s) => s.fb === 'dropped').map((s) => s.msg.i),
            );
            for (const i of got) assert.ok(!dropped.has(i));
          });
          assert.equal(new Set(received).size, received.length);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('requests: every responder settles exactly once, with the answer iff answered, even across close', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraries,
        fc.integer({ min: 0, max: 60 }),
        fc.constantFrom<'reliable' | 'unreliable' | 'kill'>('reliable', 'unreliable', 'kill'),
        async ([capacity, counts, seed], closeAfter, kind) => {
          const policy: OverflowPolicy<Msg> =
            kind === 'reliable'
              ? reliable()
              : kind === 'unreliable'
                ? unreliable()
                : // Every 5th message of producer 0 clears the overflow (a "kill").
                  byMessage((m) => (m.p === 0 && m.i % 5 === 4 ? 'replace' : 'retain'));
          const [tx, rx] = mailbox<Msg>(capacity, policy);
          const jitter = jitterer(seed);
          const outcomes: { key: string; value: number | undefined }[] = [];
          const pending: Promise<void>[] = [];
          const answered = new Map<string, number>();
          const producers = counts.map(async (count, p) => {
            for (let i = 0; i < count; i++) {
              await jitter();
              const answer = tx.request<number>((responder) => ({ p, i, responder }));
              pending.push(
                answer.then((value) => {
                  outcomes.push({ key: `${p}/${i}`, value });
                }),
              );
            }
          });
          let handled = 0;
          const consumer = (async () => {
            while (!rx.isClosed) {
              const ac = new AbortController();
              const ready = rx.ready(ac.signal);
              await jitter();
              ac.abort();
              await ready;
              const batch = rx.drain(2);
              for (const [k, m] of batch.entries()) {
                const r = m.responder as Responder<number>;
                if (handled++ >= closeAfter) {
                  // Close mid-batch: messages in hand are ours to settle, queued ones are
                  // settled by close().
                  rx.close();
                  for (const rest of batch.slice(k)) rest.responder?.close();
                  break;
                }
                const value = m.p * 1000 + m.i;
                if (m.i % 3 === 0) {
                  assert.equal(r.send(value), true);
                  assert.equal(r.send(value + 1), false);
                  answered.set(`${m.p}/${m.i}`, value);
                } else if (m.i % 3 === 1) {
                  assert.equal(r.close(), true);
                } else {
                  r.send(value);
                  answered.set(`${m.p}/${m.i}`, value);
                }
              }
              if (handled > 1000) break;
            }
          })();
          await Promise.all(producers);
          rx.close();
          await consumer;
          await Promise.all(pending);
          const total = counts.reduce((a, b) => a + b, 0);
          assert.equal(outcomes.length, total);
          assert.equal(new Set(outcomes.map((o) => o.key)).size, total);
          for (const o of outcomes) assert.equal(o.value, answered.get(o.key));
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});
