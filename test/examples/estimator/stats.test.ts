import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarize } from '../../../examples/estimator/stats.js';

test('summarize: mean, median (odd and even counts) and population std-dev', () => {
  assert.deepEqual(summarize([5]), { n: 1, mean: 5, median: 5, std: 0 });
  assert.deepEqual(summarize([3, 1, 2]), { n: 3, mean: 2, median: 2, std: Math.sqrt(2 / 3) });
  const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.deepEqual(s, { n: 8, mean: 5, median: 4.5, std: 2 });
  assert.throws(() => summarize([]), RangeError);
  assert.throws(() => summarize([1, Number.NaN]), RangeError);
});
