/**
 * The estimator's scenario language: one command per line, `#` starts a comment, blank lines
 * are ignored. Every peer runs the commands in order; sends never wait, `wait` and `collect`
 * block until enough copies of a message have arrived. Grammar (README.md has the semantics):
 *
 * ```
 * propose   <id> [size=<bytes>]   the proposer sends <id> to every other peer
 * broadcast <id> [size=<bytes>]   every peer sends <id> to every other peer
 * reply     <id> [size=<bytes>]   every peer sends <id> to the proposer
 * collect   <id> <threshold>      the proposer waits for <threshold> copies of <id>
 * wait      <id> <threshold>      every peer waits for <threshold> copies of <id>
 * ```
 *
 * `<id>` matches `[A-Za-z][A-Za-z0-9_-]*`; `<threshold>` is a count (`3`) or a percentage of the
 * peers (`67%`, rounded up); `size` defaults to {@link DEFAULT_SIZE} bytes.
 */

/** Payload size (bytes) of a send without `size=`. */
export const DEFAULT_SIZE = 32;

/** Largest payload a scenario may send, in bytes (the simulated network's message limit). */
export const MAX_SIZE = 1 << 20;

/** How many copies a `wait`/`collect` needs: a count, or a percentage of the peers. */
export type Threshold =
  | { readonly kind: 'count'; readonly value: number }
  | { readonly kind: 'percent'; readonly value: number };

/** One parsed scenario command. */
export type Command =
  | {
      readonly op: 'propose' | 'broadcast' | 'reply';
      readonly id: string;
      readonly size: number;
      /** 1-based line number in the file. */
      readonly line: number;
      /** The line as written (trimmed, comment removed). */
      readonly text: string;
    }
  | {
      readonly op: 'collect' | 'wait';
      readonly id: string;
      readonly threshold: Threshold;
      readonly line: number;
      readonly text: string;
    };

/** A parsed scenario. */
export interface Scenario {
  readonly commands: readonly Command[];
  /** The message ids in order of first use (the wire tag of an id is its index here). */
  readonly ids: readonly string[];
}

/** A scenario that does not parse: the message names the line. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  /** 1-based line number (0 when the error is about the whole scenario). */
  readonly line: number;
  constructor(line: number, message: string) {
    super(line === 0 ? message : `line ${line}: ${message}`);
    this.line = line;
  }
}

const ID = /^[A-Za-z][A-Za-z0-9_-]*$/;
const SENDS = new Set(['propose', 'broadcast', 'reply']);
const WAITS = new Set(['collect', 'wait']);

function parseThreshold(line: number, s: string): Threshold {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (percent !== null) {
    const value = Number(percent[1]);
    if (!(value > 0 && value <= 100)) {
      throw new ScenarioError(line, `threshold ${s} must be in (0%, 100%]`);
    }
    return { kind: 'percent', value };
  }
  if (!/^\d+$/.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s))) {
    throw new ScenarioError(line, `threshold ${JSON.stringify(s)} is not a count >= 1 or N%`);
  }
  return { kind: 'count', value: Number(s) };
}

function parseSize(line: number, args: readonly string[]): number {
  let size = DEFAULT_SIZE;
  for (const arg of args) {
    const m = /^size=(\d+)$/.exec(arg);
    if (m === null) throw new ScenarioError(line, `unexpected argument ${JSON.stringify(arg)}`);
    size = Number(m[1]);
    if (size > MAX_SIZE) throw new ScenarioError(line, `size ${size} exceeds ${MAX_SIZE} bytes`);
  }
  return size;
}

/**
 * Parses a scenario file's text.
 *
 * @throws ScenarioError naming the first bad line; also if the scenario has no command, or
 *   waits for a message that no earlier line sends.
 */
export function parseScenario(source: string): Scenario {
  const commands: Command[] = [];
  const ids: string[] = [];
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const text = (lines[i] as string).replace(/#.*$/, '').trim();
    if (text === '') continue;
    const [op, id, ...args] = text.split(/\s+/) as [string, string | undefined, ...string[]];
    if (!SENDS.has(op) && !WAITS.has(op)) {
      throw new ScenarioError(line, `unknown command ${JSON.stringify(op)}`);
    }
    if (id === undefined || !ID.test(id)) {
      throw new ScenarioError(line, `${op} needs a message id ([A-Za-z][A-Za-z0-9_-]*)`);
    }
    if (SENDS.has(op)) {
      const size = parseSize(line, args);
      if (!ids.includes(id)) ids.push(id);
      commands.push({ op: op as 'propose' | 'broadcast' | 'reply', id, size, line, text });
      continue;
    }
    if (args.length !== 1) throw new ScenarioError(line, `${op} takes <id> <threshold>`);
    if (!ids.includes(id))
      throw new ScenarioError(line, `${op} ${id}: no earlier line sends ${id}`);
    const threshold = parseThreshold(line, args[0] as string);
    commands.push({ op: op as 'collect' | 'wait', id, threshold, line, text });
  }
  if (commands.length === 0) throw new ScenarioError(0, 'the scenario has no command');
  if (ids.length > 255) throw new ScenarioError(0, 'a scenario may use at most 255 message ids');
  return { commands, ids };
}

/**
 * The number of copies `threshold` requires among `peers` peers: a count as given, a percentage
 * rounded up (`67%` of 10 is 7).
 *
 * @throws RangeError if the count exceeds the number of peers (it could never be reached).
 */
export function required(threshold: Threshold, peers: number): number {
  const n =
    threshold.kind === 'count'
      ? threshold.value
      : Math.ceil(Math.round(threshold.value * peers * 1e6) / 1e8);
  if (n > peers) throw new RangeError(`threshold ${n} exceeds the ${peers} peers`);
  return Math.max(n, 1);
}
