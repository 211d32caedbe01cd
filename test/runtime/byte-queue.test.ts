/**
 * ByteQueue (both runtimes' receive buffer): exact reads and peeks against a plain byte array,
 * and a peek that spans chunks makes the take that follows a view instead of a second copy.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ByteQueue } from '../../src/runtime/byte-queue.js';

type Op =
  | { readonly kind: 'push'; readonly bytes: Uint8Array }
  | { readonly kind: 'peek'; readonly max: number }
  | { readonly kind: 'take'; readonly n: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 40 }).map((bytes) => ({ kind: 'push' as const, bytes })),
  fc.integer({ min: 0, max: 120 }).map((max) => ({ kind: 'peek' as const, max })),
  fc.integer({ min: 0, max: 120 }).map((n) => ({ kind: 'take' as const, n })),
);

describe('ByteQueue', () => {
  it('peek and take match a plain byte array under any interleaving', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const q = new ByteQueue();
        let model: number[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            q.push(o.bytes);
            model.push(...o.bytes);
          } else if (o.kind === 'peek') {
            const got = q.peek(o.max);
            assert.deepEqual([...got], model.slice(0, o.max));
          } else {
            // Callers never take 0 bytes (recv(0) answers without the queue).
            const n = Math.min(o.n, model.length);
            if (n === 0) continue;
            assert.deepEqual([...q.take(n)], model.slice(0, n));
            model = model.slice(n);
          }
          assert.equal(q.length, model.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a spanning peek merges what it covers: the following take is a view of it', () => {
    const q = new ByteQueue();
    q.push(Uint8Array.of(1, 2, 3));
    q.push(Uint8Array.of(4, 5, 6));
    q.push(Uint8Array.of(7, 8, 9));
    assert.deepEqual([...q.take(1)], [1]);
    const seen = q.peek(6);
    assert.deepEqual([...seen], [2, 3, 4, 5, 6, 7]);
    const taken = q.take(6);
    assert.deepEqual([...taken], [2, 3, 4, 5, 6, 7]);
    assert.equal(taken.buffer, seen.buffer, 'the take copied again');
    // The tail of the last chunk it covered stays readable.
    assert.deepEqual([...q.peek(10)], [8, 9]);
    assert.deepEqual([...q.take(2)], [8, 9]);
    assert.equal(q.length, 0);
  });

  it('take with a scratch copies a spanning read into it, byte for byte, and only then', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 0, max: 5 }),
        (chunks, takes, slack) => {
          const q = new ByteQueue();
          let model: number[] = [];
          // Unread bytes of each chunk still queued, head first (a merge makes one chunk).
          let lens: number[] = [];
          for (const c of chunks) {
            q.push(c);
            model.push(...c);
            lens.push(c.length);
          }
          for (const want of takes) {
            const n = Math.min(want, model.length);
            if (n === 0) break;
            // Whether the read fits in the head chunk (then a view, no scratch).
            const head = lens[0]!;
            const lent: Uint8Array[] = [];
            const got = q.take(n, (k) => {
              assert.equal(k, n);
              const b = new Uint8Array(k + slack).fill(0xaa);
              lent.push(b);
              return b;
            });
            assert.deepEqual([...got], model.slice(0, n));
            assert.equal(lent.length, n <= head ? 0 : 1, 'scratch used iff the read spans');
            if (lent.length === 1) {
              assert.equal(got.buffer, lent[0]!.buffer);
              assert.equal(got.byteOffset, 0);
            }
            model = model.slice(n);
            assert.equal(q.length, model.length);
            let left = n;
            while (left > 0 && left >= lens[0]!) left -= lens.shift()!;
            if (left > 0) lens[0]! -= left;
            lens = lens.filter((l) => l > 0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
