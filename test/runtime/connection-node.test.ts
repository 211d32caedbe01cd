import { nodeRuntime } from '../../src/runtime/index.js';
import { connectionSuite } from './connection-suite.js';

const MAX = 1024 * 1024;

// The receive bound plus two 64 KiB socket reads that may land after the pause.
connectionSuite(
  'TCP on 127.0.0.1',
  (fn) => nodeRuntime({ maxReadBufferBytes: MAX }).run(fn),
  MAX + 3 * 64 * 1024,
);
