import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AeadKey,
  aeadOpen,
  aeadSeal,
  availableAeadImpls,
  cryptoBackend,
  nonceWords,
  openOpenSsl,
  openPortable,
  openSodium,
  PORTABLE_AEAD_MAX,
  SODIUM_AEAD_MAX,
  sealOpenSsl,
  sealPortable,
  sealSodium,
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

const HAS_SODIUM = availableAeadImpls().includes('sodium-native');

// Every raw implementation this process can load (libsodium only when sodium-native is installed).
const impls = [
  { name: 'OpenSSL', seal: sealOpenSsl, open: openOpenSsl },
  { name: 'portable', seal: sealPortable, open: openPortable },
  ...(HAS_SODIUM ? [{ name: 'libsodium', seal: sealSodium, open: openSodium }] : []),
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

describe('every AEAD implementation against OpenSSL', () => {
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
          for (const impl of impls) {
            const out = new Uint8Array(pt.length + 16);
            impl.seal(key, n0, n1, n2, aad, pt, out, 0);
            assert.equal(toHex(out), ref.toString('hex'), impl.name);
            assert.deepEqual(impl.open(key, n0, n1, n2, aad, ref), pt, impl.name);
          }
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
        const ref = new Uint8Array(len + 16);
        sealOpenSsl(key, n0, n1, n2, new Uint8Array(0), pt, ref, 0);
        for (const impl of impls) {
          const out = new Uint8Array(len + 16);
          impl.seal(key, n0, n1, n2, new Uint8Array(0), pt, out, 0);
          assert.deepEqual(out, ref, `${impl.name} len ${len}`);
        }
      }
    }
  });

  for (const impl of availableAeadImpls()) {
    it(`${impl}: dispatches both sides of every size threshold and writes at an offset`, () => {
      const key = new AeadKey(new Uint8Array(32).fill(1), impl);
      const lens = [0, 64, 65, PORTABLE_AEAD_MAX, PORTABLE_AEAD_MAX + 1];
      for (const len of [...lens, SODIUM_AEAD_MAX, SODIUM_AEAD_MAX + 1, 70000]) {
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
  }

  it('reads fresh short on-heap arrays and views at odd offsets correctly', () => {
    // V8 keeps arrays of <= 64 bytes on its heap; libsodium's path copies them off-heap first.
    for (const impl of availableAeadImpls()) {
      const key = new AeadKey(new Uint8Array(32).fill(3), impl);
      for (const len of [0, 1, 47, 48, 49, 64, 65]) {
        const pt = new Uint8Array(len).map((_, i) => i + 1);
        const out = new Uint8Array(len + 16 + 3).subarray(3);
        aeadSeal(key, 9, 8, 7, pt, out, 0);
        const ref = new Uint8Array(len + 16);
        sealOpenSsl(key, 9, 8, 7, new Uint8Array(0), pt, ref, 0);
        assert.deepEqual(out, ref, `${impl} len ${len}`);
        const framed = new Uint8Array(len + 16 + 1);
        framed.set(ref, 1);
        assert.deepEqual(aeadOpen(key, 9, 8, 7, framed.subarray(1)), pt, `${impl} len ${len}`);
      }
    }
  });

  it('returns distinct, independent plaintext buffers from consecutive opens', () => {
    for (const impl of availableAeadImpls()) {
      const key = new AeadKey(new Uint8Array(32).fill(4), impl);
      const frames = [10, 200, 5000].map((len, i) => {
        const ct = new Uint8Array(len + 16);
        sealOpenSsl(key, i, 0, 0, new Uint8Array(0), new Uint8Array(len).fill(i + 1), ct, 0);
        return ct;
      });
      const opened = frames.map((ct, i) => aeadOpen(key, i, 0, 0, ct)!);
      opened[0]!.fill(0xee);
      for (let i = 1; i < 3; i++)
        assert.ok(
          opened[i]!.every((b) => b === i + 1),
          impl,
        );
    }
  });
});

describe('backend selection', () => {
  it('reports the default backend, which AUTHP2P_CRYPTO_BACKEND=node turns off', () => {
    const env = process.env.AUTHP2P_CRYPTO_BACKEND;
    const expected = env === 'node' || !HAS_SODIUM ? 'node' : 'sodium-native';
    assert.equal(cryptoBackend(), expected);
    assert.equal(new AeadKey(new Uint8Array(32)).impl, expected);
  });
});
