import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  DEFAULT_SIZE,
  parseScenario,
  required,
  ScenarioError,
} from '../../../examples/estimator/scenario.js';

describe('estimator scenario language', () => {
  test('parses every command, sizes, thresholds, comments and blank lines', () => {
    const s = parseScenario(
      [
        '# a comment',
        'propose block size=1024',
        '',
        'wait block 1   # trailing comment',
        'broadcast vote',
        'wait vote 67%',
        'reply ack size=0',
        'collect ack 3',
      ].join('\n'),
    );
    assert.deepEqual(s.ids, ['block', 'vote', 'ack']);
    assert.deepEqual(
      s.commands.map((c) => [c.line, c.op, c.id, 'size' in c ? c.size : c.threshold]),
      [
        [2, 'propose', 'block', 1024],
        [4, 'wait', 'block', { kind: 'count', value: 1 }],
        [5, 'broadcast', 'vote', DEFAULT_SIZE],
        [6, 'wait', 'vote', { kind: 'percent', value: 67 }],
        [7, 'reply', 'ack', 0],
        [8, 'collect', 'ack', { kind: 'count', value: 3 }],
      ],
    );
    assert.equal(s.commands[1]!.text, 'wait block 1');
  });

  test('rejects bad lines with the line number', () => {
    const cases: [string, RegExp][] = [
      ['', /no command/],
      ['propose', /line 1: propose needs a message id/],
      ['send x', /line 1: unknown command "send"/],
      ['propose 9x', /needs a message id/],
      ['propose a size=-1', /unexpected argument "size=-1"/],
      ['propose a big', /unexpected argument "big"/],
      [`propose a size=${2 ** 21}`, /exceeds/],
      ['propose a\nwait a', /line 2: wait takes <id> <threshold>/],
      ['propose a\nwait a 0', /line 2: threshold "0"/],
      ['propose a\nwait a 101%', /line 2: threshold 101% must be in/],
      ['propose a\nwait a 1.5', /line 2: threshold "1.5"/],
      ['propose a\ncollect b 1', /line 2: collect b: no earlier line sends b/],
    ];
    for (const [source, message] of cases) {
      assert.throws(
        () => parseScenario(source),
        (e: unknown) => e instanceof ScenarioError && message.test(e.message),
        JSON.stringify(source),
      );
    }
  });

  test('thresholds resolve against the number of peers, percentages rounded up', () => {
    assert.equal(required({ kind: 'percent', value: 67 }, 10), 7);
    assert.equal(required({ kind: 'percent', value: 70 }, 10), 7); // not 8 by float error
    assert.equal(required({ kind: 'percent', value: 67 }, 15), 11);
    assert.equal(required({ kind: 'percent', value: 100 }, 6), 6);
    assert.equal(required({ kind: 'percent', value: 1 }, 6), 1);
    assert.equal(required({ kind: 'count', value: 4 }, 6), 4);
    assert.throws(() => required({ kind: 'count', value: 7 }, 6), RangeError);
  });

  test('the shipped scenarios parse', () => {
    for (const name of ['echo', 'vote']) {
      const s = parseScenario(
        readFileSync(`examples/estimator/scenarios/${name}.scenario`, 'utf8'),
      );
      assert.ok(s.commands.some((c) => c.op === 'wait'));
    }
  });
});
