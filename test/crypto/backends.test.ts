import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  availableAeadImpls,
  availableSignatureImpls,
  ed25519FromSeed,
  ed25519PublicKeyObject,
  ed25519Sign,
  ed25519Verify,
  ed25519VerifySodiumOnly,
} from '../../src/crypto/backend.js';
import { cipherWithImpl } from '../../src/crypto/cipher.js';
import { CryptoError, ed25519 } from '../../src/crypto/index.js';
import { hex, toHex, vectors } from './helpers.js';

interface Rfc8032 {
  vectors: {
    name: string;
    secretKey: string;
    publicKey: string;
    message: string;
    signature: string;
  }[];
}

const isCode = (code: string) => (e: unknown) => e instanceof CryptoError && e.code === code;

describe('ed25519 RFC 8032 vectors on every signature backend', () => {
  for (const impl of availableSignatureImpls()) {
    for (const v of vectors<Rfc8032>('ed25519-rfc8032.json').vectors) {
      it(`${impl}, ${v.name}: derives the key, signs exactly and verifies`, () => {
        const pair = ed25519FromSeed(hex(v.secretKey), impl);
        assert.equal(toHex(pair.publicKey), v.publicKey);
        assert.equal(toHex(ed25519Sign(pair.privateKey, hex(v.message))), v.signature);
        const pk = ed25519PublicKeyObject(hex(v.publicKey), impl);
        assert.equal(ed25519Verify(pk, hex(v.message), hex(v.signature)), true);
        const bad = hex(v.signature);
        bad[63]! ^= 0x10;
        assert.equal(ed25519Verify(pk, hex(v.message), bad), false);
        assert.equal(ed25519Verify(pk, hex(`${v.message}00`), hex(v.signature)), false);
      });
    }
  }
});

describe('ed25519 backends agree', () => {
  const impls = availableSignatureImpls();

  it('on public keys, signatures and verdicts for random seeds and messages', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(63),
        (seed, msg, flip) => {
          const pairs = impls.map((impl) => ed25519FromSeed(seed, impl));
          const sigs = pairs.map((p) => toHex(ed25519Sign(p.privateKey, msg)));
          for (const p of pairs) assert.deepEqual(p.publicKey, pairs[0]!.publicKey);
          for (const s of sigs) assert.equal(s, sigs[0]);
          const sig = hex(sigs[0]!);
          const bad = sig.slice();
          bad[flip]! ^= 1;
          for (const impl of impls) {
            const pk = ed25519PublicKeyObject(pairs[0]!.publicKey, impl);
            assert.equal(ed25519Verify(pk, msg, sig), true, impl);
            assert.equal(ed25519Verify(pk, msg, bad), false, impl);
            assert.equal(ed25519Verify(pk, msg, sig.subarray(0, 63)), false, impl);
          }
        },
      ),
      { seed: 42, numRuns: 100 },
    );
  });

  // libsodium refuses small-order A and R where OpenSSL (the documented rule) does not; the
  // backend re-checks libsodium's refusals with OpenSSL, so the verdict never depends on which
  // backend is installed. These crafted signatures are where the two libraries differ.
  const L = (1n << 252n) + 27742317777372353535851937790883648493n;
  const le = (b: Uint8Array): bigint => {
    let x = 0n;
    for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
    return x;
  };
  const toLe32 = (x: bigint): Uint8Array => {
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = Number((x >> BigInt(8 * i)) & 0xffn);
    return out;
  };
  const IDENTITY = hex(`01${'00'.repeat(31)}`);
  const msg = new TextEncoder().encode('crafted');

  /** Signature (R = identity, S) valid under cofactorless RFC 8032 for the key of `seed`. */
  function smallOrderR(seed: Uint8Array, publicKey: Uint8Array): Uint8Array {
    const h = createHash('sha512').update(seed).digest();
    h[0]! &= 248;
    h[31]! &= 127;
    h[31]! |= 64;
    const a = le(h.subarray(0, 32));
    const k = le(createHash('sha512').update(IDENTITY).update(publicKey).update(msg).digest()) % L;
    const sig = new Uint8Array(64);
    sig.set(IDENTITY, 0);
    sig.set(toLe32((k * a) % L), 32); // [S]B = [k*a]B = [k]A, so R' = identity = R
    return sig;
  }

  const cases = (): { name: string; key: Uint8Array; sig: Uint8Array }[] => {
    const seed = new Uint8Array(32).fill(7);
    const honest = ed25519FromSeed(seed, 'node').publicKey;
    const identitySig = new Uint8Array(64);
    identitySig.set(IDENTITY, 0); // R = identity, S = 0: valid for key = identity, any message
    return [
      { name: 'identity key, R = identity, S = 0', key: IDENTITY, sig: identitySig },
      { name: 'honest key, small-order R', key: honest, sig: smallOrderR(seed, honest) },
    ];
  };

  it('on crafted small-order signatures: OpenSSL accepts them, and so does every backend', () => {
    for (const c of cases()) {
      for (const impl of impls) {
        const pk = ed25519PublicKeyObject(c.key, impl);
        assert.equal(ed25519Verify(pk, msg, c.sig), true, `${impl}: ${c.name}`);
      }
      if (impls.includes('sodium-native')) {
        // libsodium alone would refuse: the OpenSSL re-check is what keeps the rule.
        assert.equal(ed25519VerifySodiumOnly(c.key, msg, c.sig), false, c.name);
      }
    }
  });

  it('through PublicKey, which verifies from its bytes: the same verdicts, repeatedly', () => {
    for (const c of cases()) {
      const pk = ed25519.PublicKey.fromBytes(c.key);
      const bad = c.sig.slice();
      bad[40]! ^= 1;
      for (let i = 0; i < 2; i++) {
        assert.equal(pk.verifyRaw(msg, c.sig), true, c.name);
        assert.equal(pk.verifyRaw(msg, bad), false, c.name);
      }
    }
  });
});

describe('AEAD backends interoperate through Cipher', () => {
  const impls = availableAeadImpls();

  it('every pair of backends opens what the other sealed, for random message sequences', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.integer({ min: 0, max: 20000 }), { minLength: 1, maxLength: 8 }),
        (key, lens) => {
          for (const sealer of impls) {
            for (const opener of impls) {
              const tx = cipherWithImpl(key, sealer);
              const rx = cipherWithImpl(key, opener);
              for (const len of lens) {
                const m = new Uint8Array(len).map((_, i) => (i * 31 + len) & 0xff);
                assert.deepEqual(rx.open(tx.seal(m)), m, `${sealer} -> ${opener}, ${len} B`);
              }
            }
          }
        },
      ),
      { seed: 42, numRuns: 25 },
    );
  });

  it('a tampered frame poisons the opener whatever the backend pair', () => {
    for (const sealer of impls) {
      for (const opener of impls) {
        for (const len of [0, 40, 1024, 30000]) {
          const key = new Uint8Array(32).fill(len & 0xff);
          const ct = cipherWithImpl(key, sealer).seal(new Uint8Array(len));
          ct[ct.length >> 1]! ^= 4;
          const rx = cipherWithImpl(key, opener);
          assert.throws(() => rx.open(ct), isCode('DecryptionFailed'));
          assert.equal(rx.poisoned, true);
        }
      }
    }
  });
});
