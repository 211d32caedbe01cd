/**
 * Crypto micro-benchmarks: AEAD seal+open throughput through `Cipher` on the default backend
 * (sodium-native when installed, else node:crypto with the portable code for short messages),
 * through each implementation alone for comparison (OpenSSL, libsodium, portable), ed25519
 * sign/verify on each signature backend, public-key decoding, and X25519 exchanges. Prints the
 * backend, a table and one JSON line (`BENCH_JSON {...}`).
 *
 * Run: `npm run bench:crypto` (or compile with tsconfig.test.json and run build/bench/crypto.js).
 * `AUTHP2P_CRYPTO_BACKEND=node` measures the node:crypto backend even when sodium-native is
 * installed.
 */

import {
  AeadKey,
  availableAeadImpls,
  availableSignatureImpls,
  cryptoBackend,
  ed25519FromSeed,
  ed25519PublicKeyObject,
  ed25519Sign,
  ed25519Verify,
  openOpenSsl,
  openPortable,
  openSodium,
  sealOpenSsl,
  sealPortable,
  sealSodium,
} from '../src/crypto/backend.js';
import { Cipher, ed25519, x25519 } from '../src/crypto/index.js';
import { unionUnique } from '../src/crypto/namespace.js';

const TARGET_MS = Number(process.env.BENCH_MS ?? 1000);

interface Result {
  name: string;
  opsPerSec: number;
  mbPerSec?: number;
  usPerOp: number;
}

/** Runs `fn` in batches until TARGET_MS elapsed (after a short warm-up); returns ops/s. */
function measure(fn: () => void, batch = 100): number {
  const warmEnd = performance.now() + TARGET_MS / 5;
  while (performance.now() < warmEnd) for (let i = 0; i < batch; i++) fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < TARGET_MS) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

const results: Result[] = [];

function record(name: string, opsPerSec: number, bytesPerOp?: number): void {
  const r: Result = { name, opsPerSec, usPerOp: 1e6 / opsPerSec };
  if (bytesPerOp !== undefined) r.mbPerSec = (opsPerSec * bytesPerOp) / 1e6;
  results.push(r);
}

const key = new Uint8Array(32).map((_, i) => i);

for (const size of [32, 1024, 65536]) {
  const pt = new Uint8Array(size).map((_, i) => i & 0xff);
  const batch = size >= 65536 ? 4 : 100;

  // Through Cipher (what the stream uses): one seal + one open per op.
  const tx = new Cipher(key);
  const rx = new Cipher(key);
  record(
    `seal+open ${size} B (Cipher)`,
    measure(() => void rx.open(tx.seal(pt)), batch),
    size,
  );

  // sealInto a shared buffer (the stream's batching path) + open.
  const tx2 = new Cipher(key);
  const rx2 = new Cipher(key);
  const buf = new Uint8Array(size + 16);
  record(
    `sealInto+open ${size} B (Cipher)`,
    measure(() => {
      tx2.sealInto(pt, buf, 0);
      rx2.open(buf);
    }, batch),
    size,
  );

  // Each implementation alone, fresh nonce per op, for comparison (the portable code only where
  // it is meant to run: 64 KiB would take seconds per row).
  const impls = [
    { name: 'OpenSSL', seal: sealOpenSsl, open: openOpenSsl, impl: 'node' as const },
    ...(availableAeadImpls().includes('sodium-native')
      ? [{ name: 'libsodium', seal: sealSodium, open: openSodium, impl: 'sodium-native' as const }]
      : []),
    ...(size <= 1024
      ? [{ name: 'portable', seal: sealPortable, open: openPortable, impl: 'portable' as const }]
      : []),
  ];
  for (const { name, seal, open, impl } of impls) {
    const k = new AeadKey(key, impl);
    const out = Buffer.allocUnsafeSlow(size + 16);
    const empty = new Uint8Array(0);
    let n = 0;
    record(
      `seal+open ${size} B (${name} only)`,
      measure(() => {
        n++;
        seal(k, n, 0, 0, empty, pt, out, 0);
        open(k, n, 0, 0, empty, out);
      }, batch),
      size,
    );
  }
}

{
  const sk = ed25519.PrivateKey.fromSeed(1n);
  const ns = new TextEncoder().encode('bench_STREAM');
  const msg = new Uint8Array(32).fill(7);
  const sig = sk.sign(ns, msg);
  record(
    'ed25519 sign (namespaced, 32 B)',
    measure(() => void sk.sign(ns, msg)),
  );
  record(
    'ed25519 verify (namespaced, 32 B)',
    measure(() => void sk.publicKey.verify(ns, msg, sig)),
  );
  // Each signature backend alone (same signed bytes as above).
  const signed = unionUnique(ns, msg);
  const secret = sk.toBytes();
  for (const impl of availableSignatureImpls()) {
    const pair = ed25519FromSeed(secret, impl);
    const pub = ed25519PublicKeyObject(pair.publicKey, impl);
    record(
      `ed25519 sign (${impl} only)`,
      measure(() => void ed25519Sign(pair.privateKey, signed)),
    );
    record(
      `ed25519 verify (${impl} only)`,
      measure(() => void ed25519Verify(pub, signed, sig)),
    );
  }
  // Decoding fresh keys (point validation, uncached) and verifying with a fresh key object.
  const fresh = Array.from({ length: 256 }, (_, i) =>
    ed25519.PrivateKey.fromSeed(BigInt(1000 + i)),
  );
  const freshBytes = fresh.map((k) => k.publicKey.toBytes());
  const freshSigs = fresh.map((k) => k.sign(ns, msg));
  let j = 0;
  record(
    'ed25519 decode+verify (new key each op)',
    measure(() => {
      const i = j++ & 255;
      const pk = ed25519.PublicKey.fromBytes(freshBytes[i]!);
      pk.verify(ns, msg, freshSigs[i]!);
    }, 10),
  );
  let seed = 5000n;
  record(
    'ed25519 fromSeed (keygen)',
    measure(() => void ed25519.PrivateKey.fromSeed(seed++), 10),
  );
}

{
  const peer = x25519.EphemeralSecret.generate().publicKey;
  record(
    'x25519 generate+exchange',
    measure(() => void x25519.EphemeralSecret.generate().exchange(peer), 10),
  );
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (x: number, d = 0) =>
  x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(
  `authp2p crypto bench (node ${process.version}, crypto backend ${cryptoBackend()}, ${TARGET_MS} ms per row)\n`,
);
console.log(
  `${pad('operation', 42)}${'ops/s'.padStart(14)}${'us/op'.padStart(10)}${'MB/s'.padStart(10)}`,
);
for (const r of results) {
  console.log(
    `${pad(r.name, 42)}${num(r.opsPerSec).padStart(14)}${num(r.usPerOp, 2).padStart(10)}${(r.mbPerSec === undefined ? '-' : num(r.mbPerSec, 1)).padStart(10)}`,
  );
}
console.log(
  `\nBENCH_JSON ${JSON.stringify({
    bench: 'crypto',
    node: process.version,
    backend: cryptoBackend(),
    results: results.map((r) => ({
      name: r.name,
      opsPerSec: Math.round(r.opsPerSec),
      usPerOp: Number(r.usPerOp.toFixed(3)),
      ...(r.mbPerSec === undefined ? {} : { mbPerSec: Number(r.mbPerSec.toFixed(1)) }),
    })),
  })}`,
);
