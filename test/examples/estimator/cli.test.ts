import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommandLine, UsageError } from '../../../examples/estimator/cli.js';

const SCENARIO = 'examples/estimator/scenarios/echo.scenario';

test('the command line: defaults, the shipped table, and usage errors', () => {
  assert.equal(parseCommandLine(['--help']), undefined);
  const inv = parseCommandLine([
    '--distribution',
    'us-east-1:2,eu-west-1:1',
    '--scenario',
    SCENARIO,
  ])!;
  assert.deepEqual(
    inv.peers.map((p) => p.region),
    ['us-east-1', 'us-east-1', 'eu-west-1'],
  );
  assert.deepEqual([inv.seed, inv.successRate, inv.timeoutMs], [1, 1, 60_000]);
  assert.equal(inv.table.regions.length, 7);
  const errors: [string[], RegExp][] = [
    [['--scenario', SCENARIO], /--distribution is required/],
    [['--distribution', 'us-east-1:2'], /--scenario is required/],
    [['--distribution', 'mars-1:2', '--scenario', SCENARIO], /region mars-1 is not in/],
    [['--distribution', 'us-east-1:2', '--scenario', 'nope.scenario'], /ENOENT/],
    [['--distribution', 'us-east-1:2', '--scenario', SCENARIO, '--seed', 'x'], /--seed "x"/],
    [
      ['--distribution', 'us-east-1:2', '--scenario', SCENARIO, '--success-rate', '2'],
      /--success-rate "2"/,
    ],
    [['--distribution', 'us-east-1:2', '--scenario', SCENARIO, '--bogus'], /bogus/],
  ];
  for (const [argv, message] of errors) {
    assert.throws(
      () => parseCommandLine(argv),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      argv.join(' '),
    );
  }
});
