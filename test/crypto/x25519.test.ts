import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { availableX25519Impls } from '../../src/crypto/backend.js';
import { CryptoError, x25519 } from '../../src/crypto/index.js';
import { hex, toHex, vectors } from './helpers.js';

interface Rfc7748 {
  scalarMult: { scalar: string; u: string; output: string }[];
  iterated: { iterations: number; result: string }[];
  diffieHellman: {
    alicePrivate: string;
    alicePublic: string;
    bobPrivate: string;
    bobPublic: string;
    shared: string;
  };
  lowOrder: { name: string; u: string }[];
}

const V = vectors<Rfc7748>('x25519-rfc7748.json');
const isCode = (code: string) => (e: unknown) => e instanceof CryptoError && e.code === code;

describe('x25519 RFC 7748 vectors', () => {
  V.scalarMult.forEach((v, i) => {
    it(`section 5.2 scalar multiplication vector ${i + 1}`, () => {
      const s = x25519.EphemeralSecret.fromScalar(hex(v.scalar));
      assert.equal(toHex(s.exchange(hex(v.u))), v.output);
    });
  });

  for (const v of V.iterated) {
    it(`section 5.2 iterated vector after ${v.iterations} iteration(s)`, () => {
      let k: Uint8Array = new Uint8Array(32);
      k[0] = 9;
      let u: Uint8Array = k.slice();
      for (let i = 0; i < v.iterations; i++) {
        const next = x25519.EphemeralSecret.fromScalar(k).exchange(u);
        u = k;
        k = next;
      }
      assert.equal(toHex(k), v.result);
    });
  }

  it("section 6.1 Alice and Bob derive the same secret from each other's public keys", () => {
    const d = V.diffieHellman;
    const alice = x25519.EphemeralSecret.fromScalar(hex(d.alicePrivate));
    const bob = x25519.EphemeralSecret.fromScalar(hex(d.bobPrivate));
    assert.equal(toHex(alice.publicKey), d.alicePublic);
    assert.equal(toHex(bob.publicKey), d.bobPublic);
    assert.equal(toHex(alice.exchange(bob.publicKey)), d.shared);
    assert.equal(toHex(bob.exchange(alice.publicKey)), d.shared);
  });
});

describe('x25519 ephemeral secrets', () => {
  it('agree on a shared secret for generated keys', () => {
    const a = x25519.EphemeralSecret.generate();
    const b = x25519.EphemeralSecret.generate();
    assert.equal(a.publicKey.length, 32);
    assert.deepEqual(a.exchange(b.publicKey), b.exchange(a.publicKey));
  });

  it('generate draws from the given rng', () => {
    const rng = { bytes: (n: number) => new Uint8Array(n).fill(3) };
    assert.deepEqual(
      x25519.EphemeralSecret.generate(rng).publicKey,
      x25519.EphemeralSecret.generate(rng).publicKey,
    );
  });

  it('can be used for exactly one exchange, even a failed one', () => {
    const a = x25519.EphemeralSecret.generate();
    const b = x25519.EphemeralSecret.generate();
    a.exchange(b.publicKey);
    assert.equal(a.consumed, true);
    assert.throws(() => a.exchange(b.publicKey), isCode('SecretConsumed'));
    const c = x25519.EphemeralSecret.generate();
    assert.throws(() => c.exchange(new Uint8Array(32)), isCode('NonContributory'));
    assert.throws(() => c.exchange(b.publicKey), isCode('SecretConsumed'));
  });

  it('rejects peer keys of the wrong length', () => {
    assert.throws(
      () => x25519.EphemeralSecret.generate().exchange(new Uint8Array(31)),
      isCode('InvalidLength'),
    );
  });

  for (const p of V.lowOrder) {
    it(`rejects the low-order point ${p.name} as NonContributory`, () => {
      const s = x25519.EphemeralSecret.generate();
      assert.throws(() => s.exchange(hex(p.u)), isCode('NonContributory'));
    });
  }
});

describe('x25519 on every backend', () => {
  for (const impl of availableX25519Impls()) {
    it(`${impl}: reproduces the RFC 7748 scalar multiplication vectors`, () => {
      for (const v of V.scalarMult) {
        const s = x25519.EphemeralSecret.fromScalarWithImpl(hex(v.scalar), impl);
        assert.equal(toHex(s.exchange(hex(v.u))), v.output);
      }
    });

    it(`${impl}: derives the section 6.1 public keys and shared secret`, () => {
      const d = V.diffieHellman;
      const alice = x25519.EphemeralSecret.fromScalarWithImpl(hex(d.alicePrivate), impl);
      const bob = x25519.EphemeralSecret.fromScalarWithImpl(hex(d.bobPrivate), impl);
      assert.equal(toHex(alice.publicKey), d.alicePublic);
      assert.equal(toHex(bob.publicKey), d.bobPublic);
      assert.equal(toHex(alice.exchange(bob.publicKey)), d.shared);
    });

    it(`${impl}: refuses every low-order point as NonContributory and is consumed`, () => {
      for (const p of V.lowOrder) {
        const s = x25519.EphemeralSecret.fromScalarWithImpl(new Uint8Array(32).fill(7), impl);
        assert.throws(() => s.exchange(hex(p.u)), isCode('NonContributory'), p.name);
        assert.equal(s.consumed, true);
      }
    });
  }

  it('the backends agree on public keys and shared secrets for random scalars and points', () => {
    const impls = availableX25519Impls();
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (scalar, point) => {
          const outcome = (impl: (typeof impls)[number]): string => {
            const s = x25519.EphemeralSecret.fromScalarWithImpl(scalar, impl);
            try {
              return `${toHex(s.publicKey)}:${toHex(s.exchange(point))}`;
            } catch (e) {
              return `${toHex(s.publicKey)}:${e instanceof CryptoError ? e.code : 'other'}`;
            }
          };
          const first = outcome(impls[0]!);
          for (const impl of impls) assert.equal(outcome(impl), first, impl);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});
