import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AeadKey,
  availableAeadImpls,
  PORTABLE_AEAD_MAX,
  SODIUM_AEAD_MAX,
  sealOpenSsl,
} from '../../src/crypto/backend.js';
import { Cipher, type CipherOptions, cipherPair, cipherWithImpl } from '../../src/crypto/cipher.js';
import { CryptoError } from '../../src/crypto/index.js';
import { assertOwnsBuffer, MARKER } from '../helpers/owned.js';
import { utf8 } from './helpers.js';

const KEY = new Uint8Array(32).map((_, i) => i + 1);
const isCode = (code: string) => (e: unknown) => e instanceof CryptoError && e.code === code;

/** Reference seal with an explicit 96-bit nonce counter (little-endian). */
function refSeal(pt: Uint8Array, counter: bigint): Uint8Array {
  const w = (s: bigint) => Number((counter >> s) & 0xffffffffn);
  const out = new Uint8Array(pt.length + 16);
  sealOpenSsl(new AeadKey(KEY), w(0n), w(32n), w(64n), new Uint8Array(0), pt, out, 0);
  return out;
}

// Every contract below holds for every AEAD implementation this process can load.
for (const impl of availableAeadImpls()) {
  const newCipher = (key: Uint8Array, options?: CipherOptions): Cipher =>
    cipherWithImpl(key, impl, options);

  describe(`Cipher (${impl})`, () => {
    it('seal and open return outputs that own their buffers', () => {
      const tx = newCipher(KEY);
      const rx = newCipher(KEY);
      const sizes = [0, 16, 32, 48, 49, 64, 65, 512, 513, 4096, 4097, 16384, 16385, 70_000];
      const sealed = sizes.map((n, i) => tx.seal(new Uint8Array(n).fill(MARKER + i)));
      for (const [i, ct] of sealed.entries()) {
        assert.ok(ct.buffer.byteLength <= ct.length + 64, `ciphertext ${i}`);
        assert.ok(
          sealed.every((o, j) => j === i || o.buffer !== ct.buffer),
          `shared ${i}`,
        );
      }
      const opened = sealed.map((ct) => rx.open(ct));
      for (const [i, n] of sizes.entries()) assertOwnsBuffer(opened[i]!, MARKER + i, n, `pt ${i}`);
    });

    it('uses a little-endian counter nonce starting at 0 and advancing per seal', () => {
      const c = newCipher(KEY);
      const m = utf8('hello');
      assert.deepEqual(c.seal(m), refSeal(m, 0n));
      assert.deepEqual(c.seal(m), refSeal(m, 1n));
      assert.equal(c.counter, 2n);
      // Distinct nonces give distinct ciphertexts for the same plaintext.
      assert.notDeepEqual(refSeal(m, 0n), refSeal(m, 1n));
      // A large message (OpenSSL path) uses the same nonce rule.
      const big = new Uint8Array(5000).fill(7);
      assert.deepEqual(c.seal(big), refSeal(big, 2n));
    });

    it('carries the counter across 32-bit word boundaries (little-endian words)', () => {
      const m = utf8('x');
      for (const start of [0xffffffffn, (1n << 64n) - 1n, 0x1234_5678_9abc_def0_1122n]) {
        const c = newCipher(KEY, { startCounter: start });
        assert.deepEqual(c.seal(m), refSeal(m, start));
        assert.deepEqual(c.seal(m), refSeal(m, start + 1n));
        assert.equal(c.counter, start + 2n);
      }
    });

    it('round-trips between a sealer and an opener, including empty plaintexts', () => {
      const tx = newCipher(KEY);
      const rx = newCipher(KEY);
      for (const len of [0, 1, 32, 64, 65, 512, 513, 1024, 16384, 16385, 65536]) {
        const m = new Uint8Array(len).map((_, i) => i * 7);
        const ct = tx.seal(m);
        assert.equal(ct.length, len + 16);
        assert.deepEqual(rx.open(ct), m);
      }
    });

    it('sealInto writes the same bytes as seal, at an offset, and returns the length', () => {
      const a = newCipher(KEY);
      const b = newCipher(KEY);
      const buf = new Uint8Array(3000);
      let off = 3;
      const expected: Uint8Array[] = [];
      // Both sides of every dispatch threshold.
      const lens = [0, 32, 64, 65, 100, PORTABLE_AEAD_MAX, PORTABLE_AEAD_MAX + 1, 600];
      for (const len of lens) {
        const m = new Uint8Array(len).fill(len & 0xff);
        expected.push(a.seal(m));
        const n = b.sealInto(m, buf, off);
        assert.equal(n, len + 16);
        assert.deepEqual(buf.subarray(off, off + n), expected.at(-1));
        off += n;
      }
      assert.throws(() => b.sealInto(new Uint8Array(10), new Uint8Array(20), 0), RangeError);
      // Large messages (libsodium / OpenSSL boundary) at an offset, and the bytes around untouched.
      for (const len of [SODIUM_AEAD_MAX, SODIUM_AEAD_MAX + 1, 70000]) {
        const m = new Uint8Array(len).map((_, i) => i * 13);
        const big = new Uint8Array(len + 16 + 10).fill(0xaa);
        assert.equal(b.sealInto(m, big, 5), len + 16);
        assert.deepEqual(big.subarray(5, 5 + len + 16), a.seal(m));
        assert.deepEqual(big.subarray(0, 5), new Uint8Array(5).fill(0xaa));
        assert.deepEqual(big.subarray(len + 21), new Uint8Array(5).fill(0xaa));
      }
    });

    it('a failed open is fatal: the nonce is consumed and every later call fails', () => {
      const tx = newCipher(KEY);
      const rx = newCipher(KEY);
      const ct = tx.seal(utf8('one'));
      ct[0]! ^= 1;
      assert.throws(() => rx.open(ct), isCode('DecryptionFailed'));
      assert.equal(rx.poisoned, true);
      assert.equal(rx.counter, 1n);
      ct[0]! ^= 1; // even the genuine frame is now refused
      assert.throws(() => rx.open(ct), isCode('DecryptionFailed'));
      assert.throws(() => rx.seal(utf8('x')), isCode('DecryptionFailed'));
      assert.equal(rx.counter, 1n);
    });

    it('rejects frames shorter than the tag, replays and reordering', () => {
      assert.throws(() => newCipher(KEY).open(new Uint8Array(15)), isCode('DecryptionFailed'));
      const tx = newCipher(KEY);
      const f0 = tx.seal(utf8('a'));
      const f1 = tx.seal(utf8('b'));
      const replay = newCipher(KEY);
      replay.open(f0);
      assert.throws(() => replay.open(f0), isCode('DecryptionFailed'));
      assert.throws(() => newCipher(KEY).open(f1), isCode('DecryptionFailed'));
      const otherKey = newCipher(new Uint8Array(32));
      assert.throws(() => otherKey.open(f0), isCode('DecryptionFailed'));
    });

    it('stops with MessageLimitReached at 2^96 before doing anything', () => {
      const limit = 1n << 96n;
      const tx = newCipher(KEY, { startCounter: limit - 2n });
      const rx = newCipher(KEY, { startCounter: limit - 2n });
      assert.deepEqual(rx.open(tx.seal(utf8('a'))), utf8('a'));
      const last = tx.seal(utf8('b')); // nonce 2^96 - 1 is the last one
      assert.deepEqual(last, refSeal(utf8('b'), limit - 1n));
      assert.deepEqual(rx.open(last), utf8('b'));
      assert.equal(tx.counter, limit);
      assert.throws(() => tx.seal(utf8('c')), isCode('MessageLimitReached'));
      assert.throws(
        () => tx.sealInto(utf8('c'), new Uint8Array(17), 0),
        isCode('MessageLimitReached'),
      );
      assert.throws(() => rx.open(last), isCode('MessageLimitReached'));
      assert.equal(rx.poisoned, false);
      assert.throws(
        () => newCipher(KEY, { startCounter: limit }).seal(utf8('')),
        isCode('MessageLimitReached'),
      );
      assert.throws(() => newCipher(KEY, { startCounter: limit + 1n }), RangeError);
      assert.throws(() => newCipher(KEY, { startCounter: -1n }), RangeError);
    });

    it('rejects keys that are not 32 bytes', () => {
      assert.throws(() => newCipher(new Uint8Array(31)), isCode('InvalidLength'));
    });
  });
}

describe('cipherPair', () => {
  it("keeps both directions' keys in one 64-byte allocation, copied, each cipher on its own key", () => {
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    const [send, recv] = cipherPair(a, b);
    // Reference ciphers made from copies; the pair copied its keys, so wiping ours is harmless.
    const refA = new Cipher(a.slice());
    const refB = new Cipher(b.slice());
    a.fill(0);
    b.fill(0);
    const msg = utf8('pair');
    assert.deepEqual(refA.open(send.seal(msg)), msg);
    assert.deepEqual(recv.open(refB.seal(msg)), msg);
    assert.throws(() => cipherPair(new Uint8Array(31), b), CryptoError);
  });

  it('an AEAD key given storage uses exactly it', () => {
    const storage = Buffer.alloc(64);
    const key = new AeadKey(new Uint8Array(32).fill(9), 'node', storage.subarray(32));
    assert.equal(key.raw.buffer, storage.buffer);
    assert.deepEqual([...storage.subarray(0, 32)], new Array(32).fill(0));
    assert.deepEqual([...storage.subarray(32)], new Array(32).fill(9));
    assert.throws(() => new AeadKey(new Uint8Array(32), 'node', storage), CryptoError);
  });
});
