import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bytes, CodecError, decode, encode, list, u8 } from '../../src/codec/index.js';
import { memoryAfterGc } from '../helpers/memory.js';
import { cases } from './cases.js';
import { hex } from './helpers.js';

const RUNS = 10_000;

// Decodes `input` with case `c`; returns normally on success or CodecError, rethrows anything
// else with the case name attached so a failure names the guilty decoder.
function decodeOnlyCodecErrors(c: (typeof cases)[number], input: Uint8Array): boolean {
  try {
    decode(c.codec, input, c.cfg);
    return true;
  } catch (err) {
    if (err instanceof CodecError) return false;
    throw new Error(`${c.name} threw a non-CodecError: ${String(err)}`, { cause: err });
  }
}

describe('random bytes into every decoder', () => {
  it(`${cases.length} decoders each get ${RUNS} random inputs and only ever throw CodecError`, () => {
    const accepted = new Map<string, number>();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (input) => {
        for (const c of cases) {
          if (decodeOnlyCodecErrors(c, input))
            accepted.set(c.name, (accepted.get(c.name) ?? 0) + 1);
        }
      }),
      { seed: 42, numRuns: RUNS },
    );
    // Inputs did reach the success path of permissive decoders, so the runs were real decodes.
    assert.ok((accepted.get('u8') ?? 0) > 0);
    assert.ok((accepted.get('option(varU32)') ?? 0) > 0);
  });

  for (const c of cases) {
    it(`${c.name}: mutated valid encodings decode or fail with CodecError only`, () => {
      fc.assert(
        fc.property(
          c.arb,
          fc.array(
            fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 })),
            {
              minLength: 1,
              maxLength: 4,
            },
          ),
          (v, edits) => {
            let b = Array.from(encode(c.codec, v));
            for (const [pos, byte, op] of edits) {
              const at = b.length === 0 ? 0 : pos % (b.length + (op === 1 ? 1 : 0));
              if (op === 0 && b.length > 0)
                b[at] = byte; // overwrite
              else if (op === 1)
                b.splice(at, 0, byte); // insert
              else b = b.slice(0, at); // truncate
            }
            decodeOnlyCodecErrors(c, Uint8Array.from(b));
          },
        ),
        { seed: 42, numRuns: 500 },
      );
    });
  }
});

describe('oversize length prefixes', () => {
  it('a 0xffffffff0f prefix fails fast and allocates nothing for bytes and lists', () => {
    const prefix = hex('ff ff ff ff 0f');
    const withBody = hex('ff ff ff ff 0f 01 02 03');
    const listCodec = list(u8);
    const codes = new Set<string>();
    const attempt = (fn: () => unknown): void => {
      try {
        fn();
        assert.fail('decode should have failed');
      } catch (err) {
        assert.ok(err instanceof CodecError);
        codes.add(err.code);
      }
    };
    const before = memoryAfterGc().arrayBuffers;
    for (let i = 0; i < 10_000; i++) {
      attempt(() => decode(bytes, prefix, { max: 1 << 20 }));
      attempt(() => decode(bytes, withBody, { max: 0xffffffff }));
      attempt(() => decode(listCodec, prefix, { range: { max: 1 << 20 } }));
      attempt(() => decode(listCodec, withBody, { range: { max: 0xffffffff } }));
    }
    // Before: live memory only (after a collection). After: everything, so a transient
    // allocation sized by the hostile prefix would show.
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 1 << 20, `arrayBuffers grew by ${grown} bytes`);
    assert.deepEqual([...codes].sort(), ['EndOfBuffer', 'InvalidLength']);
  });

  it('a six-byte length varint is InvalidVarint, not a huge length', () => {
    assert.throws(
      () => decode(bytes, hex('80 80 80 80 80 01'), { max: 0xffffffff }),
      (err) => err instanceof CodecError && err.code === 'InvalidVarint',
    );
  });
});
