import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * `process.memoryUsage()` after a full garbage collection, so memory assertions compare live
 * memory rather than garbage that happens to await collection. Exposes `gc` at run time (the
 * test runner starts files without `--expose-gc`).
 */
export function memoryAfterGc(): NodeJS.MemoryUsage {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  return process.memoryUsage();
}
