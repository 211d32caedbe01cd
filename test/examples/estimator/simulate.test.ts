/**
 * The estimator end to end on the simulated network: 6 peers in 2 regions, each scenario run
 * once per proposer, checked for determinism and against the latency table.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { defaultLatencyDir } from '../../../examples/estimator/cli.js';
import { parseDistribution, place } from '../../../examples/estimator/distribution.js';
import { loadLatency } from '../../../examples/estimator/latency.js';
import { aggregate } from '../../../examples/estimator/report.js';
import { parseScenario } from '../../../examples/estimator/scenario.js';
import { estimate, type SimulatedApi } from '../../../examples/estimator/simulate.js';
import { Network } from '../../../src/p2p/simulated/index.js';

const create: SimulatedApi = (ctx, config) => Network.create(ctx, config);
const table = loadLatency(defaultLatencyDir());
const scenario = (name: string) =>
  parseScenario(readFileSync(`examples/estimator/scenarios/${name}.scenario`, 'utf8'));
const DISTRIBUTION = 'us-east-1:4,eu-west-1:2';

describe('estimator on the simulated network', () => {
  test('echo: same seed same runs; a block arrives after its link latency', async () => {
    const peers = place(parseDistribution(DISTRIBUTION), table);
    const echo = scenario('echo');
    const a = await estimate(create, peers, table, echo, 1);
    const b = await estimate(create, peers, table, echo, 1);
    assert.deepEqual(b, a, 'same seed, same digests and samples');
    const c = await estimate(create, peers, table, echo, 100);
    assert.notDeepEqual(c.digests, a.digests);
    assert.equal(a.runs.length, 6);
    const waitBlock = echo.commands.findIndex((cmd) => cmd.text === 'wait block 1');
    for (let proposer = 0; proposer < 6; proposer++) {
      for (let p = 0; p < 6; p++) {
        const s = a.runs[proposer]![waitBlock]![p]!;
        if (p === proposer) {
          assert.equal(s, 0, 'the proposer holds its own block');
          continue;
        }
        const link = table.link(peers[proposer]!.region, peers[p]!.region);
        // Normal(latency, jitter) samples: within 5 standard deviations (and 1 ms of rounding).
        const lo = Math.max(0, link.latency - 5 * link.jitter - 1);
        assert.ok(s >= lo && s <= link.latency + 5 * link.jitter + 1, `${proposer}->${p}: ${s}`);
      }
    }
    const reports = aggregate(echo, peers, a.runs);
    assert.ok(reports.every((r) => r.timeouts === 0));
    const waitEcho = reports.find((r) => r.text === 'wait echo 67%')!;
    assert.equal(waitEcho.overall!.n, 36);
    assert.deepEqual(
      waitEcho.regions.map((r) => [r.region, r.summary.n]),
      [
        ['us-east-1', 24],
        ['eu-west-1', 12],
      ],
    );
    // 67% of 6 is 5 copies: every peer needs an echo from the other region.
    assert.ok(waitEcho.overall!.median > table.link('us-east-1', 'eu-west-1').latency);
  });

  test('vote: collect applies to the proposer only; a bandwidth limit slows the block', async () => {
    const vote = scenario('vote');
    const free = place(parseDistribution(DISTRIBUTION), table);
    const slow = place(parseDistribution('us-east-1:4:20000,eu-west-1:2'), table);
    const fast = aggregate(vote, free, (await estimate(create, free, table, vote, 3)).runs);
    const limited = aggregate(vote, slow, (await estimate(create, slow, table, vote, 3)).runs);
    const collect = fast.find((r) => r.text === 'collect ack 67%')!;
    assert.equal(collect.overall!.n, 6, 'one sample per run, from its proposer');
    const block = (r: typeof fast) => r.find((l) => l.text === 'wait block 1')!.overall!.mean;
    // A 4 KiB block to 5 peers at 20 kB/s takes about a second to leave a us-east-1 proposer.
    assert.ok(block(limited) > block(fast) + 100, `${block(limited)} vs ${block(fast)}`);
    assert.ok(limited.every((r) => r.timeouts === 0));
  });

  test('a link that delivers nothing makes every wait time out', async () => {
    const peers = place(parseDistribution('us-east-1:2,eu-west-1:1'), table);
    const echo = scenario('echo');
    const { runs } = await estimate(create, peers, table, echo, 1, {
      successRate: 0,
      timeoutMs: 1000,
    });
    const reports = aggregate(echo, peers, runs);
    const waitBlock = reports.find((r) => r.text === 'wait block 1')!;
    // Each run: the proposer holds its block, the 2 others time out.
    assert.equal(waitBlock.timeouts, 6);
    assert.equal(waitBlock.overall!.n, 3);
    assert.equal(reports.find((r) => r.text === 'wait echo 67%')!.timeouts, 9);
  });

  test('npm run estimate prints a table per scenario line, and nothing on stderr', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['build/examples/estimator/main.js', ...args], {
        encoding: 'utf8',
        timeout: 60_000,
      });
    const ok = run([
      '--distribution',
      'us-east-1:8,eu-west-1:4',
      '--scenario',
      'examples/estimator/scenarios/echo.scenario',
    ]);
    assert.equal(ok.status, 0);
    assert.equal(ok.stderr, '', 'no warning (12 peers wait at once)');
    assert.match(ok.stdout, /12 peers in us-east-1, eu-west-1; 12 runs/);
    for (const line of ['propose block size=1024', 'wait block 1', 'wait echo 67%']) {
      assert.match(ok.stdout, new RegExp(`line \\d+: ${line}`));
    }
    assert.match(ok.stdout, /^ {2}overall +12 /m);
    const usage = run([]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--distribution is required/);
  });
});
