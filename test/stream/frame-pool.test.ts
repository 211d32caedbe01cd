/**
 * The pool of buffers for large frames that span reads (src/stream/frame-pool.ts) and the
 * receiver's use of it: byte for byte at every split of a frame, the buffer back in the pool
 * after every frame (opened or failed), and no plaintext ever in a pooled buffer.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { availableAeadImpls } from '../../src/crypto/backend.js';
import { Cipher, cipherWithImpl } from '../../src/crypto/cipher.js';
import {
  borrowFrame,
  FREE_PER_CLASS,
  idleFrames,
  MAX_CLASS_BYTES,
  MIN_CLASS_BYTES,
  returnFrame,
} from '../../src/stream/frame-pool.js';
import { Receiver, Sender } from '../../src/stream/index.js';
import { assertOwnsBuffer, MARKER, OWN_BUFFER_SLACK } from '../helpers/owned.js';
import { codeOf, Pipe } from './helpers.js';

const KEY = new Uint8Array(32).map((_, i) => i + 3);
const MAX = 1 << 20;

/** The wire bytes of `messages`, each sealed as one frame from nonce 0. */
async function wire(messages: readonly Uint8Array[]): Promise<Uint8Array> {
  const pipe = new Pipe();
  const writes: Uint8Array[] = [];
  pipe.output = (b) => writes.push(b);
  const sender = new Sender(pipe, new Cipher(KEY), MAX);
  for (const m of messages) await sender.send(m);
  return Uint8Array.from(Buffer.concat(writes));
}

function drain(): void {
  for (let size = MIN_CLASS_BYTES; size <= MAX_CLASS_BYTES; size *= 2) {
    while (idleFrames().includes(size)) borrowFrame(size);
  }
}

describe('frame pool', () => {
  it('lends power-of-two classes, keeps a bounded number idle, never pools what it cannot', () => {
    drain();
    assert.deepEqual(idleFrames(), []);
    assert.equal(borrowFrame(1).length, MIN_CLASS_BYTES);
    assert.equal(borrowFrame(MIN_CLASS_BYTES + 1).length, 2 * MIN_CLASS_BYTES);
    assert.equal(borrowFrame(65_555).length, 128 * 1024);
    assert.equal(borrowFrame(MAX_CLASS_BYTES).length, MAX_CLASS_BYTES);
    // Over the largest class: exactly the size asked for, and not taken back.
    const huge = borrowFrame(MAX_CLASS_BYTES + 1);
    assert.equal(huge.length, MAX_CLASS_BYTES + 1);
    returnFrame(huge);
    assert.deepEqual(idleFrames(), []);
    // A view (not a whole class buffer) is not taken back either.
    returnFrame(borrowFrame(40_000).subarray(0, 40_000));
    assert.deepEqual(idleFrames(), []);
    const lent = Array.from({ length: FREE_PER_CLASS + 3 }, () => borrowFrame(50_000));
    for (const b of lent) returnFrame(b);
    assert.deepEqual(idleFrames(), Array(FREE_PER_CLASS).fill(64 * 1024));
    // Reuse: the next borrow of that class is one of those buffers.
    assert.ok(lent.includes(borrowFrame(60_000)));
    drain();
  });

  it('a large frame split at every offset, read pending or buffered, arrives byte for byte and returns its buffer', async () => {
    drain();
    const big = new Uint8Array(20_000).fill(MARKER);
    const small = new Uint8Array(7).fill(MARKER + 1);
    const bytes = await wire([big, small]);
    const frame = bytes.length - (small.length + 17);
    for (let cut = 1; cut < frame; cut++) {
      const p = new Pipe();
      const r = new Receiver(p, new Cipher(KEY), MAX);
      let got: Promise<Uint8Array>;
      // Odd cuts: the recv waits for the second part; even: both parts are buffered first.
      if (cut % 2 === 1) {
        p.push(bytes.subarray(0, cut));
        got = r.recv();
        p.push(bytes.subarray(cut));
      } else {
        p.push(bytes.subarray(0, cut));
        p.push(bytes.subarray(cut));
        got = r.recv();
      }
      const m = await got;
      assert.ok(Buffer.from(big).equals(m), `cut ${cut}: the message`);
      assert.ok(m.buffer.byteLength <= m.length + OWN_BUFFER_SLACK, `cut ${cut}: owns its buffer`);
      assert.ok(Buffer.from(small).equals(await r.recv()), `cut ${cut}: the next message`);
      // Every frame gave its buffer back (a spanning frame borrowed it; one in a single read
      // never did), so the pool holds at most the one buffer the whole loop reuses.
      const idle = idleFrames();
      assert.ok(idle.length <= 1 && idle.every((n) => n === MIN_CLASS_BYTES), `cut ${cut}`);
    }
    assert.deepEqual(idleFrames(), [MIN_CLASS_BYTES], 'spanning frames used the pool');
  });

  for (const impl of availableAeadImpls()) {
    it(`${impl}: no plaintext is left in a pooled buffer (earlier messages survive later frames)`, async () => {
      const sizes = [17_000, 30_000, 70_000, 20_000, 17_000];
      const messages = sizes.map((n, i) => new Uint8Array(n).fill(MARKER + i));
      const bytes = await wire(messages);
      const p = new Pipe();
      const r = new Receiver(p, cipherWithImpl(KEY, impl), MAX);
      // 1 KiB pieces: every frame spans many pushes, so each is copied into a pooled buffer.
      for (let o = 0; o < bytes.length; o += 1024) p.push(bytes.subarray(o, o + 1024));
      const got: Uint8Array[] = [];
      for (const [i, n] of sizes.entries()) {
        got.push(await r.recv());
        assertOwnsBuffer(got[i]!, MARKER + i, n, `message ${i}`);
      }
      for (const [i, n] of sizes.entries()) assertOwnsBuffer(got[i]!, MARKER + i, n, `later ${i}`);
      assert.ok(idleFrames().length > 0, 'the frames went through the pool');
    });
  }

  it('a tampered spanning frame fails, and its buffer still goes back', async () => {
    drain();
    const bytes = await wire([new Uint8Array(25_000).fill(5)]);
    bytes[bytes.length - 1]! ^= 1;
    const p = new Pipe();
    const r = new Receiver(p, new Cipher(KEY), MAX);
    p.push(bytes.subarray(0, 100));
    const got = r.recv();
    p.push(bytes.subarray(100));
    assert.equal(await codeOf(got), 'DecryptionFailed');
    assert.ok(p.isClosed);
    assert.deepEqual(idleFrames(), [MIN_CLASS_BYTES]);
  });
});
