import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blake3 } from '@noble/hashes/blake3.js';
import {
  CryptoError,
  ed25519,
  signSummary,
  Transcript,
  verifySummary,
} from '../../src/crypto/index.js';
import { toHex, utf8, vectors } from './helpers.js';

const cat = (...parts: (Uint8Array | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => Array.from(p)));

interface Frozen {
  vectors: Record<string, string>;
}

const LABEL = utf8('_COMMONWARE_CRYPTOGRAPHY_HANDSHAKE');

describe('Transcript absorption order (V0), checked against plain BLAKE3', () => {
  it('new(ns) absorbs 00 || ns || varint(len(ns))', () => {
    const ns = utf8('app_STREAM');
    const expected = blake3(cat([0], ns, [10]));
    assert.deepEqual(Transcript.new(ns).summarize(), expected);
  });

  it('fork(label) keys BLAKE3 with the summary and absorbs 02 || label || varint(len)', () => {
    const ns = utf8('app_STREAM');
    const s0 = blake3(cat([0], ns, [10]));
    const expected = blake3(cat([2], LABEL, [34]), { key: s0 });
    assert.deepEqual(Transcript.new(ns).fork(LABEL).summarize(), expected);
  });

  it('commit of empty data absorbs 00, and append + commit absorb one length for the packet', () => {
    const t = Transcript.new(new Uint8Array(0)).commit(new Uint8Array(0));
    assert.deepEqual(t.summarize(), blake3(Uint8Array.of(0, 0, 0)));

    const u = Transcript.new(utf8('n')).append(utf8('ab')).append(utf8('cde')).commit(utf8('f'));
    assert.deepEqual(u.summarize(), blake3(cat([0], utf8('n'), [1], utf8('abcdef'), [6])));
    // The same bytes committed separately give a different transcript.
    const v = Transcript.new(utf8('n')).commit(utf8('ab')).commit(utf8('cdef'));
    assert.deepEqual(
      v.summarize(),
      blake3(cat([0], utf8('n'), [1], utf8('ab'), [2], utf8('cdef'), [4])),
    );
    assert.notDeepEqual(u.summarize(), v.summarize());
  });

  it('summarize closes a pending packet on a copy and leaves the transcript unchanged', () => {
    const t = Transcript.new(utf8('n')).append(utf8('xyz'));
    const expected = blake3(cat([0], utf8('n'), [1], utf8('xyz'), [3]));
    assert.deepEqual(t.summarize(), expected);
    assert.deepEqual(t.summarize(), expected);
    t.commit(new Uint8Array(0)); // the packet is still open: now it closes for real
    assert.deepEqual(t.summarize(), expected);
  });

  it('encodes packet lengths of 128 and more as multi-byte LEB128', () => {
    const data = new Uint8Array(300).fill(0x55);
    const t = Transcript.new(utf8('n')).commit(data);
    assert.deepEqual(t.summarize(), blake3(cat([0], utf8('n'), [1], data, [0xac, 0x02])));
  });

  it('noise(label) is the XOF of BLAKE3 keyed with the summary over 03 || label || len', () => {
    const t = Transcript.new(utf8('app_STREAM')).fork(LABEL);
    const s = t.summarize();
    const label = utf8('cipher_l2d');
    const stream = blake3(cat([3], label, [10]), { key: s, dkLen: 96 });
    const reader = t.noise(label);
    assert.deepEqual(reader.bytes(32), stream.subarray(0, 32));
    assert.deepEqual(reader.fill(new Uint8Array(64)), stream.subarray(32, 96));
    // Different labels give independent keys.
    assert.notDeepEqual(t.noise(utf8('cipher_d2l')).bytes(32), stream.subarray(0, 32));
  });

  it('resume(summary) keys BLAKE3 with the summary and absorbs 01', () => {
    const s = new Uint8Array(32).fill(4);
    const t = Transcript.resume(s).commit(utf8('z'));
    assert.deepEqual(t.summarize(), blake3(cat([1], utf8('z'), [1]), { key: s }));
    assert.throws(() => Transcript.resume(new Uint8Array(31)), CryptoError);
  });

  it('matches the frozen handshake-prefix vectors', () => {
    const frozen = vectors<Frozen>('transcript.json').vectors;
    const t = Transcript.new(utf8('app_STREAM')).fork(LABEL);
    assert.equal(toHex(Transcript.new(utf8('app_STREAM')).summarize()), frozen.newAppStream);
    assert.equal(toHex(t.summarize()), frozen.forkHandshake);
    t.commit(new Uint8Array([0, 0, 1, 0x8f, 0xa0, 0xb1, 0xc2, 0xd3]));
    t.commit(new Uint8Array(32).fill(0x11));
    assert.equal(toHex(t.summarize()), frozen.afterTimestampAndKey);
    assert.equal(toHex(t.noise(utf8('cipher_l2d')).bytes(32)), frozen.noiseCipherL2d);
    assert.equal(toHex(t.fork(utf8('confirmation_l2d')).summarize()), frozen.confirmationL2d);
  });
});

describe('summary signatures', () => {
  it('sign the summary under the empty namespace (message 00 || summary)', () => {
    const key = ed25519.PrivateKey.fromSeed(1n);
    const summary = Transcript.new(utf8('app_STREAM')).summarize();
    const sig = signSummary(key, summary);
    assert.deepEqual(sig, key.signRaw(cat([0], summary)));
    assert.equal(verifySummary(key.publicKey, summary, sig), true);
    const other = summary.slice();
    other[0]! ^= 1;
    assert.equal(verifySummary(key.publicKey, other, sig), false);
  });
});

describe('Transcript summary memoisation', () => {
  const build = (): Transcript => Transcript.new(utf8('memo')).commit(utf8('a')).append(utf8('b'));

  it('returns equal, independent copies until the transcript changes', () => {
    const t = build();
    const s1 = t.summarize();
    s1.fill(0); // a caller scribbling on its copy must not change later summaries
    const s2 = t.summarize();
    assert.deepEqual(s2, build().summarize());
    assert.notDeepEqual(s1, s2);
    assert.notEqual(s2, t.summarize());
  });

  it('forgets the summary on append and commit, so derivations follow the new state', () => {
    const t = build();
    const before = t.summarize();
    t.fork(LABEL); // memoises
    t.append(utf8('c'));
    const afterAppend = t.summarize();
    assert.notDeepEqual(afterAppend, before);
    assert.deepEqual(afterAppend, build().append(utf8('c')).summarize());
    t.noise(LABEL).bytes(8);
    t.commit(utf8('d'));
    const fresh = build().append(utf8('c')).commit(utf8('d'));
    assert.deepEqual(t.summarize(), fresh.summarize());
    assert.deepEqual(t.fork(LABEL).summarize(), fresh.fork(LABEL).summarize());
    assert.deepEqual(t.noise(LABEL).bytes(32), fresh.noise(LABEL).bytes(32));
    // A fork of a memoised transcript is its own transcript: changing it leaves the parent's.
    const child = t.fork(LABEL);
    child.commit(utf8('x'));
    assert.deepEqual(t.summarize(), fresh.summarize());
  });
});
