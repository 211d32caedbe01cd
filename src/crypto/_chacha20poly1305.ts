/**
 * A small-message ChaCha20-Poly1305 (RFC 8439) in plain TypeScript.
 *
 * Why this exists: node:crypto's AEAD costs ~5 us per call on the reference machine (creating the
 * EVP context and three Buffer-returning binding calls), which caps 32-byte messages at a few
 * MB/s. This implementation has no per-call allocation beyond the output, keeps the expanded key
 * as eight u32 words for the life of a {@link Cipher}, and costs well under a microsecond for a
 * short message. Its per-byte cost is higher than OpenSSL's, so `backend.ts` uses it only below a
 * size threshold and OpenSSL above it. Both produce identical bytes (cross-checked by property
 * tests against node:crypto and by the RFC 8439 vectors).
 *
 * Structure follows RFC 8439: ChaCha20 block function (section 2.3), Poly1305 over
 * `aad || pad16 || ct || pad16 || le64(len(aad)) || le64(len(ct))` (section 2.8) with the
 * one-time key taken from block 0, data encrypted from block 1. Poly1305 arithmetic uses ten
 * 13-bit limbs (the poly1305-donna-16 / TweetNaCl layout also used by noble-ciphers) so every
 * intermediate product stays far below 2^53 and exact in doubles.
 *
 * The code assumes a little-endian host for the keystream view; `backend.ts` checks this once
 * and falls back to OpenSSL everywhere otherwise.
 *
 * @internal
 */

// ---------- ChaCha20 ----------

/** Eight little-endian u32 words of a 32-byte key. */
export function keyWords(key: Uint8Array): Int32Array {
  // Int32 (not Uint32) so V8 keeps every word a small integer in the hot loop.
  const k = new Int32Array(8);
  for (let i = 0; i < 8; i++) {
    const j = i * 4;
    k[i] = key[j]! | (key[j + 1]! << 8) | (key[j + 2]! << 16) | (key[j + 3]! << 24);
  }
  return k;
}

// One keystream block, reused (single-threaded JS: no reentrancy between calls).
const BLOCK32 = new Int32Array(16);
const BLOCK8 = new Uint8Array(BLOCK32.buffer);

/** Writes ChaCha20 block `counter` for key `k` and nonce words `n0..n2` into BLOCK32. */
function chachaBlock(k: Int32Array, counter: number, n0: number, n1: number, n2: number): void {
  const j0 = 0x61707865;
  const j1 = 0x3320646e;
  const j2 = 0x79622d32;
  const j3 = 0x6b206574;
  const j4 = k[0]!;
  const j5 = k[1]!;
  const j6 = k[2]!;
  const j7 = k[3]!;
  const j8 = k[4]!;
  const j9 = k[5]!;
  const j10 = k[6]!;
  const j11 = k[7]!;
  const j12 = counter;
  const j13 = n0;
  const j14 = n1;
  const j15 = n2;
  let x0 = j0;
  let x1 = j1;
  let x2 = j2;
  let x3 = j3;
  let x4 = j4;
  let x5 = j5;
  let x6 = j6;
  let x7 = j7;
  let x8 = j8;
  let x9 = j9;
  let x10 = j10;
  let x11 = j11;
  let x12 = j12;
  let x13 = j13;
  let x14 = j14;
  let x15 = j15;
  for (let i = 0; i < 10; i++) {
    // Column round.
    x0 = (x0 + x4) | 0;
    x12 ^= x0;
    x12 = (x12 << 16) | (x12 >>> 16);
    x8 = (x8 + x12) | 0;
    x4 ^= x8;
    x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0;
    x12 ^= x0;
    x12 = (x12 << 8) | (x12 >>> 24);
    x8 = (x8 + x12) | 0;
    x4 ^= x8;
    x4 = (x4 << 7) | (x4 >>> 25);

    x1 = (x1 + x5) | 0;
    x13 ^= x1;
    x13 = (x13 << 16) | (x13 >>> 16);
    x9 = (x9 + x13) | 0;
    x5 ^= x9;
    x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0;
    x13 ^= x1;
    x13 = (x13 << 8) | (x13 >>> 24);
    x9 = (x9 + x13) | 0;
    x5 ^= x9;
    x5 = (x5 << 7) | (x5 >>> 25);

    x2 = (x2 + x6) | 0;
    x14 ^= x2;
    x14 = (x14 << 16) | (x14 >>> 16);
    x10 = (x10 + x14) | 0;
    x6 ^= x10;
    x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0;
    x14 ^= x2;
    x14 = (x14 << 8) | (x14 >>> 24);
    x10 = (x10 + x14) | 0;
    x6 ^= x10;
    x6 = (x6 << 7) | (x6 >>> 25);

    x3 = (x3 + x7) | 0;
    x15 ^= x3;
    x15 = (x15 << 16) | (x15 >>> 16);
    x11 = (x11 + x15) | 0;
    x7 ^= x11;
    x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0;
    x15 ^= x3;
    x15 = (x15 << 8) | (x15 >>> 24);
    x11 = (x11 + x15) | 0;
    x7 ^= x11;
    x7 = (x7 << 7) | (x7 >>> 25);

    // Diagonal round.
    x0 = (x0 + x5) | 0;
    x15 ^= x0;
    x15 = (x15 << 16) | (x15 >>> 16);
    x10 = (x10 + x15) | 0;
    x5 ^= x10;
    x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0;
    x15 ^= x0;
    x15 = (x15 << 8) | (x15 >>> 24);
    x10 = (x10 + x15) | 0;
    x5 ^= x10;
    x5 = (x5 << 7) | (x5 >>> 25);

    x1 = (x1 + x6) | 0;
    x12 ^= x1;
    x12 = (x12 << 16) | (x12 >>> 16);
    x11 = (x11 + x12) | 0;
    x6 ^= x11;
    x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0;
    x12 ^= x1;
    x12 = (x12 << 8) | (x12 >>> 24);
    x11 = (x11 + x12) | 0;
    x6 ^= x11;
    x6 = (x6 << 7) | (x6 >>> 25);

    x2 = (x2 + x7) | 0;
    x13 ^= x2;
    x13 = (x13 << 16) | (x13 >>> 16);
    x8 = (x8 + x13) | 0;
    x7 ^= x8;
    x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0;
    x13 ^= x2;
    x13 = (x13 << 8) | (x13 >>> 24);
    x8 = (x8 + x13) | 0;
    x7 ^= x8;
    x7 = (x7 << 7) | (x7 >>> 25);

    x3 = (x3 + x4) | 0;
    x14 ^= x3;
    x14 = (x14 << 16) | (x14 >>> 16);
    x9 = (x9 + x14) | 0;
    x4 ^= x9;
    x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0;
    x14 ^= x3;
    x14 = (x14 << 8) | (x14 >>> 24);
    x9 = (x9 + x14) | 0;
    x4 ^= x9;
    x4 = (x4 << 7) | (x4 >>> 25);
  }
  const o = BLOCK32;
  o[0] = (x0 + j0) | 0;
  o[1] = (x1 + j1) | 0;
  o[2] = (x2 + j2) | 0;
  o[3] = (x3 + j3) | 0;
  o[4] = (x4 + j4) | 0;
  o[5] = (x5 + j5) | 0;
  o[6] = (x6 + j6) | 0;
  o[7] = (x7 + j7) | 0;
  o[8] = (x8 + j8) | 0;
  o[9] = (x9 + j9) | 0;
  o[10] = (x10 + j10) | 0;
  o[11] = (x11 + j11) | 0;
  o[12] = (x12 + j12) | 0;
  o[13] = (x13 + j13) | 0;
  o[14] = (x14 + j14) | 0;
  o[15] = (x15 + j15) | 0;
}

/** XORs `src[0..len)` with the keystream from block 1 into `dst` at `dstOff`. */
function xorStream(
  k: Int32Array,
  n0: number,
  n1: number,
  n2: number,
  src: Uint8Array,
  srcOff: number,
  len: number,
  dst: Uint8Array,
  dstOff: number,
): void {
  let counter = 1;
  for (let pos = 0; pos < len; pos += 64) {
    chachaBlock(k, counter++, n0, n1, n2);
    const take = Math.min(len - pos, 64);
    const s = srcOff + pos;
    const d = dstOff + pos;
    for (let i = 0; i < take; i++) dst[d + i] = src[s + i]! ^ BLOCK8[i]!;
  }
}

// ---------- Poly1305 ----------

// Poly1305 state: r (clamped, 13-bit limbs), h accumulator, s (16-bit words). Module scratch.
const R = new Uint16Array(10);
const H = new Float64Array(10);
const S = new Uint16Array(8);
const PAD = new Uint8Array(16);

/** Loads r and s from the first 32 bytes of BLOCK8 (the block-0 keystream) and zeroes h. */
function polyInit(): void {
  const b = BLOCK8;
  const t0 = b[0]! | (b[1]! << 8);
  const t1 = b[2]! | (b[3]! << 8);
  const t2 = b[4]! | (b[5]! << 8);
  const t3 = b[6]! | (b[7]! << 8);
  const t4 = b[8]! | (b[9]! << 8);
  const t5 = b[10]! | (b[11]! << 8);
  const t6 = b[12]! | (b[13]! << 8);
  const t7 = b[14]! | (b[15]! << 8);
  // The masks fold in the RFC 8439 clamp of r.
  R[0] = t0 & 0x1fff;
  R[1] = ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
  R[2] = ((t1 >>> 10) | (t2 << 6)) & 0x1f03;
  R[3] = ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
  R[4] = ((t3 >>> 4) | (t4 << 12)) & 0x00ff;
  R[5] = (t4 >>> 1) & 0x1ffe;
  R[6] = ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
  R[7] = ((t5 >>> 11) | (t6 << 5)) & 0x1f81;
  R[8] = ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
  R[9] = (t7 >>> 5) & 0x007f;
  for (let i = 0; i < 8; i++) S[i] = b[16 + 2 * i]! | (b[17 + 2 * i]! << 8);
  H.fill(0);
}

/**
 * Absorbs `blocks` full 16-byte blocks of `m` starting at `off`, each with the 2^128 bit set
 * (in the AEAD every block is full: partial blocks are zero-padded before they get here).
 */
function polyBlocks(m: Uint8Array, off: number, blocks: number): void {
  const r0 = R[0]!;
  const r1 = R[1]!;
  const r2 = R[2]!;
  const r3 = R[3]!;
  const r4 = R[4]!;
  const r5 = R[5]!;
  const r6 = R[6]!;
  const r7 = R[7]!;
  const r8 = R[8]!;
  const r9 = R[9]!;
  const s1 = 5 * r1;
  const s2 = 5 * r2;
  const s3 = 5 * r3;
  const s4 = 5 * r4;
  const s5 = 5 * r5;
  const s6 = 5 * r6;
  const s7 = 5 * r7;
  const s8 = 5 * r8;
  const s9 = 5 * r9;
  let h0 = H[0]!;
  let h1 = H[1]!;
  let h2 = H[2]!;
  let h3 = H[3]!;
  let h4 = H[4]!;
  let h5 = H[5]!;
  let h6 = H[6]!;
  let h7 = H[7]!;
  let h8 = H[8]!;
  let h9 = H[9]!;
  for (let n = 0; n < blocks; n++, off += 16) {
    const t0 = m[off]! | (m[off + 1]! << 8);
    const t1 = m[off + 2]! | (m[off + 3]! << 8);
    const t2 = m[off + 4]! | (m[off + 5]! << 8);
    const t3 = m[off + 6]! | (m[off + 7]! << 8);
    const t4 = m[off + 8]! | (m[off + 9]! << 8);
    const t5 = m[off + 10]! | (m[off + 11]! << 8);
    const t6 = m[off + 12]! | (m[off + 13]! << 8);
    const t7 = m[off + 14]! | (m[off + 15]! << 8);
    h0 += t0 & 0x1fff;
    h1 += ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
    h2 += ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
    h3 += ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
    h4 += ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
    h5 += (t4 >>> 1) & 0x1fff;
    h6 += ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
    h7 += ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
    h8 += ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
    h9 += (t7 >>> 5) | (1 << 11);

    // h *= r mod 2^130 - 5, with a partial carry halfway through each limb so the 32-bit
    // shifts below never see a value of 2^32 or more.
    let c = 0;
    let d0 = c + h0 * r0 + h1 * s9 + h2 * s8 + h3 * s7 + h4 * s6;
    c = d0 >>> 13;
    d0 &= 0x1fff;
    d0 += h5 * s5 + h6 * s4 + h7 * s3 + h8 * s2 + h9 * s1;
    c += d0 >>> 13;
    d0 &= 0x1fff;
    let d1 = c + h0 * r1 + h1 * r0 + h2 * s9 + h3 * s8 + h4 * s7;
    c = d1 >>> 13;
    d1 &= 0x1fff;
    d1 += h5 * s6 + h6 * s5 + h7 * s4 + h8 * s3 + h9 * s2;
    c += d1 >>> 13;
    d1 &= 0x1fff;
    let d2 = c + h0 * r2 + h1 * r1 + h2 * r0 + h3 * s9 + h4 * s8;
    c = d2 >>> 13;
    d2 &= 0x1fff;
    d2 += h5 * s7 + h6 * s6 + h7 * s5 + h8 * s4 + h9 * s3;
    c += d2 >>> 13;
    d2 &= 0x1fff;
    let d3 = c + h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s9;
    c = d3 >>> 13;
    d3 &= 0x1fff;
    d3 += h5 * s8 + h6 * s7 + h7 * s6 + h8 * s5 + h9 * s4;
    c += d3 >>> 13;
    d3 &= 0x1fff;
    let d4 = c + h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
    c = d4 >>> 13;
    d4 &= 0x1fff;
    d4 += h5 * s9 + h6 * s8 + h7 * s7 + h8 * s6 + h9 * s5;
    c += d4 >>> 13;
    d4 &= 0x1fff;
    let d5 = c + h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1;
    c = d5 >>> 13;
    d5 &= 0x1fff;
    d5 += h5 * r0 + h6 * s9 + h7 * s8 + h8 * s7 + h9 * s6;
    c += d5 >>> 13;
    d5 &= 0x1fff;
    let d6 = c + h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2;
    c = d6 >>> 13;
    d6 &= 0x1fff;
    d6 += h5 * r1 + h6 * r0 + h7 * s9 + h8 * s8 + h9 * s7;
    c += d6 >>> 13;
    d6 &= 0x1fff;
    let d7 = c + h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3;
    c = d7 >>> 13;
    d7 &= 0x1fff;
    d7 += h5 * r2 + h6 * r1 + h7 * r0 + h8 * s9 + h9 * s8;
    c += d7 >>> 13;
    d7 &= 0x1fff;
    let d8 = c + h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4;
    c = d8 >>> 13;
    d8 &= 0x1fff;
    d8 += h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * s9;
    c += d8 >>> 13;
    d8 &= 0x1fff;
    let d9 = c + h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5;
    c = d9 >>> 13;
    d9 &= 0x1fff;
    d9 += h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
    c += d9 >>> 13;
    d9 &= 0x1fff;
    c = ((c << 2) + c) | 0;
    c = (c + d0) | 0;
    d0 = c & 0x1fff;
    c = c >>> 13;
    d1 += c;
    h0 = d0;
    h1 = d1;
    h2 = d2;
    h3 = d3;
    h4 = d4;
    h5 = d5;
    h6 = d6;
    h7 = d7;
    h8 = d8;
    h9 = d9;
  }
  H[0] = h0;
  H[1] = h1;
  H[2] = h2;
  H[3] = h3;
  H[4] = h4;
  H[5] = h5;
  H[6] = h6;
  H[7] = h7;
  H[8] = h8;
  H[9] = h9;
}

/** Absorbs `len` bytes of `m` at `off`, zero-padding the last partial block (RFC 8439 2.8). */
function polyPadded(m: Uint8Array, off: number, len: number): void {
  const full = len >>> 4;
  if (full > 0) polyBlocks(m, off, full);
  const rest = len & 15;
  if (rest > 0) {
    PAD.fill(0);
    PAD.set(m.subarray(off + (full << 4), off + len));
    polyBlocks(PAD, 0, 1);
  }
}

/** Absorbs the length block `le64(aadLen) || le64(ctLen)`. */
function polyLengths(aadLen: number, ctLen: number): void {
  PAD.fill(0);
  // Lengths here are far below 2^32 (messages are bounded by u32 framing).
  PAD[0] = aadLen & 0xff;
  PAD[1] = (aadLen >>> 8) & 0xff;
  PAD[2] = (aadLen >>> 16) & 0xff;
  PAD[3] = (aadLen >>> 24) & 0xff;
  PAD[8] = ctLen & 0xff;
  PAD[9] = (ctLen >>> 8) & 0xff;
  PAD[10] = (ctLen >>> 16) & 0xff;
  PAD[11] = (ctLen >>> 24) & 0xff;
  polyBlocks(PAD, 0, 1);
}

// Final tag as eight 16-bit words.
const TAG = new Uint16Array(8);
const G = new Uint16Array(10);
const HF = new Uint16Array(10);

/** Fully reduces h mod 2^130 - 5, adds s mod 2^128, and leaves the tag in TAG. */
function polyFinish(): void {
  const h = HF;
  for (let i = 0; i < 10; i++) h[i] = H[i]!;
  const g = G;
  let c = h[1]! >>> 13;
  h[1]! &= 0x1fff;
  for (let i = 2; i < 10; i++) {
    h[i]! += c;
    c = h[i]! >>> 13;
    h[i]! &= 0x1fff;
  }
  h[0]! += c * 5;
  c = h[0]! >>> 13;
  h[0]! &= 0x1fff;
  h[1]! += c;
  c = h[1]! >>> 13;
  h[1]! &= 0x1fff;
  h[2]! += c;
  // g = h + 5 - 2^130; select g when it did not underflow (h >= p), without branching.
  g[0] = h[0]! + 5;
  c = g[0] >>> 13;
  g[0] &= 0x1fff;
  for (let i = 1; i < 10; i++) {
    g[i] = h[i]! + c;
    c = g[i]! >>> 13;
    g[i]! &= 0x1fff;
  }
  g[9]! -= 1 << 13;
  let mask = (c ^ 1) - 1;
  for (let i = 0; i < 10; i++) g[i]! &= mask;
  mask = ~mask;
  for (let i = 0; i < 10; i++) h[i] = (h[i]! & mask) | g[i]!;
  // Repack into 16-bit words and add s.
  TAG[0] = (h[0]! | (h[1]! << 13)) & 0xffff;
  TAG[1] = ((h[1]! >>> 3) | (h[2]! << 10)) & 0xffff;
  TAG[2] = ((h[2]! >>> 6) | (h[3]! << 7)) & 0xffff;
  TAG[3] = ((h[3]! >>> 9) | (h[4]! << 4)) & 0xffff;
  TAG[4] = ((h[4]! >>> 12) | (h[5]! << 1) | (h[6]! << 14)) & 0xffff;
  TAG[5] = ((h[6]! >>> 2) | (h[7]! << 11)) & 0xffff;
  TAG[6] = ((h[7]! >>> 5) | (h[8]! << 8)) & 0xffff;
  TAG[7] = ((h[8]! >>> 8) | (h[9]! << 5)) & 0xffff;
  let f = TAG[0]! + S[0]!;
  TAG[0] = f & 0xffff;
  for (let i = 1; i < 8; i++) {
    f = (((TAG[i]! + S[i]!) | 0) + (f >>> 16)) | 0;
    TAG[i] = f & 0xffff;
  }
}

/** Runs block 0, computes the Poly1305 tag over `aad` and `ct[ctOff..ctOff+ctLen)` into TAG. */
function tagOf(
  k: Int32Array,
  n0: number,
  n1: number,
  n2: number,
  aad: Uint8Array,
  ct: Uint8Array,
  ctOff: number,
  ctLen: number,
): void {
  chachaBlock(k, 0, n0, n1, n2);
  polyInit();
  if (aad.length > 0) polyPadded(aad, 0, aad.length);
  polyPadded(ct, ctOff, ctLen);
  polyLengths(aad.length, ctLen);
  polyFinish();
}

// ---------- AEAD ----------

/**
 * Encrypts `pt` under key words `k` and nonce words `n0..n2` (the 12-byte nonce read as three
 * little-endian u32), writing `ct || tag` into `out` at `off`. `out` must not overlap `pt`
 * unless `out` starts at `pt`'s first byte.
 */
export function seal(
  k: Int32Array,
  n0: number,
  n1: number,
  n2: number,
  pt: Uint8Array,
  aad: Uint8Array,
  out: Uint8Array,
  off: number,
): void {
  const len = pt.length;
  xorStream(k, n0, n1, n2, pt, 0, len, out, off);
  tagOf(k, n0, n1, n2, aad, out, off, len);
  let t = off + len;
  for (let i = 0; i < 8; i++) {
    const w = TAG[i]!;
    out[t++] = w & 0xff;
    out[t++] = w >>> 8;
  }
}

/**
 * Verifies and decrypts `ctAndTag` (at least 16 bytes). Returns the plaintext, or `undefined`
 * when the tag does not match (nothing is decrypted in that case).
 */
export function open(
  k: Int32Array,
  n0: number,
  n1: number,
  n2: number,
  ctAndTag: Uint8Array,
  aad: Uint8Array,
): Uint8Array | undefined {
  const len = ctAndTag.length - 16;
  tagOf(k, n0, n1, n2, aad, ctAndTag, 0, len);
  // Constant-time comparison: accumulate differences, branch once.
  let diff = 0;
  for (let i = 0; i < 8; i++) {
    const w = TAG[i]!;
    diff |= (ctAndTag[len + 2 * i]! ^ (w & 0xff)) | (ctAndTag[len + 2 * i + 1]! ^ (w >>> 8));
  }
  if (diff !== 0) return undefined;
  const pt = new Uint8Array(len);
  xorStream(k, n0, n1, n2, ctAndTag, 0, len, pt, 0);
  return pt;
}
