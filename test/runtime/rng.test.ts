import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deterministicRuntime, nodeRuntime, type Rng } from '../../src/runtime/index.js';

function checkRng(rng: Rng): void {
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const x = rng.int(-5, 5);
    assert.ok(x >= -5 && x < 5 && Number.isInteger(x));
    counts[x + 5]!++;
  }
  // Each bucket expects 10 000; 5 standard deviations is about 475.
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `skewed bucket ${c}`);
  const big = rng.int(0, 2 ** 53 - 1);
  assert.ok(big >= 0 && big < 2 ** 53);
  for (let i = 0; i < 1000; i++) {
    const f = rng.float();
    assert.ok(f >= 0 && f < 1);
  }
  assert.ok(rng.u64() < 1n << 64n);
  assert.equal(rng.bytes(10_000).length, 10_000);
  const buf = new Uint8Array(5000);
  assert.equal(rng.fill(buf), buf);
  assert.ok(buf.some((b) => b !== 0));
  assert.deepEqual(rng.shuffle([1, 2, 3, 4, 5]).sort(), [1, 2, 3, 4, 5]);
  assert.throws(() => rng.int(3, 3), RangeError);
  assert.throws(() => rng.int(0, 2 ** 60), RangeError);
  assert.throws(() => rng.int(0.5, 2), RangeError);
}

test('the deterministic rng draws uniformly within bounds', async () => {
  await deterministicRuntime({ seed: 5 }).run(async (ctx) => checkRng(ctx.rng));
});

test('the node rng draws uniformly within bounds', () =>
  nodeRuntime().run(async (ctx) => checkRng(ctx.rng)));
