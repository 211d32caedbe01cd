/**
 * A small, strict command-line parser: `--flag`, `--option VALUE` (or `--option=VALUE`) and
 * positional arguments. Unknown flags and missing values are usage errors, so a typo never
 * silently falls back to a default.
 *
 * @module
 */

import { CliError } from './errors.js';

/** How a command's flags are spelled: a boolean switch, or an option taking a value. */
export type FlagSpec = Readonly<Record<string, 'boolean' | 'string'>>;

/** A parsed command line. */
export interface Parsed {
  /** Boolean switches that were given. */
  readonly switches: ReadonlySet<string>;
  /** Options with their values (the last one wins). */
  readonly options: ReadonlyMap<string, string>;
  /** The positional arguments, in order. */
  readonly positionals: readonly string[];
}

/**
 * Parses `argv` against `spec` (names without the leading `--`; `help` is always accepted).
 *
 * @throws CliError `Usage` for an unknown flag, a missing option value, or a value given to a
 *   switch.
 */
export function parseArgs(command: string, argv: readonly string[], spec: FlagSpec): Parsed {
  const switches = new Set<string>();
  const options = new Map<string, string>();
  const positionals: string[] = [];
  const all: FlagSpec = { help: 'boolean', ...spec };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      switches.add('help');
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = all[name];
    if (kind === undefined) throw new CliError('Usage', `${command}: unknown option --${name}`);
    if (kind === 'boolean') {
      if (eq >= 0) throw new CliError('Usage', `${command}: --${name} takes no value`);
      switches.add(name);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) {
      throw new CliError('Usage', `${command}: --${name} needs a value`);
    }
    options.set(name, value);
  }
  return { switches, options, positionals };
}

/**
 * The single positional argument `what` of `command`.
 *
 * @throws CliError `Usage` if there is none or more than one.
 */
export function onePositional(command: string, parsed: Parsed, what: string): string {
  if (parsed.positionals.length !== 1) {
    throw new CliError('Usage', `${command}: expected one ${what} (see authp2p ${command} --help)`);
  }
  return parsed.positionals[0]!;
}

/**
 * A positive integer option (milliseconds, counts), or `fallback` when absent.
 *
 * @throws CliError `Usage` if the value is not a positive safe integer.
 */
export function positiveInt(
  command: string,
  parsed: Parsed,
  name: string,
  fallback: number,
): number {
  const text = parsed.options.get(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new CliError('Usage', `${command}: --${name} must be a positive integer, got ${text}`);
  }
  return n;
}
