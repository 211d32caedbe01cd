import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CodecError } from '../../../../src/codec/index.js';
import {
  DATA_TAG,
  encodeData,
  MAX_PAYLOAD_OVERHEAD,
  peekDataChannel,
  smallDataStart,
} from '../../../../src/p2p/authenticated/data.js';
import {
  decodeMessage,
  encodeMessage,
  type Message,
  PING_FRAME,
} from '../../../../src/p2p/authenticated/lookup/types.js';
import { P2PError } from '../../../../src/p2p/errors.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** LEB128 varint bytes of a non-negative integer below 2^53. */
const varint = (n: number): number[] => {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
  out.push(n);
  return out;
};
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('Data and lookup Message codecs', () => {
  it('encodes Data on channel 7 with "ping" as 00 07 04 70 69 6e 67', () => {
    const ping = new TextEncoder().encode('ping');
    assert.equal(hex(encodeData(7, ping)), '00070470696e67');
    assert.equal(hex(encodeMessage({ type: 'data', channel: 7, message: ping })), '00070470696e67');
  });

  it('encodes Ping as the single byte 01', () => {
    assert.equal(hex(encodeMessage({ type: 'ping' })), '01');
    assert.equal(hex(PING_FRAME), '01');
    assert.deepEqual(decodeMessage(bytes('01')), { type: 'ping' });
  });

  it('encodes large channels and lengths as varints', () => {
    const msg = new Uint8Array(300);
    const enc = encodeData(300, msg);
    assert.equal(hex(enc.subarray(0, 5)), '00ac02ac02');
    assert.equal(enc.length, 5 + 300);
    const max = encodeData(Number.MAX_SAFE_INTEGER, new Uint8Array(0));
    assert.equal(hex(max), '00ffffffffffffff0f00');
    assert.ok(max.length <= MAX_PAYLOAD_OVERHEAD);
    assert.equal(peekDataChannel(max), Number.MAX_SAFE_INTEGER);
  });

  it('encodes messages of 16 KiB and more (the uninitialised large path) byte for byte', () => {
    for (const [channel, len] of [
      [7, 0x3fff],
      [7, 0x4000],
      [7, 64 * 1024],
      [300, 64 * 1024],
    ] as const) {
      const msg = Uint8Array.from({ length: len }, (_, i) => (i * 31 + 7) & 0xff);
      const enc = encodeData(channel, msg);
      // 00 || varint(channel) || varint(len) || message, every byte written (none left over).
      const head = [0, ...varint(channel), ...varint(len)];
      assert.equal(enc.length, head.length + len);
      assert.deepEqual([...enc.subarray(0, head.length)], head);
      assert.ok(Buffer.from(enc.subarray(head.length)).equals(Buffer.from(msg)));
      const m = decodeMessage(enc, { max: len });
      assert.ok(m.type === 'data' && m.channel === channel && m.message.length === len);
    }
  });

  it('decodes a Data message as a view with the right channel', () => {
    const m = decodeMessage(bytes('00 07 04 70 69 6e 67'));
    assert.equal(m.type, 'data');
    assert.ok(m.type === 'data');
    assert.equal(m.channel, 7);
    assert.equal(new TextDecoder().decode(m.message), 'ping');
  });

  it('rejects unknown tags, channels beyond 2^53 - 1, trailing bytes and short bodies', () => {
    const code = (h: string): string => {
      try {
        decodeMessage(bytes(h));
      } catch (err) {
        assert.ok(err instanceof CodecError);
        return err.code;
      }
      return 'none';
    };
    assert.equal(code('02'), 'InvalidEnum');
    assert.equal(code('ff'), 'InvalidEnum');
    assert.equal(code(''), 'EndOfBuffer');
    // 2^53 as a u64 varint: 80 80 80 80 80 80 80 10
    assert.equal(code('00 8080808080808010 00'), 'InvalidUsize');
    // u64::MAX is a valid varint but not a safe integer.
    assert.equal(code('00 ffffffffffffffffff01 00'), 'InvalidUsize');
    assert.equal(code('00 8080808080808080808002 00'), 'InvalidVarint');
    assert.equal(code('01 00'), 'ExtraData');
    assert.equal(code('00 07 05 70 69 6e 67'), 'EndOfBuffer');
    assert.throws(
      () => decodeMessage(bytes('00 07 04 70 69 6e 67'), { max: 3 }),
      (e) => e instanceof CodecError && e.code === 'InvalidLength',
    );
    assert.equal(code('00 07'), 'EndOfBuffer');
    assert.equal(code('00 80 00 00'), 'InvalidVarint');
  });

  it('rejects an invalid channel on encode with P2PError InvalidChannel', () => {
    const invalid = [-1, -0x80, 0.5, 1.5, 2 ** 32 + 0.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN];
    for (const c of [...invalid, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.throws(
        () => encodeData(c, new Uint8Array(0)),
        (e) => e instanceof P2PError && e.code === 'InvalidChannel',
      );
    }
  });

  it('peeks the channel of a data frame and nothing else', () => {
    assert.equal(peekDataChannel(encodeData(42, new Uint8Array(3))), 42);
    assert.equal(peekDataChannel(PING_FRAME), undefined);
    assert.equal(peekDataChannel(new Uint8Array(0)), undefined);
    assert.equal(peekDataChannel(Uint8Array.of(DATA_TAG, 0x80)), undefined);
  });

  it('encodes the small-frame fast path exactly as the codec does (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 20_000 }),
        (channel, len) => {
          const message = new Uint8Array(len).fill(0xab);
          const frame = encodeData(channel, message);
          assert.deepEqual(frame, encodeMessage({ type: 'data', channel, message }));
          assert.equal(peekDataChannel(frame), channel);
        },
      ),
    );
  });

  it('takes the receive fast path only for frames the full decoder accepts, identically', () => {
    const check = (frame: Uint8Array, max: number): void => {
      const start = smallDataStart(frame, max);
      if (start < 0) return;
      const msg = decodeMessage(frame, { max });
      assert.equal(msg.type, 'data');
      if (msg.type !== 'data') return;
      assert.equal(msg.channel, frame[1]);
      assert.deepEqual(msg.message, frame.subarray(start));
    };
    // Non-canonical length (80 00), trailing byte, short body, over the limit, ping, 2-byte channel.
    for (const h of ['00018000', '0001010203', '000102aa', '0001030102', '01', '00800101aa']) {
      assert.equal(smallDataStart(bytes(h), 16), -1, h);
    }
    assert.equal(smallDataStart(bytes('0001020102'), 1), -1);
    assert.equal(smallDataStart(bytes('0001020102'), 2), 3);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 300 }), check),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 127 }),
        fc.integer({ min: 0, max: 20_000 }),
        (channel, len) => {
          const frame = encodeData(channel, new Uint8Array(len));
          assert.equal(smallDataStart(frame, len) >= 0, len < 0x4000);
          check(frame, len);
        },
      ),
    );
  });

  it('round-trips every message (fast-check)', () => {
    const arb: fc.Arbitrary<Message> = fc.oneof(
      fc.constant<Message>({ type: 'ping' }),
      fc
        .record({
          channel: fc.oneof(fc.nat(300), fc.maxSafeNat()),
          message: fc.uint8Array({ maxLength: 200 }),
        })
        .map((d): Message => ({ type: 'data', ...d })),
    );
    fc.assert(
      fc.property(arb, (m) => {
        const enc = encodeMessage(m);
        const dec = decodeMessage(enc);
        assert.deepEqual(
          dec.type === 'data' ? { ...dec, message: Uint8Array.from(dec.message) } : dec,
          m,
        );
        if (m.type === 'data') assert.deepEqual(encodeData(m.channel, m.message), enc);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('throws only CodecError on random bytes (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          fc.uint8Array({ maxLength: 40 }).map((b) => Uint8Array.of(0, ...b)),
        ),
        (b) => {
          try {
            decodeMessage(b);
          } catch (err) {
            assert.ok(err instanceof CodecError, `unexpected ${String(err)}`);
          }
        },
      ),
      { seed: 42, numRuns: 5000 },
    );
  });
});
