import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  array,
  bool,
  bytes,
  type Codec,
  CodecError,
  decode,
  encode,
  f32,
  f64,
  fixedBytes,
  i8,
  i16,
  i64,
  i128,
  option,
  Reader,
  tuple,
  u8,
  u16,
  u32,
  u64,
  u64Number,
  u128,
  usize,
  varU64,
  Writer,
} from '../../src/codec/index.js';
import { hex, throwsCodec, toHex } from './helpers.js';

describe('fixed-width primitives', () => {
  it('integers are big-endian at their full width', () => {
    assert.equal(toHex(encode(u8, 0xab)), 'ab');
    assert.equal(toHex(encode(u16, 0x1f90)), '1f 90');
    assert.equal(toHex(encode(u32, 0x01020304)), '01 02 03 04');
    assert.equal(toHex(encode(u64, 0x0102030405060708n)), '01 02 03 04 05 06 07 08');
    assert.equal(toHex(encode(u128, 1n)), `${'00 '.repeat(15)}01`);
    assert.equal(toHex(encode(i8, -1)), 'ff');
    assert.equal(toHex(encode(i16, -2)), 'ff fe');
    assert.equal(toHex(encode(i64, -1n)), 'ff '.repeat(8).trim());
    assert.equal(decode(i128, hex('ff '.repeat(16))), -1n);
    assert.equal(decode(i128, hex(`80${' 00'.repeat(15)}`)), -(1n << 127n));
    assert.equal(toHex(encode(f64, 1)), '3f f0 00 00 00 00 00 00');
    assert.equal(toHex(encode(f32, -2)), 'c0 00 00 00');
  });

  it('u64Number rejects values above MAX_SAFE_INTEGER', () => {
    assert.equal(decode(u64Number, hex('00 1f ff ff ff ff ff ff')), Number.MAX_SAFE_INTEGER);
    throwsCodec(() => decode(u64Number, hex('00 20 00 00 00 00 00 00')), 'InvalidUsize');
    assert.equal(toHex(encode(u64Number, 2 ** 32 + 5)), '00 00 00 01 00 00 00 05');
  });

  it('bool accepts only 0 and 1', () => {
    assert.equal(decode(bool, hex('00')), false);
    assert.equal(decode(bool, hex('01')), true);
    throwsCodec(() => decode(bool, hex('02')), 'InvalidBool');
    throwsCodec(() => decode(bool, hex('ff')), 'InvalidBool');
  });

  it('encoding out-of-range values is a RangeError, never silent truncation', () => {
    assert.throws(() => encode(u8, 256), RangeError);
    assert.throws(() => encode(u16, -1), RangeError);
    assert.throws(() => encode(u32, 2 ** 32), RangeError);
    assert.throws(() => encode(u64, -1n), RangeError);
    assert.throws(() => encode(u128, 1n << 128n), RangeError);
    assert.throws(() => encode(i8, 128), RangeError);
  });

  it('truncated fixed-width input is EndOfBuffer and leftovers are ExtraData', () => {
    throwsCodec(() => decode(u32, hex('01 02 03')), 'EndOfBuffer');
    throwsCodec(() => decode(u16, hex('01 02 03')), 'ExtraData');
  });
});

describe('bytes and composites', () => {
  it('bytes are a length prefix and the raw bytes, decoded as a view of the input', () => {
    const input = hex('03 61 62 63');
    const out = decode(bytes, input, { max: 3 });
    assert.deepEqual(out, new Uint8Array([0x61, 0x62, 0x63]));
    assert.equal(out.buffer, input.buffer);
    assert.equal(out.byteOffset, input.byteOffset + 1);
    throwsCodec(() => decode(bytes, input, { max: 2 }), 'InvalidLength');
    throwsCodec(() => decode(bytes, input, { min: 4, max: 10 }), 'InvalidLength');
    throwsCodec(() => decode(bytes, hex('04 61 62 63'), { max: 10 }), 'EndOfBuffer');
  });

  it('fixed bytes carry no prefix and must have the exact length', () => {
    const c = fixedBytes(3);
    assert.equal(toHex(encode(c, new Uint8Array([1, 2, 3]))), '01 02 03');
    assert.throws(() => encode(c, new Uint8Array(2)), RangeError);
    throwsCodec(() => decode(c, hex('01 02')), 'EndOfBuffer');
  });

  it('option is a bool tag then the value', () => {
    const c = option(u16);
    assert.equal(toHex(encode(c, undefined)), '00');
    assert.equal(toHex(encode(c, 0x1234)), '01 12 34');
    assert.equal(decode(c, hex('00')), undefined);
    assert.equal(decode(c, hex('01 12 34')), 0x1234);
    throwsCodec(() => decode(c, hex('02 12 34')), 'InvalidBool');
  });

  it('tuples concatenate their fields and route per-field configs', () => {
    const c = tuple(u8, varU64, bytes);
    const v: [number, bigint, Uint8Array] = [7, 300n, new Uint8Array([9])];
    const enc = encode(c, v);
    assert.equal(toHex(enc), '07 ac 02 01 09');
    assert.deepEqual(decode(c, enc, [undefined, undefined, { max: 1 }]), v);
    throwsCodec(() => decode(c, enc, [undefined, undefined, { max: 0 }]), 'InvalidLength');
    assert.deepEqual(decode(tuple(u8, u16), hex('01 00 02')), [1, 2]);
  });

  it('arrays have exactly N elements and no prefix', () => {
    const c = array(u16, 2);
    assert.equal(toHex(encode(c, [1, 2])), '00 01 00 02');
    assert.deepEqual(decode(c, hex('00 01 00 02')), [1, 2]);
    assert.throws(() => encode(c, [1]), RangeError);
  });

  it('the config argument is required exactly when the codec needs one', () => {
    assert.equal(decode(u8, hex('05')), 5);
    // @ts-expect-error bytes needs a RangeCfg
    throwsCodec(() => decode(bytes, hex('00')), 'Wrapped');
    // @ts-expect-error a tuple with a bytes field needs per-field configs
    throwsCodec(() => decode(tuple(u8, bytes), hex('00 00')), 'Wrapped');
    assert.deepEqual(decode(tuple(u8, u8), hex('01 02')), [1, 2]);
  });

  it('usize checks its range', () => {
    assert.equal(decode(usize, hex('ac 02'), { max: 300 }), 300);
    throwsCodec(() => decode(usize, hex('ac 02'), { max: 299 }), 'InvalidLength');
  });
});

describe('encode, decode, Reader and Writer', () => {
  it('encode refuses a codec whose encodeSize disagrees with what it writes', () => {
    const liar: Codec<number> = {
      encodeSize: () => 3,
      write: (v, w) => w.u16(v),
      read: (r) => r.u16(),
    };
    assert.throws(() => encode(liar, 1), RangeError);
    const overshoot: Codec<number> = { ...liar, encodeSize: () => 1 };
    assert.throws(() => encode(overshoot, 1), RangeError);
  });

  it('decode wraps a non-codec error from a custom decoder as Wrapped', () => {
    const buggy: Codec<number> = {
      encodeSize: () => 0,
      write: () => {},
      read: () => {
        throw new TypeError('boom');
      },
    };
    const err = throwsCodec(() => decode(buggy, new Uint8Array(0)), 'Wrapped');
    assert.ok(err.cause instanceof TypeError);
  });

  it('a growable writer doubles its storage and keeps earlier bytes', () => {
    const w = Writer.growable(1);
    for (let i = 0; i < 100; i++) w.u8(i);
    w.u64(1n);
    const out = w.finish();
    assert.equal(out.length, 108);
    assert.equal(out[99], 99);
    assert.equal(out[107], 1);
  });

  it('a fixed writer throws on overflow and wrap writes into the caller buffer', () => {
    const w = new Writer(2);
    w.u16(5);
    assert.throws(() => w.u8(1), RangeError);
    const buf = new Uint8Array(4);
    const ww = Writer.wrap(buf.subarray(1));
    ww.u16(0x0102);
    assert.deepEqual(buf, new Uint8Array([0, 1, 2, 0]));
  });

  it('a reader tracks its offset and never reads past the end', () => {
    const r = new Reader(hex('01 02 03 04 05'));
    assert.equal(r.u8(), 1);
    assert.equal(r.offset, 1);
    assert.equal(r.remaining, 4);
    assert.equal(r.u16(), 0x0203);
    throwsCodec(() => r.u32(), 'EndOfBuffer');
    assert.equal(r.offset, 3);
    assert.deepEqual(r.readBytes(2), new Uint8Array([4, 5]));
    throwsCodec(() => r.u8(), 'EndOfBuffer');
    assert.ok(new CodecError('Invalid', undefined, { context: 'X' }).message.includes('X'));
  });
});
