/**
 * What the commands write, and how: the {@link Io} they write through (the process's streams,
 * or buffers in tests), the log of a running node (pino-style JSON lines when stdout is not a
 * terminal, short readable lines when it is), and plain-text tables.
 *
 * @module
 */

import type { Logger, LogLevel } from '../runtime/index.js';
import { JsonLogger, LineLogger } from '../runtime/log.js';

/** The outside world of one command invocation. */
export interface Io {
  /** Writes `text` to standard output. */
  out(text: string): void;
  /** Writes `text` to standard error. */
  err(text: string): void;
  /** Whether standard output is a terminal (readable log lines and tables rather than JSON). */
  readonly isTTY: boolean;
}

/** The {@link Io} of this process. */
export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
  };
}

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
};

/** `hh:mm:ss.mmm` (UTC) of an epoch-ms clock reading. */
export function timeOfDay(ms: number): string {
  const day = ((Math.floor(ms) % 86_400_000) + 86_400_000) % 86_400_000;
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const h = Math.floor(day / 3_600_000);
  const m = Math.floor(day / 60_000) % 60;
  const s = Math.floor(day / 1000) % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(day % 1000, 3)}`;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? String(value);
}

/** A logger writing `hh:mm:ss.mmm LEVEL msg key=value ...` lines, for a terminal. */
class TextLogger extends LineLogger {
  readonly #now: () => number;
  readonly #write: (line: string) => void;
  readonly #bindings: Readonly<Record<string, unknown>>;

  constructor(
    level: LogLevel,
    now: () => number,
    write: (line: string) => void,
    bindings: Readonly<Record<string, unknown>>,
  ) {
    super(level);
    this.#now = now;
    this.#write = write;
    this.#bindings = bindings;
  }

  protected record(level: number, obj: object, msg: string | undefined): void {
    const fields = Object.entries({ ...this.#bindings, ...obj })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ` ${k}=${fieldText(v)}`)
      .join('');
    this.#write(`${timeOfDay(this.#now())} ${LEVEL_NAMES[level]} ${msg ?? ''}${fields}\n`);
  }

  child(bindings: Record<string, unknown>): Logger {
    return new TextLogger(this.level, this.#now, this.#write, { ...this.#bindings, ...bindings });
  }
}

/**
 * The logger of a running node, writing to `io.out` at `level` and above: readable lines on a
 * terminal, pino-style JSON lines (`level`, `time`, fields, `msg`) otherwise.
 */
export function nodeLogger(io: Io, level: LogLevel, now: () => number): Logger {
  const write = (line: string): void => io.out(line);
  return io.isTTY ? new TextLogger(level, now, write, {}) : new JsonLogger(level, now, write);
}

/** Renders `rows` under `header` as left-aligned columns separated by two spaces. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** A duration in ms as `350ms`, `12s`, `3m05s`, `2h07m` or `3d04h`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}

/** A byte count as `512B`, `1.5KiB`, `20.0MiB`, `3.2GiB`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)}${units[u]}`;
}

/** The first 16 hex digits of a key, for tables (the JSON output keeps whole keys). */
export function shortKey(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 16)}..` : hex;
}
