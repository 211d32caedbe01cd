import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { defaultLatencyDir } from '../../../examples/estimator/cli.js';
import { LatencyError, latencyTable, loadLatency } from '../../../examples/estimator/latency.js';

describe('estimator latency tables', () => {
  test('latency = p50 / 2 and jitter = (p90 - p50) / 2, per direction', () => {
    const t = latencyTable(
      { data: { a: { a: 2, b: 100 }, b: { a: 110, b: 4 } } },
      { data: { a: { a: 3, b: 140 }, b: { a: 120, b: 4 } } },
    );
    assert.deepEqual(t.regions, ['a', 'b']);
    assert.deepEqual(t.link('a', 'b'), { latency: 50, jitter: 20 });
    assert.deepEqual(t.link('b', 'a'), { latency: 55, jitter: 5 });
    assert.deepEqual(t.link('b', 'b'), { latency: 2, jitter: 0 });
    assert.throws(() => t.link('a', 'c'), LatencyError);
  });

  test('a p90 below p50 gives zero jitter; malformed documents are refused', () => {
    const t = latencyTable({ data: { a: { b: 10 } } }, { data: { a: { b: 8 } } });
    assert.deepEqual(t.link('a', 'b'), { latency: 5, jitter: 0 });
    for (const bad of [null, {}, { data: 3 }, { data: { a: 1 } }, { data: { a: { b: -1 } } }]) {
      assert.throws(() => latencyTable(bad, { data: {} }), LatencyError, JSON.stringify(bad));
    }
  });

  test('loads a directory, and says which file is missing or broken', () => {
    const dir = mkdtempSync(join(tmpdir(), 'estimator-'));
    try {
      assert.throws(() => loadLatency(dir), /cannot read .*p50\.json/);
      writeFileSync(join(dir, 'p50.json'), '{"data":{"x":{"x":1}}}');
      writeFileSync(join(dir, 'p90.json'), '{not json');
      assert.throws(() => loadLatency(dir), /p90\.json is not JSON/);
      writeFileSync(join(dir, 'p90.json'), '{"data":{"x":{"x":3}}}');
      assert.deepEqual(loadLatency(dir).link('x', 'x'), { latency: 0.5, jitter: 1 });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('the shipped table is complete for its 7 regions and states its source', () => {
    const t = loadLatency(defaultLatencyDir());
    assert.equal(t.regions.length, 7);
    for (const a of t.regions) {
      for (const b of t.regions) {
        const l = t.link(a, b);
        assert.ok(l.latency > 0 && l.jitter >= 0, `${a} -> ${b}`);
      }
    }
    // us-east-1 to eu-west-1 is a transatlantic link: tens of ms one way.
    const l = t.link('us-east-1', 'eu-west-1');
    assert.ok(l.latency > 20 && l.latency < 60, String(l.latency));
  });
});
