import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeFrame, recvFrame } from '../../src/stream/frame.js';
import { StreamError } from '../../src/stream/index.js';
import { memoryAfterGc } from '../helpers/memory.js';
import { codeOf, Pipe } from './helpers.js';

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
}

describe('stream framing', () => {
  it('prefixes a payload with its varint length', () => {
    assert.deepEqual(encodeFrame(new Uint8Array(0), 10), hex('00'));
    assert.deepEqual(encodeFrame(new Uint8Array(3).fill(7), 10), hex('03 070707'));
    const big = encodeFrame(new Uint8Array(136), 136);
    assert.deepEqual(big.subarray(0, 2), hex('88 01'));
    assert.equal(big.length, 138);
  });

  it('refuses to send a payload over the limit', () => {
    assert.throws(
      () => encodeFrame(new Uint8Array(11), 10),
      (e: unknown) => e instanceof StreamError && e.code === 'SendTooLarge',
    );
  });

  it('reads a buffered frame (fast path) and a trickled frame (slow path)', async () => {
    const fast = new Pipe();
    fast.push(hex('ac02'));
    fast.push(new Uint8Array(300).fill(1));
    const a = await recvFrame(fast.stream, 300);
    assert.equal(a.length, 300);
    assert.equal(fast.consumed, 302);

    const slow = new Pipe();
    const pending = recvFrame(slow.stream, 300);
    slow.push(hex('ac'));
    await Promise.resolve();
    slow.push(hex('02'));
    slow.push(new Uint8Array(300).fill(2));
    const b = await pending;
    assert.deepEqual(b, new Uint8Array(300).fill(2));
  });

  it('accepts a length exactly at the limit and rejects one byte more before reading it', async () => {
    const ok = new Pipe();
    ok.push(encodeFrame(new Uint8Array(32), 32));
    assert.equal((await recvFrame(ok.stream, 32)).length, 32);

    const over = new Pipe();
    over.push(hex('21'));
    over.push(new Uint8Array(33));
    assert.equal(await codeOf(recvFrame(over.stream, 32)), 'RecvTooLarge');
    assert.equal(over.consumed, 0);
  });

  it('rejects huge prefixes without allocating for them', async () => {
    const before = memoryAfterGc().arrayBuffers;
    for (const prefix of ['ffffffff0f', 'feffffff0f', '8080808010', '80808080808001']) {
      const p = new Pipe();
      p.push(hex(prefix));
      const code = await codeOf(recvFrame(p.stream, 1 << 20));
      assert.ok(code === 'RecvTooLarge' || code === 'InvalidVarint', `${prefix}: ${code}`);
    }
    // Before: live memory only (after a collection). After: everything, so a transient
    // allocation sized by the hostile prefix would show.
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 1 << 20, `array buffers grew by ${grown}`);
  });

  it('rejects non-canonical and overflowing varints', async () => {
    for (const prefix of ['8000', '808000', 'ff80808010', 'ffffffff1f', '8080808080']) {
      const p = new Pipe();
      p.push(hex(prefix));
      assert.equal(await codeOf(recvFrame(p.stream, 0xffffffff)), 'InvalidVarint', prefix);
    }
  });

  it('rejects an endless 0x80 continuation at the 5th byte, whether buffered or trickled', async () => {
    const buffered = new Pipe();
    buffered.push(new Uint8Array(1 << 16).fill(0x80));
    assert.equal(await codeOf(recvFrame(buffered.stream, 1 << 20)), 'InvalidVarint');
    assert.equal(buffered.consumed, 0);

    const trickled = new Pipe();
    const result = codeOf(recvFrame(trickled.stream, 1 << 20));
    for (let i = 0; i < 64; i++) {
      trickled.push(Uint8Array.of(0x80));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await result, 'InvalidVarint');
    assert.equal(trickled.consumed, 5);
  });

  it('reports a connection that ends mid-frame as RecvFailed', async () => {
    const p = new Pipe();
    p.push(hex('05 0102'));
    p.end();
    assert.equal(await codeOf(recvFrame(p.stream, 10)), 'RecvFailed');
  });
});
