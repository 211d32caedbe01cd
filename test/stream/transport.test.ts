import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Cipher } from '../../src/crypto/index.js';
import { CHUNK_SIZE, Receiver, Sender } from '../../src/stream/index.js';
import { memoryAfterGc } from '../helpers/memory.js';
import { assertOwnsBuffer, MARKER } from '../helpers/owned.js';
import { codeOf, Pipe } from './helpers.js';

const KEY = new Uint8Array(32).map((_, i) => i + 1);
const MAX = 1 << 20;

/** A sender whose frames are captured, one entry per sink call. */
function capturingSender(opts: { max?: number; start?: bigint } = {}): {
  sender: Sender;
  pipe: Pipe;
  writes: Uint8Array[];
} {
  const pipe = new Pipe();
  const writes: Uint8Array[] = [];
  pipe.output = (b) => writes.push(b);
  const cipher = new Cipher(KEY, opts.start === undefined ? {} : { startCounter: opts.start });
  return { sender: new Sender(pipe, cipher, opts.max ?? MAX), pipe, writes };
}

function receiverOn(pipe: Pipe, opts: { max?: number; start?: bigint } = {}): Receiver {
  const cipher = new Cipher(KEY, opts.start === undefined ? {} : { startCounter: opts.start });
  return new Receiver(pipe, cipher, opts.max ?? MAX);
}

/** Splits a byte stream into frames (each `varint || body`), assuming valid prefixes. */
function splitFrames(stream: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let o = 0;
  while (o < stream.length) {
    let len = 0;
    let shift = 0;
    let p = o;
    for (;;) {
      const b = stream[p++]!;
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    frames.push(stream.slice(o, p + len));
    o = p + len;
  }
  return frames;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

function msg(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

/** Sends three messages and returns their three frames. */
async function threeFrames(): Promise<Uint8Array[]> {
  const { sender, writes } = capturingSender();
  await sender.sendMany([msg(10, 1), msg(20, 2), msg(30, 3)]);
  return splitFrames(concat(writes));
}

describe('encrypted transport', () => {
  it('round-trips messages, including an empty one (a 16-byte frame)', async () => {
    const { sender, writes } = capturingSender();
    await sender.send(new Uint8Array(0));
    await sender.send(msg(5, 9));
    assert.equal(writes[0]!.length, 17);
    assert.equal(writes[0]![0], 16);
    const p = new Pipe();
    for (const w of writes) p.push(w);
    const r = receiverOn(p);
    assert.deepEqual(await r.recv(), new Uint8Array(0));
    assert.deepEqual(await r.recv(), msg(5, 9));
  });

  it('every delivered message owns its buffer (no other plaintext reachable through it)', async () => {
    // Sizes across every allocation path: on the V8 heap (<= 64), libsodium (<= 16 KiB), OpenSSL.
    const sizes = [0, 1, 32, 47, 48, 49, 64, 65, 100, 1024, 4096, 4097, 16384, 16385, 70_000];
    const { sender, writes } = capturingSender();
    await sender.sendMany(sizes.map((n, i) => msg(n, MARKER + i)));
    const p = new Pipe();
    for (const w of writes) p.push(w);
    const r = receiverOn(p);
    const got: Uint8Array[] = [];
    for (const [i, n] of sizes.entries()) {
      got.push(await r.recv());
      assertOwnsBuffer(got[i]!, MARKER + i, n, `message ${i} (${n} B)`);
    }
    // Every message still holds its own bytes once the later ones were opened.
    for (const [i, n] of sizes.entries()) assertOwnsBuffer(got[i]!, MARKER + i, n, `later ${i}`);
  });

  it('encrypts (the frame body is not the plaintext) and frames as varint(len + 16)', async () => {
    const { sender, writes } = capturingSender();
    const m = msg(200, 0x41);
    await sender.send(m);
    const frame = writes[0]!;
    assert.deepEqual(frame.subarray(0, 2), Uint8Array.of(0xd8, 0x01)); // 216
    assert.equal(frame.length, 2 + 216);
    assert.notDeepEqual(frame.subarray(2, 202), m);
  });

  for (const [name, tamper] of [
    ['a flipped bit', (f: Uint8Array[]) => [f[0]!, flip(f[1]!, 5), f[2]!]],
    ['a replayed frame', (f: Uint8Array[]) => [f[0]!, f[0]!, f[1]!, f[2]!]],
    ['reordered frames', (f: Uint8Array[]) => [f[0]!, f[2]!, f[1]!]],
    ['a dropped frame', (f: Uint8Array[]) => [f[0]!, f[2]!]],
    ['a flipped tag bit', (f: Uint8Array[]) => [f[0]!, flip(f[1]!, f[1]!.length - 1), f[2]!]],
  ] as const) {
    it(`${name} is fatal: the stream closes and nothing after it is delivered`, async () => {
      const frames = await threeFrames();
      const p = new Pipe();
      for (const f of tamper(frames)) p.push(f);
      const r = receiverOn(p);
      assert.deepEqual(await r.recv(), msg(10, 1));
      assert.equal(await codeOf(r.recv()), 'DecryptionFailed');
      assert.ok(p.isClosed);
      assert.equal(await codeOf(r.recv()), 'StreamClosed');
    });
  }

  it('a frame shorter than the tag is DecryptionFailed', async () => {
    const p = new Pipe();
    p.push(Uint8Array.of(15, ...new Uint8Array(15)));
    assert.equal(await codeOf(receiverOn(p).recv()), 'DecryptionFailed');
    assert.ok(p.isClosed);
  });

  it('rejects an encrypted frame over maxMessageSize + 16 before reading it', async () => {
    const max = 1024;
    const { sender, writes } = capturingSender({ max });
    await sender.send(msg(max, 7));
    const atLimit = new Pipe();
    atLimit.push(writes[0]!);
    assert.equal((await receiverOn(atLimit, { max }).recv()).length, max);

    const over = new Pipe();
    over.push(Uint8Array.of(0x91, 0x08)); // 1041 = max + 16 + 1
    over.push(new Uint8Array(1041));
    assert.equal(await codeOf(receiverOn(over, { max }).recv()), 'RecvTooLarge');
    assert.equal(over.consumed, 0);
    assert.ok(over.isClosed);
  });

  it('delivers the frames before an oversize or malformed one, then fails at it', async () => {
    const max = 1024;
    for (const bad of [Uint8Array.of(0x88, 0x27), Uint8Array.of(0x80, 0x00)]) {
      const { sender, writes } = capturingSender({ max });
      await sender.sendMany([msg(10, 1), msg(20, 2)]);
      const p = new Pipe();
      p.push(writes[0]!);
      p.push(bad); // 5000 > 1024 + 16, or a non-canonical varint
      p.push(new Uint8Array(5000));
      const r = receiverOn(p, { max });
      assert.deepEqual(await r.recv(), msg(10, 1));
      assert.deepEqual(await r.recv(), msg(20, 2));
      const code = await codeOf(r.recv());
      assert.equal(code, bad[1] === 0 ? 'InvalidVarint' : 'RecvTooLarge');
      assert.ok(p.isClosed);
    }
  });

  it('rejects malformed and endless prefixes with flat memory', async () => {
    const before = memoryAfterGc().arrayBuffers;
    for (const prefix of [
      [0xff, 0xff, 0xff, 0xff, 0x0f],
      [0x80, 0x00],
      [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
    ]) {
      const p = new Pipe();
      p.push(Uint8Array.from(prefix));
      const code = await codeOf(receiverOn(p).recv());
      assert.ok(code === 'InvalidVarint' || code === 'RecvTooLarge', code);
      assert.ok(p.isClosed);
    }
    // An endless continuation, trickled: rejected at the 5th byte.
    const p = new Pipe();
    const result = codeOf(receiverOn(p).recv());
    for (let i = 0; i < 1000 && !p.isClosed; i++) {
      p.push(Uint8Array.of(0x80));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await result, 'InvalidVarint');
    assert.equal(p.consumed, 5);
    // Before: live memory only (after a collection). After: everything, so a transient
    // allocation sized by the hostile prefix would show.
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 1 << 20, `array buffers grew by ${grown}`);
  });

  it('stops at the 2^96 message limit on both sides', async () => {
    const start = (1n << 96n) - 2n;
    const { sender, writes } = capturingSender({ start });
    await sender.send(msg(1, 1));
    await sender.send(msg(1, 2));
    assert.equal(await codeOf(sender.send(msg(1, 3))), 'MessageLimitReached');
    assert.equal(await codeOf(sender.send(msg(1, 4))), 'StreamClosed');
    assert.equal(writes.length, 2);

    const p = new Pipe();
    for (const w of writes) p.push(w);
    p.push(writes[0]!); // a third frame: the receiver's counter is exhausted too
    const r = receiverOn(p, { start });
    assert.deepEqual(await r.recv(), msg(1, 1));
    assert.deepEqual(await r.recv(), msg(1, 2));
    assert.equal(await codeOf(r.recv()), 'MessageLimitReached');
  });

  it('sendMany packs frames into chunks of at most 128 KiB, one sink call each', async () => {
    const { sender, writes } = capturingSender();
    const messages = Array.from({ length: 1000 }, (_, i) => msg(1024, i & 0xff));
    await sender.sendMany(messages);
    // 1042-byte frames: 125 fit in 128 KiB.
    assert.deepEqual(
      writes.map((w) => w.length),
      [...Array(8)].map(() => 125 * 1042),
    );
    const p = new Pipe();
    for (const w of writes) p.push(w);
    const r = receiverOn(p);
    for (const m of messages) assert.deepEqual(await r.recv(), m);
  });

  it('sendMany sends an oversize frame alone and keeps order around it', async () => {
    const { sender, writes } = capturingSender();
    const big = msg(200 * 1024, 5);
    const messages = [msg(100, 1), msg(100, 2), big, msg(100, 3)];
    await sender.sendMany(messages);
    const sizes = writes.map((w) => w.length);
    assert.deepEqual(sizes, [2 * 117, 3 + 200 * 1024 + 16, 117]);
    for (const s of sizes) assert.ok(s <= CHUNK_SIZE || s === 3 + 200 * 1024 + 16);
    const p = new Pipe();
    for (const w of writes) p.push(w);
    const r = receiverOn(p);
    for (const m of messages) assert.deepEqual(await r.recv(), m);
  });

  it('SendTooLarge sends nothing, uses no nonce, and leaves the sender usable', async () => {
    const max = 1000;
    const { sender, writes } = capturingSender({ max });
    assert.equal(await codeOf(sender.sendMany([msg(10, 1), msg(max + 1, 2)])), 'SendTooLarge');
    assert.equal(await codeOf(sender.send(msg(max + 1, 2))), 'SendTooLarge');
    assert.equal(writes.length, 0);
    await sender.send(msg(10, 3));
    const p = new Pipe();
    p.push(writes[0]!);
    // The receiver opens it with nonce 0: no nonce was consumed by the refused sends.
    assert.deepEqual(await receiverOn(p, { max }).recv(), msg(10, 3));
  });

  it('a failing sink is SendFailed, closes the connection, and later sends are StreamClosed', async () => {
    const pipe = new Pipe();
    const sender = new Sender(pipe, new Cipher(KEY), MAX);
    pipe.close();
    assert.equal(await codeOf(sender.send(msg(1, 1))), 'SendFailed');
    assert.equal(await codeOf(sender.sendMany([msg(1, 1)])), 'StreamClosed');
  });

  it('a chunk failing while an earlier one is awaited is reported once, never unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const pipe = new Pipe();
      let release: () => void = () => {};
      let calls = 0;
      const sink = {
        send: (): Promise<void> => {
          calls++;
          if (calls === 1) return new Promise<void>((r) => (release = r));
          return Promise.reject(new Error('reset'));
        },
      };
      const conn = {
        ...pipe,
        sink,
        stream: pipe.stream,
        close: () => pipe.close(),
        closed: pipe.closed,
      };
      const sender = new Sender(conn, new Cipher(KEY), MAX);
      const big = Array.from({ length: 6 }, (_, i) => msg(100_000, i));
      const result = codeOf(sender.sendMany(big));
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      release();
      assert.equal(await result, 'SendFailed');
      assert.ok(pipe.isClosed);
      assert.ok(calls <= 4, `kept writing after a failure: ${calls} calls`);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('overlapping sends keep call order on the wire', async () => {
    const { sender, writes } = capturingSender();
    const messages = Array.from({ length: 50 }, (_, i) => msg(i * 37, i));
    await Promise.all(
      messages.map((m, i) => (i % 3 === 0 ? sender.sendMany([m]) : sender.send(m))),
    );
    const p = new Pipe();
    for (const w of writes) p.push(w);
    const r = receiverOn(p);
    for (const m of messages) assert.deepEqual(await r.recv(), m);
  });

  it('any message list, sent in any batching, arrives intact and in order under any chunking of the byte stream', async () => {
    const sizes = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 300 }) },
      { weight: 2, arbitrary: fc.integer({ min: 300, max: 20_000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 300_000 }) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(sizes, fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 30 }),
        async (spec, batches, splits) => {
          const messages = spec.map(([n, fill]) => msg(n, fill));
          const { sender, writes } = capturingSender();
          let i = 0;
          for (let b = 0; i < messages.length; b++) {
            const k = batches[b % batches.length]!;
            const batch = messages.slice(i, i + k);
            if (batch.length === 1) await sender.send(batch[0]!);
            else await sender.sendMany(batch);
            i += k;
          }
          const stream = concat(writes);
          const p = new Pipe();
          const r = receiverOn(p);
          // Deliver in random splits, interleaved with the reads.
          let offset = 0;
          let s = 0;
          const feeder = (async () => {
            while (offset < stream.length) {
              const n = splits[s++ % splits.length]!;
              p.push(stream.subarray(offset, offset + n));
              offset += n;
              await new Promise((res) => setImmediate(res));
            }
          })();
          for (const m of messages) assert.deepEqual(await r.recv(), m);
          await feeder;
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });
});

function flip(frame: Uint8Array, index: number): Uint8Array {
  const out = frame.slice();
  out[index]! ^= 0x01;
  return out;
}
