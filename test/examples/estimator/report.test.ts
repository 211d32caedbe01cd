import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDistribution, place } from '../../../examples/estimator/distribution.js';
import { aggregate, format } from '../../../examples/estimator/report.js';
import { parseScenario } from '../../../examples/estimator/scenario.js';

test('aggregate groups samples by line and region, skipping non-applicable and timeouts', () => {
  const scenario = parseScenario('propose m\nwait m 1');
  const peers = place(parseDistribution('x:2,y:1'));
  // Two runs; line 0 applies to the proposer only; a null is a timeout.
  const runs = [
    [
      [0, undefined, undefined],
      [0, 10, 30],
    ],
    [
      [undefined, 0, undefined],
      [20, 0, null],
    ],
  ];
  const [propose, wait] = aggregate(scenario, peers, runs);
  assert.deepEqual(propose!.regions, [
    { region: 'x', summary: { n: 2, mean: 0, median: 0, std: 0 } },
  ]);
  assert.equal(propose!.timeouts, 0);
  assert.deepEqual(
    wait!.regions.map((r) => [r.region, r.summary.n, r.summary.mean, r.summary.median]),
    [
      ['x', 4, 7.5, 5],
      ['y', 1, 30, 30],
    ],
  );
  assert.equal(wait!.overall!.n, 5);
  assert.equal(wait!.timeouts, 1);
  const text = format([propose!, wait!]);
  assert.match(text, /^line 1: propose m$/m);
  assert.match(text, /^line 2: wait m 1 {2}\(1 timed out\)$/m);
  assert.match(text, /^ {2}y +1 +30\.0 +30\.0 +0\.0$/m);
  assert.match(text, /^ {2}overall +5 +12\.0 +10\.0/m);
});
