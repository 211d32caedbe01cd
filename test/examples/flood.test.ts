import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Child, within } from '../helpers/child.js';

const FLOOD = join(dirname(fileURLToPath(import.meta.url)), '../../examples/flood/main.js');

describe('examples/flood (the load generator)', { timeout: 60_000 }, () => {
  const children: Child[] = [];
  after(() => {
    for (const c of children) c.kill();
  });

  it('floods 3 nodes with 100 messages and reports what it delivered', async () => {
    const args = ['--nodes', '3', '--size', '256', '--rate', '1000', '--count', '100'];
    const flood = new Child(FLOOD, [...args, '--seconds', '10']);
    children.push(flood);
    assert.deepEqual(await within(flood.exited, 30_000, 'exit of the flood'), {
      code: 0,
      signal: null,
    });
    const line = flood.lines.find((l) => l.startsWith('report '));
    assert.ok(line !== undefined, flood.lines.join('\n'));
    const report = JSON.parse(line.slice('report '.length)) as {
      nodes: number;
      sent: number;
      refused: number;
      delivered: number;
      deliveredPerSecond: number;
      latencyMs: { p50: number; p90: number; p99: number; max: number };
    };
    assert.equal(report.nodes, 3);
    assert.equal(report.sent + report.refused, 100, 'bounded by --count');
    assert.ok(report.delivered > 0 && report.delivered <= report.sent, line);
    assert.ok(report.deliveredPerSecond > 0, line);
    const { p50, p90, p99, max } = report.latencyMs;
    assert.ok(0 <= p50 && p50 <= p90 && p90 <= p99 && p99 <= max, line);
  });
});
