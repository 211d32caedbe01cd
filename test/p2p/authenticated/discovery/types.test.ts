import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BitMap, CodecError } from '../../../../src/codec/index.js';
import { Ingress } from '../../../../src/p2p/address.js';
import { encodeData } from '../../../../src/p2p/authenticated/data.js';
import { Info } from '../../../../src/p2p/authenticated/discovery/info.js';
import {
  decodePayload,
  encodeBitVec,
  encodeGreeting,
  encodePayload,
  encodePeers,
  GREETING_TAG,
  type Payload,
  type PayloadConfig,
  PEERS_TAG,
} from '../../../../src/p2p/authenticated/discovery/types.js';
import { hex as fromHex, throwsCodec } from '../../../codec/helpers.js';
import { APP_NAMESPACE, infoArb, KEYS, toHex } from './helpers.js';

const CFG: PayloadConfig = { maxBitVec: 32, maxPeers: 4, maxDataLength: 1024 };

// The Info vector of info.test.ts (derivation there): seed 1, 127.0.0.1:8080, 1_700_000_000_000.
const INFO = Info.sign(
  KEYS[0]!,
  APP_NAMESPACE,
  Ingress.socket('127.0.0.1:8080'),
  1_700_000_000_000,
);
const INFO_HEX =
  '00047f0000011f90' +
  '80d095ffbc31' +
  '478b8e507e0bb2b18c0f9e0824769e8562d10df9abe2e774896f82b4b4405266' +
  'a61b9f2f7135dad8a9cff4553f95c027ffdfa666e5532b66524e2e0fc1ee7cb4' +
  '49730b8010e407ac94c58d22289d6a23cdaffa64736a7772aa7a3a990992d900';

/** Structural equality of payloads (Info and BitMap hold private state deepEqual cannot see). */
function assertSamePayload(actual: Payload, expected: Payload): void {
  assert.equal(actual.type, expected.type);
  switch (expected.type) {
    case 'data':
      assert.ok(actual.type === 'data');
      assert.equal(actual.channel, expected.channel);
      assert.deepEqual(actual.message, expected.message);
      return;
    case 'greeting':
      assert.ok(actual.type === 'greeting');
      assert.ok(actual.info.equals(expected.info));
      return;
    case 'bitVec':
      assert.ok(actual.type === 'bitVec');
      assert.equal(actual.index, expected.index);
      assert.ok(actual.bits.equals(expected.bits));
      return;
    case 'peers':
      assert.ok(actual.type === 'peers');
      assert.equal(actual.peers.length, expected.peers.length);
      for (const [i, p] of expected.peers.entries()) assert.ok(actual.peers[i]!.equals(p));
      return;
  }
}

describe('discovery Payload vectors', () => {
  it('encodes BitVec index 1 bits [1,0,1] as 02 01 00 00 00 00 00 00 00 03 05', () => {
    const bits = BitMap.fromBools([true, false, true]);
    const expected = '02 01 00 00 00 00 00 00 00 03 05';
    assert.equal(toHex(encodeBitVec(1, bits)), toHex(fromHex(expected)));
    assert.equal(
      toHex(encodePayload({ type: 'bitVec', index: 1, bits })),
      toHex(fromHex(expected)),
    );
    const back = decodePayload(fromHex(expected), CFG);
    assertSamePayload(back, { type: 'bitVec', index: 1, bits });
  });

  it('encodes an empty BitVec and a large index', () => {
    // Index 300 = ac 02; zero bits: the 8-byte length and no body.
    const frame = encodeBitVec(300, new BitMap(0));
    assert.equal(toHex(frame), '02ac020000000000000000');
    assertSamePayload(decodePayload(frame, CFG), {
      type: 'bitVec',
      index: 300,
      bits: new BitMap(0),
    });
  });

  it('encodes a Greeting as 01 || Info', () => {
    const frame = encodeGreeting(INFO);
    assert.equal(frame[0], GREETING_TAG);
    assert.equal(toHex(frame), `01${INFO_HEX}`);
    assert.equal(toHex(encodePayload({ type: 'greeting', info: INFO })), toHex(frame));
    assertSamePayload(decodePayload(frame, CFG), { type: 'greeting', info: INFO });
  });

  it('encodes Peers as 03 || varint(count) || Info*', () => {
    assert.equal(toHex(encodePeers([])), '0300');
    const two = encodePeers([INFO, INFO]);
    assert.equal(two[0], PEERS_TAG);
    assert.equal(toHex(two), `0302${INFO_HEX}${INFO_HEX}`);
    assert.equal(toHex(encodePayload({ type: 'peers', peers: [INFO, INFO] })), toHex(two));
    assertSamePayload(decodePayload(two, CFG), { type: 'peers', peers: [INFO, INFO] });
  });

  it('encodes Data exactly as the shared data frame', () => {
    const ping = new TextEncoder().encode('ping');
    const frame = encodePayload({ type: 'data', channel: 7, message: ping });
    assert.equal(toHex(frame), '00070470696e67');
    assert.deepEqual(frame, encodeData(7, ping));
    assertSamePayload(decodePayload(frame, CFG), { type: 'data', channel: 7, message: ping });
  });
});

const bitsArb = fc
  .array(fc.boolean(), { maxLength: CFG.maxBitVec })
  .map((b) => BitMap.fromBools(b));
const payloadArb: fc.Arbitrary<Payload> = fc.oneof(
  fc
    .record({
      channel: fc.oneof(fc.nat(200), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
      message: fc.uint8Array({ maxLength: 64 }),
    })
    .map(({ channel, message }): Payload => ({ type: 'data', channel, message })),
  infoArb.map((info): Payload => ({ type: 'greeting', info })),
  fc
    .record({
      index: fc.oneof(fc.nat(10), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
      bits: bitsArb,
    })
    .map(({ index, bits }): Payload => ({ type: 'bitVec', index, bits })),
  fc
    .array(infoArb, { maxLength: CFG.maxPeers })
    .map((peers): Payload => ({ type: 'peers', peers })),
);

describe('discovery Payload codec', () => {
  it('round-trips every payload, and the one-shot encoders agree with the codec (fast-check)', () => {
    fc.assert(
      fc.property(payloadArb, (p) => {
        const frame = encodePayload(p);
        assertSamePayload(decodePayload(frame, CFG), p);
        if (p.type === 'greeting') assert.deepEqual(encodeGreeting(p.info), frame);
        if (p.type === 'bitVec') assert.deepEqual(encodeBitVec(p.index, p.bits), frame);
        if (p.type === 'peers') assert.deepEqual(encodePeers(p.peers), frame);
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it('rejects unknown tags with InvalidEnum, empty input with EndOfBuffer, trailing bytes with ExtraData', () => {
    for (let tag = 4; tag < 256; tag++) {
      throwsCodec(() => decodePayload(Uint8Array.of(tag, 0, 0, 0), CFG), 'InvalidEnum');
    }
    assert.equal(
      throwsCodec(() => decodePayload(Uint8Array.of(4), CFG), 'InvalidEnum').context,
      'discovery::Payload',
    );
    throwsCodec(() => decodePayload(new Uint8Array(0), CFG), 'EndOfBuffer');
    throwsCodec(() => decodePayload(fromHex('0300 00'), CFG), 'ExtraData');
    throwsCodec(
      () => decodePayload(fromHex('02 01 00 00 00 00 00 00 00 03 05 00'), CFG),
      'ExtraData',
    );
  });

  it('fails with EndOfBuffer on every truncation of every vector', () => {
    const frames = [
      fromHex('02 01 00 00 00 00 00 00 00 03 05'),
      encodeGreeting(INFO),
      encodePeers([INFO, INFO]),
      encodeData(7, new TextEncoder().encode('ping')),
    ];
    for (const frame of frames) {
      for (let n = 0; n < frame.length; n++) {
        throwsCodec(() => decodePayload(frame.subarray(0, n), CFG), 'EndOfBuffer');
      }
    }
  });

  it('checks the BitVec bit length against maxBitVec before reading the body', () => {
    const at = (bits: number): Uint8Array => encodeBitVec(0, new BitMap(bits));
    decodePayload(at(CFG.maxBitVec), CFG);
    throwsCodec(() => decodePayload(at(CFG.maxBitVec + 1), CFG), 'InvalidLength');
    // A 2^64 - 1 bit length with no body: refused on the length, before any body is read or
    // allocated (an unchecked length would report EndOfBuffer, or try to allocate 2^61 bytes).
    const huge = fromHex('02 00 ff ff ff ff ff ff ff ff');
    throwsCodec(() => decodePayload(huge, CFG), 'InvalidLength');
    // A bit set past the length is not a valid BitMap.
    throwsCodec(() => decodePayload(fromHex('02 01 00 00 00 00 00 00 00 03 0d'), CFG), 'Invalid');
  });

  it('checks the Peers count against maxPeers before reading any record', () => {
    const atMax = encodePeers([INFO, INFO, INFO, INFO]);
    assert.equal(decodePayload(atMax, CFG).type, 'peers');
    const over = encodePeers([INFO, INFO, INFO, INFO, INFO]);
    throwsCodec(() => decodePayload(over, CFG), 'InvalidLength');
    // u32::MAX records claimed in 6 bytes: refused on the count, nothing read or allocated.
    throwsCodec(() => decodePayload(fromHex('03 ff ff ff ff 0f'), CFG), 'InvalidLength');
    // A count within the limit but more records than bytes: EndOfBuffer after what is there.
    throwsCodec(() => decodePayload(fromHex(`03 03 ${INFO_HEX}`), CFG), 'EndOfBuffer');
  });

  it('checks the Data length against maxDataLength and the channel and index against 2^53 - 1', () => {
    const msg = new Uint8Array(CFG.maxDataLength + 1);
    decodePayload(encodeData(1, msg.subarray(1)), CFG);
    throwsCodec(() => decodePayload(encodeData(1, msg), CFG), 'InvalidLength');
    // 2^53 as a varint: 80 80 80 80 80 80 80 10.
    throwsCodec(() => decodePayload(fromHex('00 8080808080808010 00'), CFG), 'InvalidUsize');
    throwsCodec(
      () => decodePayload(fromHex('02 8080808080808010 0000000000000000'), CFG),
      'InvalidUsize',
    );
    throwsCodec(() => decodePayload(fromHex('02 80 00 0000000000000000'), CFG), 'InvalidVarint');
  });

  it('refuses to encode an index or channel that is not a non-negative safe integer', () => {
    for (const bad of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1]) {
      assert.throws(() => encodeBitVec(bad, new BitMap(1)), RangeError);
      assert.throws(
        () => encodePayload({ type: 'bitVec', index: bad, bits: new BitMap(1) }),
        RangeError,
      );
    }
  });
});

describe('discovery Payload under adversarial bytes', () => {
  // Returns normally on success or CodecError; anything else fails the property.
  const decodeOrCodecError = (input: Uint8Array): void => {
    try {
      decodePayload(input, CFG);
    } catch (err) {
      if (!(err instanceof CodecError)) {
        throw new Error(`non-CodecError on ${toHex(input)}: ${String(err)}`, { cause: err });
      }
    }
  };

  it('random bytes, mostly behind a valid tag, only ever throw CodecError (fast-check)', () => {
    fc.assert(
      fc.property(fc.nat(4), fc.uint8Array({ maxLength: 160 }), (tag, body) => {
        const input = new Uint8Array(1 + body.length);
        input[0] = tag;
        input.set(body, 1);
        decodeOrCodecError(input);
      }),
      { seed: 42, numRuns: 10_000 },
    );
  });

  it('mutated valid encodings decode or fail with CodecError only (fast-check)', () => {
    fc.assert(
      fc.property(
        payloadArb,
        fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.nat(2)), { minLength: 1, maxLength: 4 }),
        (p, edits) => {
          let b = Array.from(encodePayload(p));
          for (const [pos, byte, op] of edits) {
            const at = b.length === 0 ? 0 : pos % (b.length + (op === 1 ? 1 : 0));
            if (op === 0 && b.length > 0) b[at] = byte;
            else if (op === 1) b.splice(at, 0, byte);
            else b = b.slice(0, at);
          }
          decodeOrCodecError(Uint8Array.from(b));
        },
      ),
      { seed: 42, numRuns: 1_000 },
    );
  });
});
