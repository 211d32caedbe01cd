import { deterministicRuntime } from '../../src/runtime/index.js';
import { connectionSuite } from './connection-suite.js';

const BUFFER = 1024 * 1024;

connectionSuite(
  'in-memory network',
  async (fn) => (await deterministicRuntime({ seed: 3, bufferBytes: BUFFER }).run(fn)).result,
  BUFFER,
);

connectionSuite(
  'in-memory network with a 5 ms link delay',
  async (fn) =>
    (await deterministicRuntime({ seed: 4, bufferBytes: BUFFER, linkDelayMs: 5 }).run(fn)).result,
  BUFFER,
);
