/**
 * Command-line helpers the examples share.
 *
 * @module
 */

/**
 * `--name`'s value as an integer in `[min, max]`; otherwise prints the usage error and exits
 * with status 2 (a usage error).
 */
export function intOption(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer in [${min}, ${max}], got ${v}`);
    process.exit(2);
  }
  return n;
}
