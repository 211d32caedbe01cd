/**
 * The sender's end-of-turn coalescing and the receiver's `tryRecv`: the frames of every small
 * `sendMany` of one turn leave in one sink call, in call order, within the chunk bound; the
 * promises settle once that write is accepted; a failure reaches every caller.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Cipher } from '../../src/crypto/index.js';
import { deterministicRuntime } from '../../src/runtime/index.js';
import { CHUNK_SIZE, Receiver, Sender, type Turns } from '../../src/stream/index.js';
import { codeOf, Pipe } from './helpers.js';

const KEY = new Uint8Array(32).map((_, i) => i + 7);
const MAX = 1 << 20;

function msg(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

/** End-of-turn callbacks the test runs by hand (`end()`), so every step is explicit. */
class ManualTurns implements Turns {
  readonly #fns: (() => void)[] = [];
  endOfTurn(fn: () => void): void {
    this.#fns.push(fn);
  }
  get pending(): number {
    return this.#fns.length;
  }
  end(): void {
    for (const fn of this.#fns.splice(0)) fn();
  }
}

function coalescing(turns: Turns): { sender: Sender; pipe: Pipe; writes: Uint8Array[] } {
  const pipe = new Pipe();
  const writes: Uint8Array[] = [];
  pipe.output = (b) => writes.push(b);
  return { sender: new Sender(pipe, new Cipher(KEY), MAX, turns), pipe, writes };
}

async function readAll(writes: readonly Uint8Array[], count: number): Promise<Uint8Array[]> {
  const p = new Pipe();
  for (const w of writes) p.push(w);
  const r = new Receiver(p, new Cipher(KEY), MAX);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(await r.recv());
  return out;
}

/** Whether `p` has settled (after letting pending continuations run). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

describe('sender coalescing at the end of the turn', () => {
  it('writes the small sendMany calls of one turn with one sink call, at its end, in order', async () => {
    const turns = new ManualTurns();
    const { sender, writes } = coalescing(turns);
    const calls = [[msg(10, 1), msg(20, 2)], [msg(30, 3)], [msg(40, 4), msg(50, 5)]];
    const promises = calls.map((c) => sender.sendMany(c));
    // Sealed, not written: one flush scheduled for the turn, nothing settled yet.
    assert.equal(writes.length, 0);
    assert.equal(turns.pending, 1);
    for (const p of promises) assert.equal(await settled(p), false);
    turns.end();
    await Promise.all(promises);
    assert.equal(writes.length, 1);
    assert.deepEqual(await readAll(writes, 5), calls.flat());
    // The next turn starts a new chunk and schedules a new flush.
    const next = sender.sendMany([msg(5, 9)]);
    assert.equal(turns.pending, 1);
    turns.end();
    await next;
    assert.equal(writes.length, 2);
  });

  it('a full chunk is written at once: no coalesced write exceeds CHUNK_SIZE', async () => {
    const turns = new ManualTurns();
    const { sender, writes } = coalescing(turns);
    // 1042-byte frames, 10 per call: 125 frames fit in a chunk.
    const calls = Array.from({ length: 30 }, (_, i) =>
      Array.from({ length: 10 }, (_, j) => msg(1024, (i * 10 + j) & 0xff)),
    );
    const promises = calls.map((c) => sender.sendMany(c));
    assert.deepEqual(
      writes.map((w) => w.length),
      [125 * 1042, 125 * 1042],
    );
    turns.end();
    await Promise.all(promises);
    assert.deepEqual(
      writes.map((w) => w.length),
      [125 * 1042, 125 * 1042, 50 * 1042],
    );
    for (const w of writes) assert.ok(w.length <= CHUNK_SIZE);
    assert.deepEqual(await readAll(writes, 300), calls.flat());
  });

  it('a large call, a send and an empty call keep wire order with the open chunk', async () => {
    const turns = new ManualTurns();
    const { sender, writes } = coalescing(turns);
    const a = sender.sendMany([msg(100, 1)]);
    // Over CHUNK_SIZE in total: the open chunk goes first, then this call's own chunks.
    const big = [msg(100_000, 2), msg(100_000, 3)];
    const b = sender.sendMany(big);
    const c = sender.sendMany([msg(100, 4)]);
    // `send` writes at once, after what is open.
    const d = sender.send(msg(7, 5));
    const e = sender.sendMany([]);
    turns.end();
    await Promise.all([a, b, c, d, e]);
    assert.deepEqual(await readAll(writes, 5), [msg(100, 1), ...big, msg(100, 4), msg(7, 5)]);
  });

  it('SendTooLarge in a coalesced call sends nothing of that call and keeps the others', async () => {
    const turns = new ManualTurns();
    const pipe = new Pipe();
    const writes: Uint8Array[] = [];
    pipe.output = (b) => writes.push(b);
    const sender = new Sender(pipe, new Cipher(KEY), 1000, turns);
    const a = sender.sendMany([msg(10, 1)]);
    assert.equal(await codeOf(sender.sendMany([msg(10, 2), msg(1001, 3)])), 'SendTooLarge');
    const c = sender.sendMany([msg(10, 4)]);
    turns.end();
    await Promise.all([a, c]);
    assert.deepEqual(await readAll(writes, 2), [msg(10, 1), msg(10, 4)]);
  });

  it('a failed coalesced write rejects every call of the turn, and later calls are StreamClosed', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const turns = new ManualTurns();
      const { sender, pipe } = coalescing(turns);
      const a = sender.sendMany([msg(10, 1)]);
      const b = sender.sendMany([msg(10, 2)]);
      pipe.close();
      turns.end();
      assert.equal(await codeOf(a), 'SendFailed');
      assert.equal(await codeOf(b), 'SendFailed');
      assert.equal(await codeOf(sender.sendMany([msg(1, 3)])), 'StreamClosed');
      // A chunk written early (full) whose promise nobody holds fails quietly.
      const c = sender.sendMany([msg(1, 4)]);
      assert.equal(await codeOf(c), 'StreamClosed');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('any calls in any turns arrive intact and in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(
            fc
              .array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 6 })
              .map((sizes) => sizes.map((n, i) => msg(n, (n + i) & 0xff))),
            { maxLength: 5 },
          ),
          { minLength: 1, maxLength: 5 },
        ),
        async (turnsOfCalls) => {
          const turns = new ManualTurns();
          const { sender, writes } = coalescing(turns);
          const all: Promise<void>[] = [];
          for (const calls of turnsOfCalls) {
            for (const c of calls) all.push(sender.sendMany(c));
            turns.end();
          }
          await Promise.all(all);
          for (const w of writes) assert.ok(w.length <= CHUNK_SIZE);
          const sent = turnsOfCalls.flat(2);
          assert.deepEqual(await readAll(writes, sent.length), sent);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("with the runtime's end of turn, one write per turn (deterministic runtime)", async () => {
    const { result } = await deterministicRuntime({ seed: 1 }).run(async (ctx) => {
      const { sender, writes } = coalescing(ctx);
      const promises = Array.from({ length: 20 }, (_, i) => sender.sendMany([msg(30, i)]));
      // Continuations of this turn still join the chunk.
      await Promise.resolve();
      promises.push(sender.sendMany([msg(30, 20)]));
      await Promise.all(promises);
      const first = writes.length;
      await sender.sendMany([msg(30, 21)]);
      return { first, total: writes.length, messages: await readAll(writes, 22) };
    });
    assert.equal(result.first, 1);
    assert.equal(result.total, 2);
    assert.deepEqual(
      result.messages,
      Array.from({ length: 22 }, (_, i) => msg(30, i)),
    );
  });
});

describe('Receiver.tryRecv', () => {
  it('returns the frames batched by a recv synchronously, then undefined', async () => {
    const p = new Pipe();
    const writes: Uint8Array[] = [];
    const src = new Pipe();
    src.output = (b) => writes.push(b);
    const sender = new Sender(src, new Cipher(KEY), MAX);
    await sender.sendMany([msg(10, 1), msg(20, 2), msg(30, 3)]);
    const r = new Receiver(p, new Cipher(KEY), MAX);
    assert.equal(r.tryRecv(), undefined);
    for (const w of writes) p.push(w);
    // Nothing read from the runtime yet: tryRecv does no I/O.
    assert.equal(r.tryRecv(), undefined);
    assert.deepEqual(await r.recv(), msg(10, 1));
    assert.deepEqual(r.tryRecv(), msg(20, 2));
    assert.deepEqual(r.tryRecv(), msg(30, 3));
    assert.equal(r.tryRecv(), undefined);
  });

  it('a bad frame in the batch throws from tryRecv, and the receiver is closed', async () => {
    const src = new Pipe();
    const writes: Uint8Array[] = [];
    src.output = (b) => writes.push(b);
    await new Sender(src, new Cipher(KEY), MAX).sendMany([msg(10, 1), msg(10, 2)]);
    const bytes = writes[0]!.slice();
    bytes[bytes.length - 1]! ^= 1; // corrupt the second frame's tag
    const p = new Pipe();
    p.push(bytes);
    const r = new Receiver(p, new Cipher(KEY), MAX);
    assert.deepEqual(await r.recv(), msg(10, 1));
    assert.throws(() => r.tryRecv(), { code: 'DecryptionFailed' });
    assert.ok(p.isClosed);
    assert.throws(() => r.tryRecv(), { code: 'StreamClosed' });
  });
});
