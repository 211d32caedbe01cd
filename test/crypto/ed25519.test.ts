import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CryptoError, ed25519, unionUnique } from '../../src/crypto/index.js';
import { hex, toHex, utf8, vectors } from './helpers.js';

interface Rfc8032 {
  vectors: {
    name: string;
    secretKey: string;
    publicKey: string;
    message: string;
    signature: string;
  }[];
}
interface TestKeys {
  keys: { seed: string; publicKey: string }[];
}

const isCode = (code: string) => (e: unknown) => e instanceof CryptoError && e.code === code;

describe('ed25519 RFC 8032 vectors', () => {
  for (const v of vectors<Rfc8032>('ed25519-rfc8032.json').vectors) {
    it(`${v.name}: derives the public key and the exact signature, and verifies it`, () => {
      const key = ed25519.PrivateKey.fromBytes(hex(v.secretKey));
      assert.equal(key.publicKey.toHex(), v.publicKey);
      assert.equal(toHex(key.signRaw(hex(v.message))), v.signature);
      const pk = ed25519.PublicKey.fromHex(v.publicKey);
      assert.equal(pk.verifyRaw(hex(v.message), hex(v.signature)), true);
      const bad = hex(v.signature);
      bad[0]! ^= 1;
      assert.equal(pk.verifyRaw(hex(v.message), bad), false);
    });
  }
});

describe('commonware deterministic test keys', () => {
  const keys = vectors<TestKeys>('commonware-test-keys.json').keys;
  for (const k of keys) {
    it(`fromSeed(${k.seed}n) reproduces commonware's public key`, () => {
      assert.equal(ed25519.PrivateKey.fromSeed(BigInt(k.seed)).publicKey.toHex(), k.publicKey);
    });
  }

  it('orders the seed keys by bytes: seed1 < seed2 < seed3', () => {
    const [a, b, c] = [1n, 2n, 3n].map((s) => ed25519.PrivateKey.fromSeed(s).publicKey);
    assert.equal(a!.compare(b!), -1);
    assert.equal(b!.compare(c!), -1);
    assert.equal(c!.compare(a!), 1);
    assert.equal(a!.compare(ed25519.PublicKey.fromHex(a!.toHex())), 0);
  });

  it('is deterministic and distinct across seeds, and round-trips through toBytes', () => {
    const a = ed25519.PrivateKey.fromSeed(42n);
    const b = ed25519.PrivateKey.fromSeed(42n);
    assert.deepEqual(a.toBytes(), b.toBytes());
    assert.notDeepEqual(a.toBytes(), ed25519.PrivateKey.fromSeed(43n).toBytes());
    const c = ed25519.PrivateKey.fromBytes(a.toBytes());
    assert.equal(c.publicKey.equals(a.publicKey), true);
    // u64 boundaries are accepted, values outside are not.
    ed25519.PrivateKey.fromSeed(0n);
    ed25519.PrivateKey.fromSeed((1n << 64n) - 1n);
    assert.throws(() => ed25519.PrivateKey.fromSeed(1n << 64n), isCode('InvalidPrivateKey'));
    assert.throws(() => ed25519.PrivateKey.fromSeed(-1n), isCode('InvalidPrivateKey'));
  });
});

describe('namespaced signatures', () => {
  const key = ed25519.PrivateKey.fromSeed(7n);
  const ns = utf8('my-app_STREAM');
  const msg = utf8('hello');

  it('sign then verify round-trips', () => {
    const sig = key.sign(ns, msg);
    assert.equal(sig.length, ed25519.PublicKey.SIGNATURE_SIZE);
    assert.equal(key.publicKey.verify(ns, msg, sig), true);
  });

  it('signs exactly varint(len(ns)) || ns || message', () => {
    const sig = key.sign(ns, msg);
    const raw = new Uint8Array([ns.length, ...ns, ...msg]);
    assert.equal(key.publicKey.verifyRaw(raw, sig), true);
    assert.deepEqual(unionUnique(ns, msg), raw);
    // Ed25519 is deterministic: the same bytes give the same signature.
    assert.deepEqual(key.signRaw(raw), sig);
  });

  it('uses a multi-byte varint for namespaces of 128 bytes or more', () => {
    const long = new Uint8Array(300).fill(0x61);
    const u = unionUnique(long, msg);
    assert.deepEqual(u.subarray(0, 2), Uint8Array.of(0xac, 0x02));
    assert.equal(u.length, 2 + 300 + msg.length);
    assert.equal(key.publicKey.verify(long, msg, key.sign(long, msg)), true);
    assert.deepEqual(unionUnique(new Uint8Array(0), msg), Uint8Array.of(0, ...msg));
  });

  it('rejects a tampered message, signature, namespace or key', () => {
    const sig = key.sign(ns, msg);
    assert.equal(key.publicKey.verify(ns, utf8('hellp'), sig), false);
    assert.equal(key.publicKey.verify(utf8('other_STREAM'), msg, sig), false);
    // Moving a byte between namespace and message changes the signed bytes.
    assert.equal(key.publicKey.verify(utf8('my-app_STREAMh'), utf8('ello'), sig), false);
    for (const i of [0, 31, 32, 63]) {
      const bad = sig.slice();
      bad[i]! ^= 0x01;
      assert.equal(key.publicKey.verify(ns, msg, bad), false, `bit flip at ${i}`);
    }
    assert.equal(ed25519.PrivateKey.fromSeed(8n).publicKey.verify(ns, msg, sig), false);
  });

  it('returns false (never throws) for malformed signature bytes', () => {
    const pk = key.publicKey;
    assert.equal(pk.verify(ns, msg, new Uint8Array(0)), false);
    assert.equal(pk.verify(ns, msg, new Uint8Array(63)), false);
    assert.equal(pk.verify(ns, msg, new Uint8Array(65)), false);
    assert.equal(pk.verify(ns, msg, new Uint8Array(64).fill(0xff)), false);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (sig) => {
        assert.equal(pk.verify(ns, msg, sig), false);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('round-trips for arbitrary namespaces and messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }), (n, m) => {
        const sig = key.sign(n, m);
        assert.equal(key.publicKey.verify(n, m, sig), true);
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  it('generates from a given rng deterministically, and from the OS otherwise', () => {
    const rng = { bytes: (n: number) => new Uint8Array(n).fill(9) };
    const a = ed25519.PrivateKey.generate(rng);
    const b = ed25519.PrivateKey.generate(rng);
    assert.equal(a.publicKey.equals(b.publicKey), true);
    assert.deepEqual(a.toBytes(), new Uint8Array(32).fill(9));
    const c = ed25519.PrivateKey.generate();
    const d = ed25519.PrivateKey.generate();
    assert.equal(c.publicKey.equals(d.publicKey), false);
  });
});

describe('public key decoding', () => {
  it('rejects wrong lengths and bad hex', () => {
    assert.throws(
      () => ed25519.PublicKey.fromBytes(new Uint8Array(31)),
      isCode('InvalidPublicKey'),
    );
    assert.throws(
      () => ed25519.PublicKey.fromBytes(new Uint8Array(33)),
      isCode('InvalidPublicKey'),
    );
    assert.throws(() => ed25519.PublicKey.fromHex('zz'.repeat(32)), isCode('InvalidPublicKey'));
    assert.throws(() => ed25519.PublicKey.fromHex('00'), isCode('InvalidPublicKey'));
    assert.throws(
      () => ed25519.PrivateKey.fromBytes(new Uint8Array(31)),
      isCode('InvalidPrivateKey'),
    );
  });

  it('rejects encodings that are not curve points', () => {
    // y = 2: (y^2 - 1) / (d y^2 + 1) is not a square mod p.
    const notOnCurve = new Uint8Array(32);
    notOnCurve[0] = 2;
    assert.throws(() => ed25519.PublicKey.fromBytes(notOnCurve), isCode('InvalidPublicKey'));
    // Roughly half of all random strings are not points: find some deterministically.
    let rejected = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (b) => {
        try {
          ed25519.PublicKey.fromBytes(b);
        } catch (e) {
          assert.ok(isCode('InvalidPublicKey')(e));
          rejected++;
        }
      }),
      { seed: 42, numRuns: 200 },
    );
    assert.ok(rejected > 50 && rejected < 150, `rejected ${rejected} of 200`);
  });

  it('accepts every real public key, the identity and small-order points (as dalek does)', () => {
    for (let s = 0n; s < 20n; s++) {
      const pk = ed25519.PrivateKey.fromSeed(s).publicKey;
      assert.equal(ed25519.PublicKey.fromBytes(pk.toBytes()).equals(pk), true);
    }
    const identity = new Uint8Array(32);
    identity[0] = 1; // y = 1, x = 0
    ed25519.PublicKey.fromBytes(identity);
  });

  it('copies its input, memoizes hex and compares by bytes', () => {
    const bytes = ed25519.PrivateKey.fromSeed(1n).publicKey.toBytes();
    const pk = ed25519.PublicKey.fromBytes(bytes);
    bytes[0] = 0;
    assert.equal(pk.toHex().slice(0, 2), '47');
    assert.equal(pk.toHex(), pk.toString());
    const out = pk.toBytes();
    out[1] = 0;
    assert.equal(pk.toHex().slice(2, 4), '8b');
    assert.equal(pk.equals(ed25519.PublicKey.fromHex(pk.toHex().toUpperCase())), true);
    assert.equal(ed25519.PublicKey.SIZE, 32);
  });

  it('never shows the secret when printed', async () => {
    const { inspect } = await import('node:util');
    const key = ed25519.PrivateKey.fromSeed(1n);
    const secretHex = toHex(key.toBytes());
    assert.ok(!inspect(key).includes(secretHex));
    assert.ok(!String(key).includes(secretHex));
    assert.ok(inspect(key).includes(key.publicKey.toHex()));
  });
});
