// The connection behaviour both runtimes must share: run against the in-memory network and
// against real 127.0.0.1 TCP (connection-deterministic.test.ts, connection-node.test.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { ByteReader, Connection, Context } from '../../src/runtime/index.js';
import { RuntimeError } from '../../src/runtime/index.js';
import { TrackedNetwork } from '../../src/runtime/tracked.js';

/** Runs `fn` in a fresh runtime and returns its result. */
export type Run = <T>(fn: (ctx: Context) => Promise<T>) => Promise<T>;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A connected pair: `a` dialed, `b` accepted. */
async function pair(ctx: Context): Promise<{ a: Connection; b: Connection }> {
  const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
  const accepted = listener.accept();
  const a = await ctx.network.dial(listener.address);
  const b = await accepted;
  listener.close();
  return { a, b };
}

/** Waits (turns of the runtime's clock, bounded) until `done()`. */
async function waitFor(ctx: Context, done: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !done(); i++) await ctx.clock.sleep(1);
  assert.ok(done(), 'condition reached within 2,000 turns');
}

function code(expected: string): (e: unknown) => boolean {
  return (e) => e instanceof RuntimeError && e.code === expected;
}

/**
 * Registers the suite. `bufferBound` is the most unread bytes a receiver may hold while it is
 * not reading (the runtime's receive bound plus slack for one read in flight).
 */
export function connectionSuite(name: string, run: Run, bufferBound: number): void {
  test(`${name}: addresses of both ends match each other`, () =>
    run(async (ctx) => {
      const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
      assert.notEqual(listener.address.port, 0);
      const accepted = listener.accept();
      const a = await ctx.network.dial(listener.address);
      const b = await accepted;
      assert.deepEqual(a.remote, listener.address);
      assert.deepEqual(b.local, listener.address);
      assert.deepEqual(b.remote, a.local);
      listener.close();
      a.close();
      b.close();
    }));

  test(`${name}: recv returns exactly the requested bytes across and within sends`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      await a.sink.send(enc.encode('hello world'));
      for (const piece of ['ab', 'c', 'defg']) await a.sink.send(enc.encode(piece));
      assert.equal(dec.decode(await b.stream.recv(5)), 'hello');
      assert.equal(dec.decode(await b.stream.recv(1)), ' ');
      assert.equal(dec.decode(await b.stream.recv(7)), 'worldab');
      assert.equal(dec.decode(await b.stream.recv(5)), 'cdefg');
      assert.equal((await b.stream.recv(0)).length, 0);
      a.close();
      b.close();
    }));

  test(`${name}: a recv waits for bytes sent later`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      const pending = b.stream.recv(6);
      await a.sink.send(enc.encode('abc'));
      await a.sink.send(enc.encode('def'));
      assert.equal(dec.decode(await pending), 'abcdef');
      a.close();
      b.close();
    }));

  test(`${name}: a pending recv with a scratch copies bytes spanning reads into it`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      const pieces = [0, 1, 2].map((i) =>
        new Uint8Array(3000 + i).map((_, j) => (i * 7 + j) & 0xff),
      );
      const all = Uint8Array.from(Buffer.concat(pieces));
      const lent: Uint8Array[] = [];
      const got = b.stream.recv(all.length, (n) => {
        assert.equal(n, all.length);
        lent.push(new Uint8Array(n + 9));
        return lent[0]!;
      });
      for (const p of pieces) await a.sink.send(p);
      const bytes = await got;
      assert.ok(Buffer.from(all).equals(bytes), 'the bytes, in order');
      // The runtime may have received the pieces as one read (then a view of it, no copy).
      assert.ok(lent.length <= 1);
      if (lent.length === 1) assert.equal(bytes.buffer, lent[0]!.buffer);
      a.close();
      b.close();
    }));

  test(`${name}: a second concurrent recv is refused without poisoning`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      const first = b.stream.recv(2);
      await assert.rejects(b.stream.recv(1), TypeError);
      await a.sink.send(enc.encode('ok'));
      assert.equal(dec.decode(await first), 'ok');
      a.close();
      b.close();
    }));

  test(`${name}: peek shows buffered bytes without consuming them`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      assert.equal(b.stream.peek(10).length, 0);
      await a.sink.send(enc.encode('0123456789'));
      assert.equal(dec.decode(await b.stream.recv(1)), '0');
      const seen = dec.decode(b.stream.peek(4));
      assert.ok('1234'.startsWith(seen), `peek returned ${seen}`);
      assert.equal(dec.decode(b.stream.peek(4)), seen);
      assert.equal(b.stream.peek(0).length, 0);
      assert.equal(dec.decode(await b.stream.recv(9)), '123456789');
      assert.equal(b.stream.peek(4).length, 0);
      a.close();
      b.close();
    }));

  test(`${name}: a batch of buffers is written in order`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      const parts = ['len:', '', 'payload', '!'].map((s) => enc.encode(s));
      await a.sink.send(parts);
      await a.sink.send([]);
      await a.sink.send([enc.encode('x')]);
      assert.equal(dec.decode(await b.stream.recv(13)), 'len:payload!x');
      a.close();
      b.close();
    }));

  test(`${name}: close rejects pending and later calls and resolves closed`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      const pending = a.stream.recv(1);
      a.close();
      a.close();
      await assert.rejects(pending, code('Closed'));
      await assert.rejects(a.stream.recv(1), code('Closed'));
      await assert.rejects(a.sink.send(enc.encode('x')), code('Closed'));
      await a.closed;
      b.close();
      await b.closed;
    }));

  test(`${name}: closed first read after the close resolves; a tracked network forgets closed connections`, () =>
    run(async (ctx) => {
      const tracked = new TrackedNetwork(ctx.network);
      const listener = await tracked.bind({ ip: '127.0.0.1', port: 0 });
      const accepted = listener.accept();
      const a = await tracked.dial(listener.address);
      const b = await accepted;
      assert.equal(tracked.open, 3);
      a.close();
      await assert.rejects(b.stream.recv(1), code('Closed'));
      // `closed` made only now, after both ends saw the close.
      await a.closed;
      await b.closed;
      await a.closed;
      b.close();
      // Yield a few times (the deterministic network forgets through a reaction on `closed`).
      for (let i = 0; i < 5 && tracked.open > 1; i++) await ctx.clock.sleep(0);
      assert.equal(tracked.open, 1, 'only the listener is left');
      await tracked.closeAll();
      assert.equal(tracked.open, 0);
    }));

  test(`${name}: after the peer closes, buffered bytes are readable and then recv rejects`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      await a.sink.send(enc.encode('bye'));
      a.close();
      assert.equal(dec.decode(await b.stream.recv(3)), 'bye');
      await assert.rejects(b.stream.recv(1), code('Closed'));
      await b.closed;
      await assert.rejects(b.sink.send(enc.encode('x')), code('Closed'));
      b.close();
    }));

  test(`${name}: a pending recv rejects when the peer closes`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      const pending = b.stream.recv(4);
      await a.sink.send(enc.encode('ab'));
      a.close();
      await assert.rejects(pending, code('Closed'));
      b.close();
    }));

  test(`${name}: read returns buffered bytes at once and tells a pending reader once, never inside the call`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      const read = b.stream.read?.bind(b.stream);
      assert.ok(read !== undefined, 'both runtimes have read');
      const told: string[] = [];
      let inside = false;
      const reader: ByteReader = {
        onBytes: (bytes) => {
          assert.ok(!inside, 'not told inside a call');
          told.push(dec.decode(bytes));
        },
        onError: (err) => told.push(`error ${String(err)}`),
      };
      inside = true;
      assert.equal(read(3, reader), undefined, 'nothing buffered: pending');
      assert.throws(() => read(1, reader), TypeError, 'one read at a time');
      inside = false;
      await a.sink.send(enc.encode('ab'));
      await a.sink.send(enc.encode('cdefgh'));
      await waitFor(ctx, () => told.length === 1);
      assert.deepEqual(told, ['abc']);
      // The rest is buffered: read returns it at once, without the reader.
      await waitFor(ctx, () => b.stream.peek(5).length === 5);
      inside = true;
      assert.equal(dec.decode(read(2, reader) as Uint8Array), 'de');
      assert.equal(dec.decode(read(3, reader) as Uint8Array), 'fgh');
      assert.equal(read(0, reader)?.length, 0);
      assert.throws(() => read(-1, reader), RangeError);
      inside = false;
      await ctx.clock.sleep(0);
      assert.deepEqual(told, ['abc']);
      a.close();
      b.close();
    }));

  test(`${name}: a reader may read again from inside onBytes (frames split at every boundary)`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      // Length-prefixed records (one length byte), read as prefix then body from the callbacks.
      const records = ['x', '', 'hello', 'a longer record', 'z'];
      const wire = Buffer.concat(
        records.map((r) => Buffer.concat([Buffer.of(r.length), enc.encode(r)])),
      );
      const got: string[] = [];
      let failed: unknown;
      const stream = b.stream;
      let body = -1;
      const reader: ByteReader = {
        onBytes: (bytes) => {
          for (let chunk: Uint8Array | undefined = bytes; chunk !== undefined; ) {
            if (body < 0) body = chunk[0] as number;
            else {
              got.push(dec.decode(chunk));
              body = -1;
            }
            if (got.length === records.length) return;
            // An empty body needs no read (a read of 0 is complete at once).
            chunk = stream.read?.(body < 0 ? 1 : body, reader);
          }
        },
        onError: (err) => {
          failed = err;
        },
      };
      let first = stream.read?.(1, reader);
      assert.equal(first, undefined);
      // Every byte on its own send, with a turn between: each read waits and is told.
      for (const byte of wire) {
        await a.sink.send(Uint8Array.of(byte));
        await ctx.clock.sleep(1);
      }
      await waitFor(ctx, () => got.length === records.length || failed !== undefined);
      assert.equal(failed, undefined);
      assert.deepEqual(got, records);
      first = undefined;
      a.close();
      b.close();
    }));

  test(`${name}: close and the peer's close fail a pending read (the reader told once, after the call)`, () =>
    run(async (ctx) => {
      for (const who of ['local', 'peer'] as const) {
        const { a, b } = await pair(ctx);
        const errors: unknown[] = [];
        let bytes = 0;
        let inside = false;
        let toldInside = false;
        const reader: ByteReader = {
          onBytes: () => {
            bytes++;
          },
          onError: (err) => {
            toldInside ||= inside;
            errors.push(err);
          },
        };
        await a.sink.send(enc.encode('ab'));
        await waitFor(ctx, () => b.stream.peek(2).length === 2);
        assert.equal(b.stream.read?.(4, reader), undefined);
        inside = true;
        if (who === 'local') b.close();
        else a.close();
        inside = false;
        await waitFor(ctx, () => errors.length > 0);
        await ctx.clock.sleep(1);
        assert.equal(errors.length, 1, `${who}: told once`);
        assert.equal(bytes, 0);
        assert.ok(!toldInside, `${who}: not inside close()`);
        assert.ok(
          errors[0] instanceof RuntimeError && errors[0].code === 'Closed',
          `${who}: Closed`,
        );
        // After the peer's close the two buffered bytes stay readable, not three.
        assert.throws(() => b.stream.read?.(3, reader), code('Closed'));
        a.close();
        b.close();
      }
    }));

  test(`${name}: 32 MiB arrive intact while the receiver's buffer stays bounded`, () =>
    run(async (ctx) => {
      const { a, b } = await pair(ctx);
      const total = 32 * 1024 * 1024;
      const chunk = 64 * 1024;
      const sent = createHash('sha256');
      const writer = ctx.spawn('writer', async () => {
        for (let off = 0; off < total; off += chunk) {
          const buf = ctx.rng.bytes(chunk);
          sent.update(buf);
          // Two buffers per batch exercise the vectored path.
          await a.sink.send([buf.subarray(0, 100), buf.subarray(100)]);
        }
      });
      const got = createHash('sha256');
      let received = 0;
      let maxBuffered = 0;
      while (received < total) {
        const n = Math.min(total - received, ctx.rng.int(1, 3 * chunk));
        const bytes = await b.stream.recv(n);
        assert.equal(bytes.length, n);
        got.update(bytes);
        received += n;
        maxBuffered = Math.max(maxBuffered, b.stream.peek(Number.MAX_SAFE_INTEGER).length);
      }
      await writer.done;
      assert.equal(got.digest('hex'), sent.digest('hex'));
      assert.ok(maxBuffered <= bufferBound, `buffered ${maxBuffered} > ${bufferBound}`);
      a.close();
      b.close();
    }));
}
