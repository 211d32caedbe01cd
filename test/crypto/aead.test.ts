import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AeadKey,
  aeadOpen,
  aeadSeal,
  nonceWords,
  openOpenSsl,
  openPortable,
  PORTABLE_AEAD_MAX,
  sealOpenSsl,
  sealPortable,
} from '../../src/crypto/backend.js';
import { hex, toHex, utf8, vectors } from './helpers.js';

interface Rfc8439 {
  vectors: {
    name: string;
    key: string;
    nonce: string;
    aad: string;
    plaintextUtf8: string;
    ciphertext: string;
    tag: string;
  }[];
}

const impls = [
  { name: 'OpenSSL', seal: sealOpenSsl, open: openOpenSsl },
  { name: 'portable', seal: sealPortable, open: openPortable },
];

describe('ChaCha20-Poly1305 RFC 8439 vector', () => {
  const v = vectors<Rfc8439>('chacha20poly1305-rfc8439.json').vectors[0]!;
  for (const impl of impls) {
    it(`${impl.name}: section 2.8.2 seals and opens with AAD and a non-counter nonce`, () => {
      const key = new AeadKey(hex(v.key));
      const [n0, n1, n2] = nonceWords(hex(v.nonce));
      const pt = utf8(v.plaintextUtf8);
      const out = new Uint8Array(pt.length + 16);
      impl.seal(key, n0, n1, n2, hex(v.aad), pt, out, 0);
      assert.equal(toHex(out), v.ciphertext + v.tag);
      assert.deepEqual(impl.open(key, n0, n1, n2, hex(v.aad), out), pt);
      // Wrong AAD, tag or ciphertext: refused.
      assert.equal(impl.open(key, n0, n1, n2, new Uint8Array(0), out), undefined);
      for (const i of [0, pt.length, out.length - 1]) {
        const bad = out.slice();
        bad[i]! ^= 0x80;
        assert.equal(impl.open(key, n0, n1, n2, hex(v.aad), bad), undefined);
      }
    });
  }
});

describe('portable AEAD against OpenSSL', () => {
  it('produces identical bytes for random keys, nonces, AAD and lengths 0..1100', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 1100 }),
        (k, nonce, aad, pt) => {
          const key = new AeadKey(k);
          const [n0, n1, n2] = nonceWords(nonce);
          const c = createCipheriv('chacha20-poly1305', k, nonce, { authTagLength: 16 });
          c.setAAD(aad, { plaintextLength: pt.length });
          const ref = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
          const a = new Uint8Array(pt.length + 16);
          const b = new Uint8Array(pt.length + 16);
          sealPortable(key, n0, n1, n2, aad, pt, a, 0);
          sealOpenSsl(key, n0, n1, n2, aad, pt, b, 0);
          assert.equal(toHex(a), ref.toString('hex'));
          assert.equal(toHex(b), ref.toString('hex'));
          assert.deepEqual(openPortable(key, n0, n1, n2, aad, a), pt);
          assert.deepEqual(openOpenSsl(key, n0, n1, n2, aad, a), pt);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('computes correct tags when the Poly1305 accumulator is near 2^130 - 5 (all-0xff inputs)', () => {
    // All-ones keys and data drive the limbs to their maxima, exercising the final reduction.
    const k = new Uint8Array(32).fill(0xff);
    for (const len of [0, 1, 15, 16, 17, 63, 64, 65, 255, 256, 512]) {
      const pt = new Uint8Array(len).fill(0xff);
      const key = new AeadKey(k);
      for (const [n0, n1, n2] of [
        [0, 0, 0],
        [0xffffffff, 0xffffffff, 0xffffffff],
      ] as const) {
        const a = new Uint8Array(len + 16);
        const b = new Uint8Array(len + 16);
        sealPortable(key, n0, n1, n2, new Uint8Array(0), pt, a, 0);
        sealOpenSsl(key, n0, n1, n2, new Uint8Array(0), pt, b, 0);
        assert.deepEqual(a, b, `len ${len}`);
      }
    }
  });

  it('dispatches both sides of the size threshold and writes at an offset', () => {
    const key = new AeadKey(new Uint8Array(32).fill(1));
    for (const len of [PORTABLE_AEAD_MAX, PORTABLE_AEAD_MAX + 1, 70000]) {
      const pt = new Uint8Array(len).map((_, i) => i);
      const out = new Uint8Array(len + 16 + 10);
      aeadSeal(key, 5, 0, 0, pt, out, 10);
      const ref = new Uint8Array(len + 16);
      sealOpenSsl(key, 5, 0, 0, new Uint8Array(0), pt, ref, 0);
      assert.deepEqual(out.subarray(10), ref);
      assert.deepEqual(out.subarray(0, 10), new Uint8Array(10));
      assert.deepEqual(aeadOpen(key, 5, 0, 0, ref), pt);
      assert.equal(aeadOpen(key, 6, 0, 0, ref), undefined);
    }
    assert.equal(aeadOpen(key, 0, 0, 0, new Uint8Array(15)), undefined);
  });
});
