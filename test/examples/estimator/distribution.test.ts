import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDistribution, place } from '../../../examples/estimator/distribution.js';
import { latencyTable } from '../../../examples/estimator/latency.js';

describe('estimator region placement', () => {
  test('parses counts and optional bandwidth (both ways, or egress/ingress)', () => {
    assert.deepEqual(parseDistribution('us-east-1:2, eu-west-1:1:1000,ap-northeast-1:1:500/800'), [
      { region: 'us-east-1', count: 2, egress: null, ingress: null },
      { region: 'eu-west-1', count: 1, egress: 1000, ingress: 1000 },
      { region: 'ap-northeast-1', count: 1, egress: 500, ingress: 800 },
    ]);
  });

  test('rejects malformed entries', () => {
    for (const bad of [
      'us-east-1',
      ':3',
      'us-east-1:0',
      'us-east-1:x',
      'us-east-1:1',
      'a:1,a:1',
      'a:1:0,b:1',
      'a:1:1/2/3,b:1',
      'a:1:1.5,b:1',
      'a:1:2:3',
      'a:201',
    ]) {
      assert.throws(() => parseDistribution(bad), RangeError, bad);
    }
  });

  test('places peers region by region with consecutive indices', () => {
    const peers = place(parseDistribution('b:2,a:1:100'));
    assert.deepEqual(peers, [
      { index: 0, region: 'b', egress: null, ingress: null },
      { index: 1, region: 'b', egress: null, ingress: null },
      { index: 2, region: 'a', egress: 100, ingress: 100 },
    ]);
  });

  test('a region missing from the latency table is refused, naming the known ones', () => {
    const table = latencyTable({ data: { a: { a: 1 } } }, { data: { a: { a: 1 } } });
    assert.throws(() => place(parseDistribution('a:1,z:1'), table), /region z .*it has: a/);
  });
});
