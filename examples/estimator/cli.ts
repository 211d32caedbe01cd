/**
 * The estimator's command line, parsed and checked apart from running it (so the parsing is
 * unit-tested): `--distribution`, `--scenario`, `--latency`, `--seed`, `--success-rate`,
 * `--timeout`.
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type PlacedPeer, parseDistribution, place } from './distribution.js';
import { type LatencyTable, loadLatency } from './latency.js';
import { parseScenario, type Scenario } from './scenario.js';

export const USAGE = `usage: npm run estimate -- --distribution REGION:COUNT[:BW],... --scenario FILE
                        [--latency DIR] [--seed N] [--success-rate P] [--timeout MS]

  --distribution  peers per region, e.g. us-east-1:10,eu-west-1:5; an optional third field
                  limits each peer of the region to BW bytes/s both ways, or EGRESS/INGRESS
  --scenario      the scenario file (examples/estimator/README.md describes the language)
  --latency       a directory with p50.json and p90.json (default: the estimator's own table,
                  examples/estimator/latency, 7 AWS regions)
  --seed          seed of the first run (run r uses seed + r; default 1)
  --success-rate  probability that a message is delivered on each link (default 1)
  --timeout       virtual ms a run may take before unfinished waits count as timeouts
                  (default 60000)`;

/** The estimator's own latency table (examples/estimator/latency), found from this file. */
export function defaultLatencyDir(): string {
  // Compiled to build/examples/estimator/: the JSON files stay in the source tree.
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', '..', '..', 'examples', 'estimator', 'latency');
}

/** A checked command line. */
export interface Invocation {
  readonly peers: readonly PlacedPeer[];
  readonly table: LatencyTable;
  readonly scenario: Scenario;
  readonly scenarioPath: string;
  readonly latencyDir: string;
  readonly seed: number;
  readonly successRate: number;
  readonly timeoutMs: number;
}

/** A usage error: print it with {@link USAGE} and exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function number(name: string, s: string | undefined, fallback: number, ok: (v: number) => boolean) {
  if (s === undefined) return fallback;
  const v = Number(s);
  if (s.trim() === '' || !ok(v)) throw new UsageError(`--${name} ${JSON.stringify(s)} is invalid`);
  return v;
}

/**
 * Parses `argv` (without the node and script paths), reads the scenario and the latency table.
 *
 * @returns `undefined` for `--help`.
 * @throws UsageError for anything wrong, with a message naming it.
 */
export function parseCommandLine(argv: readonly string[]): Invocation | undefined {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        distribution: { type: 'string' },
        scenario: { type: 'string' },
        latency: { type: 'string' },
        seed: { type: 'string' },
        'success-rate': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) return undefined;
  const distribution = values.distribution as string | undefined;
  const scenarioPath = values.scenario as string | undefined;
  if (distribution === undefined) throw new UsageError('--distribution is required');
  if (scenarioPath === undefined) throw new UsageError('--scenario is required');
  const latencyDir = (values.latency as string | undefined) ?? defaultLatencyDir();
  const seed = number('seed', values.seed as string | undefined, 1, Number.isSafeInteger);
  const successRate = number(
    'success-rate',
    values['success-rate'] as string | undefined,
    1,
    (v) => v >= 0 && v <= 1,
  );
  const timeoutMs = number(
    'timeout',
    values.timeout as string | undefined,
    60_000,
    (v) => Number.isSafeInteger(v) && v > 0,
  );
  try {
    const table = loadLatency(latencyDir);
    const peers = place(parseDistribution(distribution), table);
    const scenario = parseScenario(readFileSync(scenarioPath, 'utf8'));
    return { peers, table, scenario, scenarioPath, latencyDir, seed, successRate, timeoutMs };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
