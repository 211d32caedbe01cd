import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CodecError, decode, encode, Writer } from '../../src/codec/index.js';
import { cases } from './cases.js';

describe('round trips', () => {
  for (const c of cases) {
    it(`${c.name}: decode(encode(x)) equals x and the length equals encodeSize`, () => {
      const view = c.view ?? ((v: unknown) => v);
      fc.assert(
        fc.property(c.arb, (v) => {
          const enc = encode(c.codec, v);
          assert.equal(enc.length, c.codec.encodeSize(v));
          // Independently of encode(): a growable writer sees the same byte count.
          const w = Writer.growable(1);
          c.codec.write(v, w);
          assert.equal(w.offset, enc.length);
          assert.deepEqual(w.finish(), enc);
          assert.deepStrictEqual(view(decode(c.codec, enc, c.cfg)), view(v));
        }),
        { seed: 42, numRuns: 300 },
      );
    });

    it(`${c.name}: every truncation of a valid encoding is EndOfBuffer and every extension is ExtraData`, () => {
      fc.assert(
        fc.property(c.arb, fc.uint8Array({ minLength: 1, maxLength: 3 }), (v, extra) => {
          const enc = encode(c.codec, v);
          for (let end = 0; end < enc.length; end++) {
            assert.throws(
              () => decode(c.codec, enc.subarray(0, end), c.cfg),
              (err) => err instanceof CodecError && err.code === 'EndOfBuffer',
            );
          }
          const longer = new Uint8Array(enc.length + extra.length);
          longer.set(enc);
          longer.set(extra, enc.length);
          assert.throws(
            () => decode(c.codec, longer, c.cfg),
            (err) => err instanceof CodecError && err.code === 'ExtraData',
          );
        }),
        { seed: 42, numRuns: 100 },
      );
    });
  }
});
