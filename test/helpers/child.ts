import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';

/** How a child process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * A Node child process running `script` with `args`, whose stdout is collected line by line;
 * tests wait on its lines and its exit with deadlines, never on wall time.
 */
export class Child {
  readonly process: ChildProcess;
  /** Complete stdout lines so far. */
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  #waiters: (() => void)[] = [];

  constructor(script: string, args: readonly string[], stdin: 'pipe' | 'ignore' = 'ignore') {
    this.process = spawn(process.execPath, [script, ...args], { stdio: [stdin, 'pipe', 'pipe'] });
    let partial = '';
    this.process.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      this.#wake();
    });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => {
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
   * The first stdout line (from index `from`) matching `pred`, waiting for it at most
   * `deadlineMs`; rejects with what the process wrote if it exits or the deadline passes first.
   */
  async line(pred: (line: string) => boolean, deadlineMs = 20_000, from = 0): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no such line within ${deadlineMs} ms:\n${this.#output()}`)),
        deadlineMs,
      );
    });
    try {
      for (;;) {
        const found = this.lines.slice(from).find(pred);
        if (found !== undefined) return found;
        if (this.process.exitCode !== null || this.process.signalCode !== null) {
          throw new Error(`exited before such a line:\n${this.#output()}`);
        }
        await Promise.race([new Promise<void>((r) => this.#waiters.push(r)), expired]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  #output(): string {
    return `${this.lines.join('\n')}\n[stderr]\n${this.stderr}`;
  }

  /** Sends `signal` and waits (at most `deadlineMs`) for the exit. */
  stop(signal: NodeJS.Signals = 'SIGTERM', deadlineMs = 10_000): Promise<Exit> {
    this.process.kill(signal);
    return within(this.exited, deadlineMs, `exit after ${signal}`);
  }

  /** Kills the process if it still runs (test cleanup). */
  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGKILL');
    }
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

/** A loopback port with nothing listening on it (bound, then closed). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}
