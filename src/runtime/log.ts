import type { Logger } from './context.js';

/** A log level, as pino names them; `'silent'` writes nothing. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** What a runtime accepts as its logger: a pino-compatible logger, or a level for JSON lines. */
export type LogOption = Logger | LogLevel;

const LEVELS = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  silent: Number.POSITIVE_INFINITY,
};

function noop(): void {}

/** The logger that drops everything (the default). */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child(): Logger {
    return silentLogger;
  },
};

// Errors, bigints and byte arrays do not survive JSON.stringify as-is.
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { type: value.name, message: value.message, stack: value.stack, cause: value.cause };
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
}

const LEVEL_NAMES = Object.keys(LEVELS) as LogLevel[];

/**
 * The five level methods of a {@link Logger} over one `record(level, obj, msg)` call made only
 * at or above the logger's level; subclasses format and write the record, and make children.
 */
export abstract class LineLogger implements Logger {
  readonly #min: number;
  /** The level this logger writes at and above. */
  protected readonly level: LogLevel;

  protected constructor(level: LogLevel) {
    this.level = level;
    this.#min = LEVELS[level];
  }

  /** Formats and writes one record (`level` is pino's number: 10 trace ... 50 error). */
  protected abstract record(level: number, obj: object, msg: string | undefined): void;

  /** A logger of the same level that adds `bindings` to every record. */
  abstract child(bindings: Record<string, unknown>): Logger;

  /** Logs `obj`'s fields and `msg` at level trace (10) if the logger's level admits it. */
  trace(obj: object, msg?: string): void {
    if (10 >= this.#min) this.record(10, obj, msg);
  }
  /** Logs `obj`'s fields and `msg` at level debug (20) if the logger's level admits it. */
  debug(obj: object, msg?: string): void {
    if (20 >= this.#min) this.record(20, obj, msg);
  }
  /** Logs `obj`'s fields and `msg` at level info (30) if the logger's level admits it. */
  info(obj: object, msg?: string): void {
    if (30 >= this.#min) this.record(30, obj, msg);
  }
  /** Logs `obj`'s fields and `msg` at level warn (40) if the logger's level admits it. */
  warn(obj: object, msg?: string): void {
    if (40 >= this.#min) this.record(40, obj, msg);
  }
  /** Logs `obj`'s fields and `msg` at level error (50) if the logger's level admits it. */
  error(obj: object, msg?: string): void {
    if (50 >= this.#min) this.record(50, obj, msg);
  }
}

/** Whether `s` names a {@link LogLevel}. */
export function isLogLevel(s: unknown): s is LogLevel {
  return typeof s === 'string' && (LEVEL_NAMES as string[]).includes(s);
}

/**
 * A minimal pino-shaped logger writing one JSON object per line (`level`, `time`, bindings,
 * fields, `msg`). `now` supplies the time so the deterministic runtime logs virtual time.
 */
export class JsonLogger extends LineLogger {
  readonly #bindings: string;
  readonly #now: () => number;
  readonly #write: (line: string) => void;

  constructor(
    level: LogLevel,
    now: () => number,
    write: (line: string) => void = (line) => process.stderr.write(line),
    bindings = '',
  ) {
    super(level);
    this.#now = now;
    this.#write = write;
    this.#bindings = bindings;
  }

  protected record(level: number, obj: object, msg: string | undefined): void {
    let body = JSON.stringify(obj, replacer);
    body = body === '{}' ? '' : `,${body.slice(1, -1)}`;
    const tail = msg === undefined ? '' : `,"msg":${JSON.stringify(msg)}`;
    this.#write(`{"level":${level},"time":${this.#now()}${this.#bindings}${body}${tail}}\n`);
  }

  child(bindings: Record<string, unknown>): Logger {
    const extra = JSON.stringify(bindings, replacer);
    const more = extra === '{}' ? '' : `,${extra.slice(1, -1)}`;
    return new JsonLogger(this.level, this.#now, this.#write, this.#bindings + more);
  }
}

/** Turns a {@link LogOption} into a logger (`undefined` gives the silent logger). */
export function makeLogger(option: LogOption | undefined, now: () => number): Logger {
  if (option === undefined || option === 'silent') return silentLogger;
  if (typeof option === 'string') return new JsonLogger(option, now);
  return option;
}
