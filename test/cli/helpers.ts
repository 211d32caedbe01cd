import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/index.js';
import type { Io } from '../../src/cli/output.js';

/** The compiled CLI entry point (build/src/cli/main.js). */
export const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

/** An {@link Io} that keeps what a command writes. */
export interface BufferIo extends Io {
  readonly stdout: string;
  readonly stderr: string;
}

export function bufferIo(): BufferIo {
  let stdout = '';
  let stderr = '';
  return {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    isTTY: false,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}

/** Runs a command in-process; resolves with its status and output. */
export async function cli(
  ...argv: string[]
): Promise<{ status: number; stdout: string; stderr: string }> {
  const io = bufferIo();
  const status = await main(argv, io);
  return { status, stdout: io.stdout, stderr: io.stderr };
}

/** A fresh temporary directory and its removal. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'authp2p-cli-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Makes a key file `name` in `dir` with `keygen`; returns its public key hex. */
export async function keygen(dir: string, name: string): Promise<string> {
  const r = await cli('keygen', '--out', join(dir, name));
  if (r.status !== 0) throw new Error(`keygen failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Writes `fields` as the JSON config file `name` in `dir`; returns its path. */
export function writeConfig(dir: string, name: string, fields: object): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(fields));
  return path;
}

/** A lookup config for the local preset, with `overrides`. */
export function lookupConfig(key: string, overrides: object = {}): object {
  return {
    network: 'lookup',
    preset: 'local',
    key,
    namespace: 'cli-test',
    listen: '127.0.0.1:0',
    maxPeersPerSet: 8,
    maxMessageSize: 1024,
    peers: [],
    ...overrides,
  };
}

/** A `run` child process and its output as parsed JSON lines. */
export class Node {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: (() => void)[] = [];

  constructor(config: string) {
    this.child = spawn(process.execPath, [CLI, 'run', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const line of parts) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      this.#wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.#wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.#wake();
        resolve({ code, signal });
      });
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /**
   * The first output line matching `pred`, waiting for it until `deadlineMs` (then rejects
   * with what the process wrote).
   */
  async line(
    pred: (l: Record<string, unknown>) => boolean,
    deadlineMs = 20_000,
  ): Promise<Record<string, unknown>> {
    const found = (): Record<string, unknown> | undefined => this.lines.find(pred);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `no such line within ${deadlineMs} ms; got:\n${JSON.stringify(this.lines)}\n${this.stderr}`,
            ),
          ),
        deadlineMs,
      );
    });
    try {
      for (;;) {
        const l = found();
        if (l !== undefined) return l;
        if (this.child.exitCode !== null)
          throw new Error(`exited ${this.child.exitCode}: ${this.stderr}`);
        await Promise.race([new Promise<void>((r) => this.#waiters.push(r)), expired]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` and waits (at most `deadlineMs`) for the exit. */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    deadlineMs = 10_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    return within(this.exited, deadlineMs, `exit after ${signal}`);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
