import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BitMap, bitMap, decode, encode } from '../../src/codec/index.js';
import { hex, throwsCodec, toHex } from './helpers.js';

describe('BitMap', () => {
  it('[1,0,1] encodes as a u64 length and one LSB-first byte', () => {
    const b = BitMap.fromBools([true, false, true]);
    assert.equal(toHex(encode(bitMap, b)), '00 00 00 00 00 00 00 03 05');
    const back = decode(bitMap, hex('00 00 00 00 00 00 00 03 05'), { max: 3 });
    assert.deepEqual(back.toBools(), [true, false, true]);
  });

  it('rejects any set bit past the length', () => {
    for (const h of [
      '00 00 00 00 00 00 00 03 0d',
      '00 00 00 00 00 00 00 03 85',
      '00 00 00 00 00 00 00 01 02',
    ]) {
      const e = throwsCodec(() => decode(bitMap, hex(h), { max: 64 }), 'Invalid');
      assert.equal(e.context, 'BitMap');
    }
    // A full last byte has no trailing bits to check.
    assert.equal(decode(bitMap, hex('00 00 00 00 00 00 00 08 ff'), { max: 8 }).count(), 8);
  });

  it('rejects a length above the configured max before reading the body', () => {
    throwsCodec(
      () => decode(bitMap, hex('00 00 00 00 00 00 00 04 05'), { max: 3 }),
      'InvalidLength',
    );
    throwsCodec(
      () => decode(bitMap, hex('ff ff ff ff ff ff ff ff'), { max: 1000 }),
      'InvalidLength',
    );
    throwsCodec(
      () => decode(bitMap, hex('00 00 00 00 00 00 00 09 ff'), { max: 100 }),
      'EndOfBuffer',
    );
  });

  it('the empty bitmap is just eight zero bytes', () => {
    assert.equal(toHex(encode(bitMap, new BitMap(0))), '00 '.repeat(8).trim());
    assert.equal(decode(bitMap, new Uint8Array(8), { max: 0 }).length, 0);
  });

  it('get, set, count and equals behave like a bool array', () => {
    const b = new BitMap(20);
    b.set(0);
    b.set(9);
    b.set(19);
    b.set(9, false);
    assert.equal(b.get(0), true);
    assert.equal(b.get(9), false);
    assert.equal(b.count(), 2);
    assert.throws(() => b.get(20), RangeError);
    assert.throws(() => b.set(-1), RangeError);
    assert.deepEqual(b.toBytes(), new Uint8Array([0x01, 0x00, 0x08]));
    assert.ok(b.equals(BitMap.fromBytes(20, new Uint8Array([1, 0, 8]))));
    assert.ok(!b.equals(new BitMap(20)));
    assert.throws(() => BitMap.fromBytes(20, new Uint8Array([1, 0, 0x18])), RangeError);
  });
});
