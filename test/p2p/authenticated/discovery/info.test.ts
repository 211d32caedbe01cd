import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decode, encode } from '../../../../src/codec/index.js';
import { unionUnique } from '../../../../src/crypto/index.js';
import { Ingress } from '../../../../src/p2p/address.js';
import {
  INFO_NAMESPACE_SUFFIX,
  Info,
  InfoVerifier,
  type InfoVerifierConfig,
  infoCodec,
  infoNamespace,
} from '../../../../src/p2p/authenticated/discovery/info.js';
import { P2PError, type P2PErrorCode } from '../../../../src/p2p/errors.js';
import { hex as fromHex, throwsCodec } from '../../../codec/helpers.js';
import { APP_NAMESPACE, infoArb, KEYS, toHex } from './helpers.js';

// ---------- The worked vector (PROTOCOL.md, The discovery network protocol) ----------

const KEY = KEYS[0]!;
const INGRESS = Ingress.socket('127.0.0.1:8080');
const TIMESTAMP_MS = 1_700_000_000_000;

// Derived by hand from the spec, not from the code under test:
// - Ingress 127.0.0.1:8080: tag 00, IpAddr tag 04, 7f 00 00 01, port 8080 = 1f 90.
// - 1_700_000_000_000 = 0x0000018bcfe56800; as a varint, 7-bit groups from the low end are
//   00 50 15 7f 3c 31, so the bytes are 80 d0 95 ff bc 31.
// - Seed 1's public key is the commonware test vector.
// - The namespace is "my-app_TRACKER_IP", 17 = 0x11 bytes.
const INGRESS_HEX = '00 04 7f 00 00 01 1f 90';
const TIMESTAMP_VARINT_HEX = '80 d0 95 ff bc 31';
const TIMESTAMP_U64BE_HEX = '00 00 01 8b cf e5 68 00';
const PUBLIC_KEY_HEX = '478b8e507e0bb2b18c0f9e0824769e8562d10df9abe2e774896f82b4b4405266';
const NAMESPACE_HEX = '6d 79 2d 61 70 70 5f 54 52 41 43 4b 45 52 5f 49 50';
const SIGNED_HEX = `11 ${NAMESPACE_HEX} ${INGRESS_HEX} ${TIMESTAMP_U64BE_HEX}`;
// Ed25519 is deterministic: this is the signature of SIGNED_HEX by seed 1 (checked below against
// a raw signature of those bytes), pinned so a change to the signing path cannot go unnoticed.
const SIGNATURE_HEX =
  'a61b9f2f7135dad8a9cff4553f95c027ffdfa666e5532b66524e2e0fc1ee7cb4' +
  '49730b8010e407ac94c58d22289d6a23cdaffa64736a7772aa7a3a990992d900';
const WIRE_HEX = `${INGRESS_HEX} ${TIMESTAMP_VARINT_HEX} ${PUBLIC_KEY_HEX} ${SIGNATURE_HEX}`;

describe('Info wire form and signature', () => {
  const info = Info.sign(KEY, APP_NAMESPACE, INGRESS, TIMESTAMP_MS);

  it('signs under app namespace || "_TRACKER_IP"', () => {
    assert.equal(new TextDecoder().decode(INFO_NAMESPACE_SUFFIX), '_TRACKER_IP');
    assert.equal(toHex(infoNamespace(APP_NAMESPACE)), toHex(fromHex(NAMESPACE_HEX)));
  });

  it('signs Ingress || u64be(timestamp), not the wire form', () => {
    assert.equal(
      toHex(info.signedMessage),
      toHex(fromHex(`${INGRESS_HEX} ${TIMESTAMP_U64BE_HEX}`)),
    );
    const signed = fromHex(SIGNED_HEX);
    assert.equal(
      toHex(unionUnique(infoNamespace(APP_NAMESPACE), info.signedMessage)),
      toHex(signed),
    );
    assert.ok(KEY.publicKey.verifyRaw(signed, info.signature));
    assert.equal(toHex(KEY.signRaw(signed)), toHex(info.signature));
    assert.equal(toHex(info.signature), SIGNATURE_HEX);
  });

  it('writes the signed timestamp as 8 big-endian bytes across the whole safe range', () => {
    const tail = (ts: number): string =>
      toHex(Info.sign(KEY, APP_NAMESPACE, INGRESS, ts).signedMessage.subarray(8));
    assert.equal(tail(0), '0000000000000000');
    assert.equal(tail(0xffffffff), '00000000ffffffff');
    assert.equal(tail(2 ** 32), '0000000100000000');
    assert.equal(tail(Number.MAX_SAFE_INTEGER), '001fffffffffffff');
  });

  it('encodes as Ingress || varint(timestamp) || public key || signature, 110 bytes', () => {
    const wire = encode(infoCodec, info);
    assert.equal(wire.length, 8 + 6 + 32 + 64);
    assert.equal(toHex(wire), toHex(fromHex(WIRE_HEX)));
    assert.equal(infoCodec.encodeSize(info), wire.length);
  });

  it('decodes the vector back to an equal Info whose signature verifies', () => {
    const back = decode(infoCodec, fromHex(WIRE_HEX));
    assert.ok(back.equals(info));
    assert.deepEqual(back.ingress, { kind: 'socket', addr: { ip: '127.0.0.1', port: 8080 } });
    assert.equal(back.timestampMs, TIMESTAMP_MS);
    assert.ok(back.publicKey.equals(KEY.publicKey));
    assert.equal(toHex(back.signedMessage), toHex(info.signedMessage));
    const verifier = new InfoVerifier(config());
    verifier.validate(clockAt(TIMESTAMP_MS), [back]);
  });

  it('copies the signature and ingress out of the input buffer', () => {
    const wire = fromHex(WIRE_HEX);
    const back = decode(infoCodec, wire);
    wire.fill(0);
    assert.equal(toHex(back.signature), SIGNATURE_HEX);
    assert.equal(toHex(encode(infoCodec, back)), toHex(fromHex(WIRE_HEX)));
  });

  it('encodes a DNS ingress with its hostname', () => {
    const dns = Info.sign(KEY, APP_NAMESPACE, Ingress.dns('example.com', 443), 0);
    const wire = encode(infoCodec, dns);
    // 01 0b "example.com" 01 bb, then timestamp 0 as the single byte 00.
    assert.equal(toHex(wire.subarray(0, 16)), '010b6578616d706c652e636f6d01bb00');
    assert.equal(toHex(wire.subarray(16, 48)), PUBLIC_KEY_HEX);
    assert.ok(decode(infoCodec, wire).equals(dns));
  });
});

describe('Info codec', () => {
  it('round-trips any Info, with encodeSize exact (fast-check)', () => {
    fc.assert(
      fc.property(infoArb, (info) => {
        const wire = encode(infoCodec, info);
        assert.equal(infoCodec.encodeSize(info), wire.length);
        const back = decode(infoCodec, wire);
        assert.ok(back.equals(info));
        assert.equal(toHex(back.signedMessage), toHex(info.signedMessage));
        assert.equal(toHex(encode(infoCodec, back)), toHex(wire));
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('fails with EndOfBuffer on every truncation of the vector', () => {
    const wire = fromHex(WIRE_HEX);
    for (let n = 0; n < wire.length; n++) {
      throwsCodec(() => decode(infoCodec, wire.subarray(0, n)), 'EndOfBuffer');
    }
    throwsCodec(() => decode(infoCodec, fromHex(`${WIRE_HEX} 00`)), 'ExtraData');
  });

  it('rejects a timestamp above 2^53 - 1, an unknown ingress tag and a bad public key', () => {
    // 2^53 as a varint: 80 80 80 80 80 80 80 10.
    const bigTs = fromHex(
      `${INGRESS_HEX} 80 80 80 80 80 80 80 10 ${PUBLIC_KEY_HEX} ${SIGNATURE_HEX}`,
    );
    throwsCodec(() => decode(infoCodec, bigTs), 'InvalidUsize');
    // 2^53 - 1 is accepted (and then fails the synchrony bound, not the codec).
    const maxTs = fromHex(
      `${INGRESS_HEX} ff ff ff ff ff ff ff 0f ${PUBLIC_KEY_HEX} ${SIGNATURE_HEX}`,
    );
    assert.equal(decode(infoCodec, maxTs).timestampMs, Number.MAX_SAFE_INTEGER);
    const badTag = fromHex(`02 ${WIRE_HEX.slice(3)}`);
    throwsCodec(() => decode(infoCodec, badTag), 'InvalidEnum');
    // y = 2 is not the y-coordinate of a curve point (not a square).
    const badKey = `02${'00'.repeat(31)}`;
    const err = throwsCodec(
      () =>
        decode(
          infoCodec,
          fromHex(`${INGRESS_HEX} ${TIMESTAMP_VARINT_HEX} ${badKey} ${SIGNATURE_HEX}`),
        ),
      'Invalid',
    );
    assert.equal(err.context, 'PublicKey');
  });

  it('refuses to build an Info from out-of-range fields (programmer errors)', () => {
    for (const ts of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) {
      assert.throws(() => Info.sign(KEY, APP_NAMESPACE, INGRESS, ts), RangeError);
      assert.throws(
        () =>
          Info.from({
            ingress: INGRESS,
            timestampMs: ts,
            publicKey: KEY.publicKey,
            signature: new Uint8Array(64),
          }),
        RangeError,
      );
    }
    assert.throws(
      () =>
        Info.from({
          ingress: INGRESS,
          timestampMs: 0,
          publicKey: KEY.publicKey,
          signature: new Uint8Array(63),
        }),
      RangeError,
    );
    const badPort = { kind: 'socket', addr: { ip: '127.0.0.1', port: 70000 } } as const;
    assert.throws(() => Info.sign(KEY, APP_NAMESPACE, badPort, 0), RangeError);
  });
});

// ---------- InfoVerifier ----------

const BOUND_MS = 5_000;
const NOW_MS = 1_800_000_000_000;

function config(overrides: Partial<InfoVerifierConfig> = {}): InfoVerifierConfig {
  return {
    myself: KEYS[3]!.publicKey,
    namespace: APP_NAMESPACE,
    synchronyBoundMs: BOUND_MS,
    peerGossipMaxCount: 4,
    ...overrides,
  };
}

function clockAt(now: number): { now(): number } {
  return { now: () => now };
}

function failure(fn: () => void): P2PErrorCode {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof P2PError, `expected a P2PError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('expected validate to throw');
}

describe('InfoVerifier', () => {
  const signed = (key: number, ts: number): Info =>
    Info.sign(KEYS[key]!, APP_NAMESPACE, Ingress.socket(`10.0.0.${key + 1}:3000`), ts);
  const verifier = new InfoVerifier(config());
  const clock = clockAt(NOW_MS);

  it('accepts valid records in any order, with duplicates and old timestamps, up to the limit', () => {
    verifier.validate(clock, []);
    verifier.validate(clock, [signed(0, NOW_MS)]);
    verifier.validate(clock, [
      signed(2, 0),
      signed(0, NOW_MS - 1),
      signed(1, NOW_MS),
      signed(0, 7),
    ]);
  });

  it('accepts a timestamp exactly at now + synchrony bound and refuses one ms later', () => {
    verifier.validate(clock, [signed(0, NOW_MS + BOUND_MS)]);
    assert.equal(
      failure(() => verifier.validate(clock, [signed(0, NOW_MS + BOUND_MS + 1)])),
      'SynchronyBound',
    );
    // The same record is fine once the clock has caught up.
    verifier.validate(clockAt(NOW_MS + 1), [signed(0, NOW_MS + BOUND_MS + 1)]);
  });

  it('refuses more than peerGossipMaxCount records (TooManyPeers) before looking at them', () => {
    const five = [0, 1, 2, 0, 1].map((k) => signed(k, NOW_MS));
    assert.equal(
      failure(() => verifier.validate(clock, five)),
      'TooManyPeers',
    );
    verifier.validate(clock, five.slice(0, 4));
    // Even when every record would also fail another check.
    const self = signed(3, NOW_MS);
    assert.equal(
      failure(() => verifier.validate(clock, [self, self, self, self, self])),
      'TooManyPeers',
    );
  });

  it('refuses a record about ourselves (ReceivedSelf)', () => {
    assert.equal(
      failure(() => verifier.validate(clock, [signed(0, 1), signed(3, 1)])),
      'ReceivedSelf',
    );
  });

  it('refuses a record whose signature does not verify (InvalidSignature)', () => {
    const good = signed(0, NOW_MS);
    const tampered = (patch: Partial<Parameters<typeof Info.from>[0]>): Info =>
      Info.from({
        ingress: good.ingress,
        timestampMs: good.timestampMs,
        publicKey: good.publicKey,
        signature: good.signature,
        ...patch,
      });
    const flipped = good.signature.slice();
    flipped[10]! ^= 1;
    const cases: Info[] = [
      tampered({ signature: flipped }),
      tampered({ timestampMs: good.timestampMs - 1 }),
      tampered({ ingress: Ingress.socket('10.0.0.1:3001') }),
      tampered({ publicKey: KEYS[1]!.publicKey }),
      // Signed under another application's namespace.
      Info.sign(KEYS[0]!, new TextEncoder().encode('other-app'), good.ingress, good.timestampMs),
      // A valid signature over the wire form instead of the signed message.
      tampered({
        signature: KEYS[0]!.sign(
          infoNamespace(APP_NAMESPACE),
          encode(infoCodec, good).subarray(0, 14),
        ),
      }),
    ];
    for (const [i, bad] of cases.entries()) {
      assert.equal(
        failure(() => verifier.validate(clock, [good, bad])),
        'InvalidSignature',
        `case ${i}`,
      );
    }
  });

  /** Counts the ed25519 verifications `fn` makes with any of `KEYS`' public keys. */
  function verifications(fn: () => void): number {
    let calls = 0;
    const keys = KEYS.map((k) => k.publicKey);
    for (const pk of keys) {
      const verify = pk.verify;
      Object.defineProperty(pk, 'verify', {
        configurable: true,
        value: (...args: Parameters<typeof verify>) => {
          calls++;
          return verify.apply(pk, args);
        },
      });
    }
    try {
      fn();
    } finally {
      for (const pk of keys) delete (pk as { verify?: unknown }).verify;
    }
    return calls;
  }

  it('verifies a signed record once; a forged one with the same key and timestamp still fails', () => {
    const v = new InfoVerifier(config());
    const good = signed(1, NOW_MS - 10);
    assert.equal(
      verifications(() => v.validate(clock, [good])),
      1,
    );
    // The same record again, also as another decoded copy: no verification.
    const copy = decode(infoCodec, encode(infoCodec, good));
    assert.equal(
      verifications(() => v.validate(clock, [good, copy])),
      0,
    );
    const flipped = good.signature.slice();
    flipped[0]! ^= 1;
    const forged = [
      Info.from({ ...good, signature: flipped }),
      Info.from({ ...good, ingress: Ingress.socket('10.9.9.9:3000') }),
    ];
    for (const [i, bad] of forged.entries()) {
      assert.equal(
        failure(() => v.validate(clock, [bad])),
        'InvalidSignature',
        `case ${i}`,
      );
    }
    // The failures did not displace the verified record.
    assert.equal(
      verifications(() => v.validate(clock, [copy])),
      0,
    );
    // A newer record of the key is verified (and then remembered instead).
    const newer = signed(1, NOW_MS);
    assert.equal(
      verifications(() => v.validate(clock, [newer, newer])),
      1,
    );
    assert.equal(
      verifications(() => v.validate(clock, [good])),
      1,
    );
  });

  it('remembers at most verifiedCacheSize keys, the least recently used evicted', () => {
    const v = new InfoVerifier(config({ verifiedCacheSize: 2 }));
    const [a, b, c] = [signed(0, 5), signed(1, 5), signed(2, 5)];
    assert.equal(
      verifications(() => v.validate(clock, [a, b])),
      2,
    );
    // a is used again, so b is the least recently used when c arrives.
    assert.equal(
      verifications(() => v.validate(clock, [a, c])),
      1,
    );
    assert.equal(v.verifiedCount, 2);
    assert.equal(
      verifications(() => v.validate(clock, [a, c])),
      0,
    );
    assert.equal(
      verifications(() => v.validate(clock, [b])),
      1,
    );
    assert.equal(v.verifiedCount, 2);
    // Many keys: the memory stays at its bound.
    const many = new InfoVerifier(config({ verifiedCacheSize: 2 }));
    for (let t = 0; t < 4; t++) {
      for (let k = 0; k < 3; k++) many.validate(clock, [signed(k, t)]);
    }
    assert.equal(many.verifiedCount, 2);
  });

  it('runs the cheap checks on every record before verifying any signature', () => {
    const forged = Info.from({
      ingress: INGRESS,
      timestampMs: 0,
      publicKey: KEYS[0]!.publicKey,
      signature: new Uint8Array(64),
    });
    assert.equal(
      failure(() => verifier.validate(clock, [forged, signed(3, 0)])),
      'ReceivedSelf',
    );
    assert.equal(
      failure(() => verifier.validate(clock, [forged, signed(1, NOW_MS + BOUND_MS + 1)])),
      'SynchronyBound',
    );
  });

  it('reads the clock once per call', () => {
    let calls = 0;
    const counting = {
      now: () => {
        calls++;
        return NOW_MS;
      },
    };
    verifier.validate(counting, [signed(0, 1), signed(1, 2), signed(2, 3)]);
    assert.equal(calls, 1);
  });

  it('refuses an invalid configuration with P2PError InvalidConfig', () => {
    for (const bad of [
      { synchronyBoundMs: -1 },
      { synchronyBoundMs: 0.5 },
      { peerGossipMaxCount: 0 },
      { peerGossipMaxCount: Number.POSITIVE_INFINITY },
      { verifiedCacheSize: 0 },
      { verifiedCacheSize: 1.5 },
    ]) {
      assert.throws(
        () => new InfoVerifier(config(bad)),
        (e) => e instanceof P2PError && e.code === 'InvalidConfig',
      );
    }
  });
});
