/**
 * `npm run estimate -- --distribution us-east-1:10,eu-west-1:5 --scenario FILE`: estimates how
 * long each line of a protocol scenario takes for peers placed in AWS regions, by running it on
 * the simulated network (`authp2p/simulated`) once per proposer and printing, per line, the
 * mean, median and standard deviation of the completion time per region and overall. README.md
 * in this folder describes the options and the scenario language.
 */

import { Network } from '../../src/p2p/simulated/index.js';
import { parseCommandLine, USAGE, UsageError } from './cli.js';
import { aggregate, format } from './report.js';
import { estimate, type SimulatedApi } from './simulate.js';

const create: SimulatedApi = (ctx, config) => Network.create(ctx, config);

async function main(): Promise<number> {
  let invocation: ReturnType<typeof parseCommandLine>;
  try {
    invocation = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`estimate: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (invocation === undefined) {
    console.log(USAGE);
    return 0;
  }
  const { peers, table, scenario, scenarioPath, latencyDir, seed } = invocation;
  const regions = [...new Set(peers.map((p) => p.region))];
  console.log(
    `${scenarioPath}: ${peers.length} peers in ${regions.join(', ')}; ${peers.length} runs ` +
      `(one per proposer), seeds ${seed}..${seed + peers.length - 1}; latency from ${latencyDir}`,
  );
  console.log('completion time of each line since the start of a run, ms:\n');
  const result = await estimate(create, peers, table, scenario, seed, {
    successRate: invocation.successRate,
    timeoutMs: invocation.timeoutMs,
  });
  console.log(format(aggregate(scenario, peers, result.runs)));
  return 0;
}

process.exitCode = await main();
