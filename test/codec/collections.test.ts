import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bytes,
  decode,
  encode,
  list,
  orderedMap,
  orderedSet,
  u8,
  u16,
  varU32,
  varU64,
} from '../../src/codec/index.js';
import { hex, throwsCodec, toHex } from './helpers.js';

const byNumber = (a: number, b: number): number => a - b;
const byBigint = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

describe('lists', () => {
  it('a list is a count then the elements', () => {
    const c = list(u16);
    assert.equal(toHex(encode(c, [1, 2])), '02 00 01 00 02');
    assert.deepEqual(decode(c, hex('02 00 01 00 02'), { range: { max: 2 } }), [1, 2]);
    assert.deepEqual(decode(c, hex('00'), { range: { max: 0 } }), []);
  });

  it('the count is checked against the range before any element is read', () => {
    const c = list(u16);
    throwsCodec(
      () => decode(c, hex('03 00 01 00 02 00 03'), { range: { max: 2 } }),
      'InvalidLength',
    );
    throwsCodec(() => decode(c, hex('01 00 01'), { range: { min: 2, max: 5 } }), 'InvalidLength');
    throwsCodec(() => decode(c, hex('03 00 01'), { range: { max: 10 } }), 'EndOfBuffer');
  });

  it('element configs are passed to every element', () => {
    const c = list(bytes);
    const enc = encode(c, [new Uint8Array([1]), new Uint8Array([2, 3])]);
    assert.equal(toHex(enc), '02 01 01 02 02 03');
    assert.equal(decode(c, enc, { range: { max: 2 }, item: { max: 2 } }).length, 2);
    throwsCodec(() => decode(c, enc, { range: { max: 2 }, item: { max: 1 } }), 'InvalidLength');
  });
});

describe('ordered maps and sets', () => {
  it('encodes entries in ascending key order whatever the insertion order', () => {
    const c = orderedMap(u16, u8);
    const m = new Map([
      [3, 30],
      [1, 10],
      [2, 20],
    ]);
    assert.equal(toHex(encode(c, m)), '03 00 01 0a 00 02 14 00 03 1e');
    const back = decode(c, encode(c, m), { range: { max: 3 } });
    assert.deepEqual(
      [...back],
      [
        [1, 10],
        [2, 20],
        [3, 30],
      ],
    );
  });

  it('rejects out-of-order and duplicate keys on decode', () => {
    const c = orderedMap(u16, u8);
    const cfg = { range: { max: 3 } };
    const e1 = throwsCodec(() => decode(c, hex('02 00 02 00 00 01 00'), cfg), 'Invalid');
    assert.equal(e1.context, 'OrderedMap');
    throwsCodec(() => decode(c, hex('02 00 01 00 00 01 00'), cfg), 'Invalid');
    const s = orderedSet(varU32, byNumber);
    throwsCodec(() => decode(s, hex('02 05 05'), { range: { max: 3 } }), 'Invalid');
    throwsCodec(() => decode(s, hex('02 06 05'), { range: { max: 3 } }), 'Invalid');
    assert.deepEqual(decode(s, hex('02 05 06'), { range: { max: 3 } }), new Set([5, 6]));
  });

  it('the comparator, not the byte order, decides when one is given', () => {
    // 200 encodes as c8 01 and 5 as 05: byte order would put 5 first either way, so use a
    // reversed comparator to show which order rules.
    const desc = orderedSet(varU64, (a, b) => byBigint(b, a));
    const enc = encode(desc, new Set([5n, 200n]));
    assert.equal(toHex(enc), '02 c8 01 05');
    assert.deepEqual(decode(desc, enc, { range: { max: 2 } }), new Set([200n, 5n]));
    throwsCodec(() => decode(desc, hex('02 05 c8 01'), { range: { max: 2 } }), 'Invalid');
  });

  it('byte order of encoded keys is the default for byte-string keys', () => {
    const c = orderedSet(bytes);
    const s = new Set([new Uint8Array([2]), new Uint8Array([1, 9]), new Uint8Array([1])]);
    // Keys are compared by their encodings (length prefix first).
    assert.equal(toHex(encode(c, s)), '03 01 01 01 02 02 01 09');
    const back = decode(c, encode(c, s), { range: { max: 3 }, key: { max: 2 } });
    assert.equal(back.size, 3);
  });

  it('refuses to encode two keys that encode identically', () => {
    const c = orderedSet(bytes);
    assert.throws(() => encode(c, new Set([new Uint8Array([1]), new Uint8Array([1])])), RangeError);
  });
});
