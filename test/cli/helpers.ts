import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/index.js';
import type { Io } from '../../src/cli/output.js';
import { Child } from '../helpers/child.js';

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

/** A `run` child process, its stdout lines parsed as JSON. */
export class Node extends Child {
  constructor(config: string) {
    super(CLI, ['run', config]);
  }

  /** The first JSON line matching `pred` (see {@link Child.line}). */
  async json(
    pred: (l: Record<string, unknown>) => boolean,
    deadlineMs?: number,
  ): Promise<Record<string, unknown>> {
    const parsed = (line: string): Record<string, unknown> =>
      JSON.parse(line) as Record<string, unknown>;
    return parsed(await this.line((l) => pred(parsed(l)), deadlineMs));
  }

  /** Every stdout line, parsed. */
  get records(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
