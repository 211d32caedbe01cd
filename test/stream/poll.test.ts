/**
 * The receiver's callback read (`Receiver.poll`) over a connection with the runtimes' callback
 * `read` and over one with `recv` only: frames split at every byte boundary (prefixes of one and
 * two bytes, the slow prefix path, batches), the reader told once and never inside the call,
 * failures (close, end, a corrupt frame) while a poll is pending.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cipher } from '../../src/crypto/index.js';
import type { ByteReader } from '../../src/runtime/context.js';
import { Receiver, Sender, StreamError } from '../../src/stream/index.js';
import { Pipe } from './helpers.js';

const KEY = new Uint8Array(32).map((_, i) => 2 * i + 1);
const MAX = 1 << 20;

/** The wire bytes of `messages`, each sent as its own frame. */
async function wire(messages: readonly Uint8Array[]): Promise<Uint8Array> {
  const out = new Pipe();
  const writes: Uint8Array[] = [];
  out.output = (b) => writes.push(b);
  const sender = new Sender(out, new Cipher(KEY), MAX);
  for (const m of messages) await sender.send(m);
  return Uint8Array.from(Buffer.concat(writes));
}

/** A reader that records what it is told, and whether it was told inside a call. */
class Recorder implements ByteReader {
  readonly got: Uint8Array[] = [];
  readonly errors: unknown[] = [];
  inside = false;
  toldInside = 0;
  /** A poll returned `undefined` and its reader was not told yet. */
  pending = false;
  onBytes(bytes: Uint8Array): void {
    this.#told();
    this.got.push(bytes);
  }
  onError(error: unknown): void {
    this.#told();
    this.errors.push(error);
  }
  #told(): void {
    assert.ok(this.pending, 'told only while a poll is pending');
    this.pending = false;
    if (this.inside) this.toldInside++;
  }
}

/** Unless a poll is pending, polls until one is (recording what it returned at once). */
function pollAll(r: Receiver, rec: Recorder): void {
  while (!rec.pending && rec.errors.length === 0) {
    rec.inside = true;
    let m: Uint8Array | undefined;
    try {
      m = r.poll(rec);
    } finally {
      rec.inside = false;
    }
    if (m === undefined) rec.pending = true;
    else rec.got.push(m);
  }
}

const settle = (): Promise<void> => new Promise((res) => setImmediate(res));

function fill(n: number, v: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (v + i) & 0xff);
}

for (const withRead of [true, false]) {
  const kind = withRead ? 'a connection with read' : 'a connection with recv only';
  describe(`Receiver.poll over ${kind}`, () => {
    it('delivers every message, in order, with the stream split at every byte boundary', async () => {
      // Prefixes of one byte (17, 2) and two bytes (150 + 16), a body of 0.
      const messages = [fill(1, 1), fill(150, 2), fill(0, 0), fill(40, 3), fill(200, 4)];
      const bytes = await wire(messages);
      for (let cut = 0; cut <= bytes.length; cut++) {
        for (const second of [cut, Math.min(bytes.length, cut + 1)]) {
          const p = new Pipe({ read: withRead });
          const r = new Receiver(p, new Cipher(KEY), MAX);
          const rec = new Recorder();
          pollAll(r, rec);
          for (const [from, to] of [
            [0, cut],
            [cut, second],
            [second, bytes.length],
          ] as const) {
            p.push(bytes.subarray(from, to));
            // A message that completes the pending poll is told once; then poll on.
            for (let i = 0; i < 4; i++) {
              await settle();
              pollAll(r, rec);
            }
          }
          await settle();
          assert.equal(rec.toldInside, 0, 'never told inside poll');
          assert.deepEqual(rec.errors, []);
          assert.deepEqual(rec.got, messages, `cut at ${cut}, ${second}`);
        }
      }
    });

    // With `recv` only, a frame still in the runtime comes through the reader (a promise): this
    // one is about `read`.
    if (withRead)
      it('returns a buffered message at once without telling the reader', async () => {
        const messages = [fill(10, 1), fill(300, 2)];
        const p = new Pipe({ read: withRead });
        p.push(await wire(messages));
        const r = new Receiver(p, new Cipher(KEY), MAX);
        const rec = new Recorder();
        assert.deepEqual(r.poll(rec), messages[0]);
        assert.deepEqual(r.poll(rec), messages[1]);
        assert.equal(r.poll(rec), undefined);
        rec.pending = true;
        await settle();
        assert.equal(rec.got.length + rec.errors.length, 0);
      });

    it('a close while a poll is pending tells the reader once, with RecvFailed', async () => {
      const p = new Pipe({ read: withRead });
      const r = new Receiver(p, new Cipher(KEY), MAX);
      const rec = new Recorder();
      assert.equal(r.poll(rec), undefined);
      rec.pending = true;
      p.close();
      await settle();
      assert.equal(rec.errors.length, 1);
      assert.ok(rec.errors[0] instanceof StreamError);
      assert.equal((rec.errors[0] as StreamError).code, 'RecvFailed');
      assert.throws(
        () => r.poll(rec),
        (e: unknown) => e instanceof StreamError && e.code === 'StreamClosed',
      );
      await assert.rejects(r.recv(), (e: unknown) => (e as StreamError).code === 'StreamClosed');
    });

    it('the remote ending mid-frame fails the pending poll with RecvFailed', async () => {
      const bytes = await wire([fill(100, 9)]);
      const p = new Pipe({ read: withRead });
      const r = new Receiver(p, new Cipher(KEY), MAX);
      const rec = new Recorder();
      p.push(bytes.subarray(0, 50));
      assert.equal(r.poll(rec), undefined);
      rec.pending = true;
      p.end();
      await settle();
      assert.equal(rec.errors.length, 1);
      assert.equal((rec.errors[0] as StreamError).code, 'RecvFailed');
      assert.ok(p.isClosed, 'the failed receiver closed its connection');
    });

    it('a second poll while one is pending is refused and fails the receiver', async () => {
      const p = new Pipe({ read: withRead });
      const r = new Receiver(p, new Cipher(KEY), MAX);
      const rec = new Recorder();
      assert.equal(r.poll(rec), undefined);
      rec.pending = true;
      assert.throws(
        () => r.poll(new Recorder()),
        (e: unknown) => e instanceof StreamError && e.code === 'RecvFailed',
      );
      await settle();
      assert.ok(p.isClosed);
      // The first poll is told of the failure (its read failed with the closed connection).
      assert.equal(rec.errors.length, 1);
    });

    it('a corrupt frame completing a pending poll fails it with DecryptionFailed and closes', async () => {
      const bytes = (await wire([fill(20, 5)])).slice();
      bytes[bytes.length - 1]! ^= 1;
      const p = new Pipe({ read: withRead });
      const r = new Receiver(p, new Cipher(KEY), MAX);
      const rec = new Recorder();
      assert.equal(r.poll(rec), undefined);
      rec.pending = true;
      p.push(bytes);
      await settle();
      assert.equal(rec.errors.length, 1);
      assert.equal((rec.errors[0] as StreamError).code, 'DecryptionFailed');
      assert.ok(p.isClosed);
    });

    it('a large frame (read alone) arrives byte for byte through a pending poll', async () => {
      const big = fill(70_000, 7);
      const bytes = await wire([fill(3, 1), big, fill(3, 2)]);
      const p = new Pipe({ read: withRead });
      const r = new Receiver(p, new Cipher(KEY), MAX);
      const rec = new Recorder();
      pollAll(r, rec);
      for (let off = 0; off < bytes.length; off += 9_999) {
        p.push(bytes.subarray(off, off + 9_999));
        await settle();
        pollAll(r, rec);
      }
      await settle();
      assert.deepEqual(rec.got, [fill(3, 1), big, fill(3, 2)]);
      assert.equal(rec.toldInside, 0);
    });
  });
}
