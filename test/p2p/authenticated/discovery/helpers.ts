import fc from 'fast-check';
import { ed25519 } from '../../../../src/crypto/index.js';
import { Ingress } from '../../../../src/p2p/address.js';
import { Info } from '../../../../src/p2p/authenticated/discovery/info.js';

/** Bytes to lower-case hex, no separators. */
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The application namespace of every test here. */
export const APP_NAMESPACE: Uint8Array = new TextEncoder().encode('my-app');

/** Test keys `PrivateKey.fromSeed(1..4)`; seed 1's public key is `478b8e50...`. */
export const KEYS: readonly ed25519.PrivateKey[] = [1n, 2n, 3n, 4n].map((s) =>
  ed25519.PrivateKey.fromSeed(s),
);

// ---------- Arbitraries ----------

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const ipv6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((groups) => groups.map((g) => g.toString(16)).join(':'));
const port = fc.nat(65535);
// Labels start with a letter, so a name never reads as an IPv4 literal.
const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}[a-z0-9]$/);
const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));

/** Socket (IPv4 and IPv6) and DNS ingresses. */
export const ingressArb: fc.Arbitrary<Ingress> = fc.oneof(
  fc.record({ ip: fc.oneof(ipv4, ipv6), port }).map((s) => Ingress.socket(s)),
  fc.tuple(host, port).map(([h, p]) => Ingress.dns(h, p)),
);

/** Timestamps across the whole safe range, with the small and the extreme ends well covered. */
export const timestampArb: fc.Arbitrary<number> = fc.oneof(
  fc.nat(1000),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.constant(Number.MAX_SAFE_INTEGER),
);

/**
 * Infos with one of the test keys and an arbitrary 64-byte signature: codec round trips do not
 * need valid signatures, and real ones would cost a signing per run.
 */
export const infoArb: fc.Arbitrary<Info> = fc
  .record({
    ingress: ingressArb,
    timestampMs: timestampArb,
    key: fc.constantFrom(...KEYS),
    signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  })
  .map(({ ingress, timestampMs, key, signature }) =>
    Info.from({ ingress, timestampMs, publicKey: key.publicKey, signature }),
  );
