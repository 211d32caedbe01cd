import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CodecError,
  decode,
  encode,
  peekVarintU32,
  varI16,
  varI32,
  varI64,
  varintU32Size,
  varU16,
  varU32,
  varU64,
  varU64Number,
  varU128,
  writeVarintU32,
} from '../../src/codec/index.js';
import { hex, throwsCodec, toHex } from './helpers.js';

const U32_MAX = 0xffffffff;
const U64_MAX = (1n << 64n) - 1n;

const golden: [bigint, string][] = [
  [0n, '00'],
  [1n, '01'],
  [127n, '7f'],
  [128n, '80 01'],
  [136n, '88 01'],
  [300n, 'ac 02'],
  [1024n, '80 08'],
  [16383n, 'ff 7f'],
  [16384n, '80 80 01'],
  [0xfffffffn, 'ff ff ff 7f'],
  [0x10000000n, '80 80 80 80 01'],
  [BigInt(U32_MAX), 'ff ff ff ff 0f'],
  [BigInt(Number.MAX_SAFE_INTEGER), 'ff ff ff ff ff ff ff 0f'],
  [U64_MAX, 'ff ff ff ff ff ff ff ff ff 01'],
];

describe('varint golden vectors', () => {
  it('u64 varints encode and decode to the documented bytes', () => {
    for (const [v, h] of golden) {
      assert.equal(toHex(encode(varU64, v)), h, `encode ${v}`);
      assert.equal(decode(varU64, hex(h)), v, `decode ${h}`);
    }
  });

  it('u32 varints match the same bytes for every value that fits', () => {
    for (const [v, h] of golden) {
      if (v > BigInt(U32_MAX)) continue;
      assert.equal(toHex(encode(varU32, Number(v))), h);
      assert.equal(decode(varU32, hex(h)), Number(v));
      const out = new Uint8Array(8);
      const n = writeVarintU32(Number(v), out, 2);
      assert.equal(n, varintU32Size(Number(v)));
      assert.equal(toHex(out.subarray(2, 2 + n)), h);
      assert.deepEqual(peekVarintU32(out, 2), { value: Number(v), length: n });
    }
  });

  it('u64 narrowed to a number accepts up to MAX_SAFE_INTEGER and rejects 2^53', () => {
    assert.equal(decode(varU64Number, hex('ff ff ff ff ff ff ff 0f')), Number.MAX_SAFE_INTEGER);
    assert.equal(toHex(encode(varU64Number, Number.MAX_SAFE_INTEGER)), 'ff ff ff ff ff ff ff 0f');
    throwsCodec(() => decode(varU64Number, hex('80 80 80 80 80 80 80 10')), 'InvalidUsize');
    throwsCodec(() => decode(varU64Number, hex('ff ff ff ff ff ff ff ff ff 01')), 'InvalidUsize');
  });

  it('zigzag signed varints map small magnitudes to short encodings', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [-1, '01'],
      [1, '02'],
      [-2, '03'],
      [63, '7e'],
      [-64, '7f'],
      [64, '80 01'],
      [2147483647, 'fe ff ff ff 0f'],
      [-2147483648, 'ff ff ff ff 0f'],
    ];
    for (const [v, h] of cases) {
      assert.equal(toHex(encode(varI32, v)), h);
      assert.equal(decode(varI32, hex(h)), v);
      assert.equal(toHex(encode(varI64, BigInt(v))), h);
      assert.equal(decode(varI64, hex(h)), BigInt(v));
    }
    assert.equal(toHex(encode(varI16, -32768)), 'ff ff 03');
    assert.equal(decode(varI16, hex('fe ff 03')), 32767);
    assert.equal(toHex(encode(varI64, -(1n << 63n))), 'ff ff ff ff ff ff ff ff ff 01');
  });
});

describe('varint strictness', () => {
  it('rejects a continuation byte followed by a final zero byte', () => {
    for (const h of ['80 00', 'ff 00', 'ff 80 00', '80 80 80 00', 'ff ff ff ff 00']) {
      throwsCodec(() => decode(varU32, hex(h)), 'InvalidVarint');
      throwsCodec(() => decode(varU64, hex(h)), 'InvalidVarint');
      throwsCodec(() => peekVarintU32(hex(h)), 'InvalidVarint');
    }
    throwsCodec(() => decode(varU16, hex('80 00')), 'InvalidVarint');
  });

  it('rejects bits beyond the type width in the last byte', () => {
    throwsCodec(() => decode(varU32, hex('ff ff ff ff 10')), 'InvalidVarint');
    throwsCodec(() => decode(varU32, hex('ff ff ff ff 8f 01')), 'InvalidVarint');
    throwsCodec(() => decode(varU32, hex('80 80 80 80 80 01')), 'InvalidVarint');
    throwsCodec(() => decode(varU64, hex('ff ff ff ff ff ff ff ff ff 02')), 'InvalidVarint');
    throwsCodec(() => decode(varU64, hex('ff ff ff ff ff ff ff ff ff 81 00')), 'InvalidVarint');
    assert.equal(decode(varU16, hex('ff ff 03')), 0xffff);
    throwsCodec(() => decode(varU16, hex('ff ff 04')), 'InvalidVarint');
    assert.equal(decode(varU16, hex('80 80 01')), 0x4000);
    throwsCodec(() => decode(varU16, hex('ff ff 83 01')), 'InvalidVarint');
    assert.equal(decode(varU128, hex(`${'ff '.repeat(18)}03`)), (1n << 128n) - 1n);
    throwsCodec(() => decode(varU128, hex(`${'ff '.repeat(18)}04`)), 'InvalidVarint');
  });

  it('reports truncated input as EndOfBuffer', () => {
    for (const h of ['', '80', 'ff ff', 'ff ff ff ff']) {
      throwsCodec(() => decode(varU32, hex(h)), 'EndOfBuffer');
      throwsCodec(() => decode(varU64, hex(h)), 'EndOfBuffer');
    }
  });

  it('refuses to encode values outside the type', () => {
    assert.throws(() => encode(varU32, -1), RangeError);
    assert.throws(() => encode(varU32, 2 ** 32), RangeError);
    assert.throws(() => encode(varU32, 1.5), RangeError);
    assert.throws(() => encode(varU16, 0x10000), RangeError);
    assert.throws(() => encode(varU64, 1n << 64n), RangeError);
    assert.throws(() => encode(varU64Number, 2 ** 53), RangeError);
    assert.throws(() => encode(varI32, 2 ** 31), RangeError);
  });
});

describe('peekVarintU32', () => {
  it('returns undefined on every proper prefix and the value once complete', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: U32_MAX }), fc.nat(3), (v, pad) => {
        const full = encode(varU32, v);
        const buf = new Uint8Array(pad + full.length + 2);
        buf.set(full, pad);
        buf[pad + full.length] = 0xaa;
        for (let end = pad; end < pad + full.length; end++) {
          assert.equal(peekVarintU32(buf.subarray(0, end), pad), undefined);
        }
        assert.deepEqual(peekVarintU32(buf.subarray(0, pad + full.length), pad), {
          value: v,
          length: full.length,
        });
        // Bytes after the varint are not consumed.
        assert.deepEqual(peekVarintU32(buf, pad), { value: v, length: full.length });
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('throws on an endless 0x80 continuation by the fifth byte', () => {
    const endless = new Uint8Array(64).fill(0x80);
    for (let n = 1; n <= 4; n++) assert.equal(peekVarintU32(endless.subarray(0, n)), undefined);
    throwsCodec(() => peekVarintU32(endless.subarray(0, 5)), 'InvalidVarint');
    throwsCodec(() => peekVarintU32(endless), 'InvalidVarint');
    const ffs = new Uint8Array(64).fill(0xff);
    throwsCodec(() => peekVarintU32(ffs.subarray(0, 5)), 'InvalidVarint');
  });

  it('accepts the largest fifth byte and rejects the next one', () => {
    assert.deepEqual(peekVarintU32(hex('ff ff ff ff 0f')), { value: U32_MAX, length: 5 });
    throwsCodec(() => peekVarintU32(hex('ff ff ff ff 10')), 'InvalidVarint');
  });

  it('agrees with the Reader-based decoder on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 7 }), (b) => {
        let peeked: ReturnType<typeof peekVarintU32> | CodecError;
        try {
          peeked = peekVarintU32(b);
        } catch (err) {
          assert.ok(err instanceof CodecError);
          peeked = err;
        }
        let decoded: number | CodecError;
        try {
          decoded = decode(
            varU32,
            b.subarray(0, peeked instanceof CodecError ? b.length : (peeked?.length ?? b.length)),
          );
        } catch (err) {
          assert.ok(err instanceof CodecError);
          decoded = err;
        }
        if (peeked === undefined) {
          assert.ok(decoded instanceof CodecError && decoded.code === 'EndOfBuffer');
        } else if (peeked instanceof CodecError) {
          assert.ok(decoded instanceof CodecError && decoded.code === 'InvalidVarint');
        } else {
          assert.equal(decoded, peeked.value);
        }
      }),
      { seed: 42, numRuns: 20000 },
    );
  });
});
