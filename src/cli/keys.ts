/**
 * Key files: one line holding the 32-byte ed25519 secret seed as 64 hex digits, mode 0600.
 *
 * @module
 */

import { closeSync, fchmodSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { ed25519 } from '../crypto/index.js';
import type { Rng } from '../runtime/index.js';
import { CliError } from './errors.js';

function describe(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

/**
 * Reads the private key in `path`. With `private: true` (what `run` and `check-peers` ask), a
 * file that group or others may read is refused: its key is no longer secret. `label` starts
 * the error message (the config field, or the command).
 *
 * @throws CliError `Config` if the file cannot be read, is readable by others (when asked), or
 *   does not hold a key.
 */
export function readKeyFile(
  path: string,
  label: string,
  options: { readonly private: boolean },
): ed25519.PrivateKey {
  const fail = (why: string, cause?: unknown): CliError =>
    new CliError('Config', `${label}: ${why}`, cause === undefined ? undefined : { cause });
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw fail(`cannot read ${path}: ${describe(err)}`, err);
  }
  if (options.private && (mode & 0o077) !== 0) {
    throw fail(
      `${path} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); ` +
        `run chmod 600 ${path}`,
    );
  }
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw fail(`${path} is not a key file (want 64 hex digits on one line)`);
  }
  return ed25519.PrivateKey.fromBytes(Buffer.from(hex, 'hex'));
}

/**
 * Writes a new key drawn from `rng` to `path` with mode 0600 and returns it. An existing file is
 * replaced only with `force` (and its mode is set to 0600 too).
 *
 * @throws CliError `Usage` if `path` exists and `force` is false, or cannot be written.
 */
export function writeKeyFile(path: string, rng: Rng, force: boolean): ed25519.PrivateKey {
  const key = ed25519.PrivateKey.generate(rng);
  let fd: number;
  try {
    // 'wx' fails if the file exists: no window in which another file could be overwritten.
    fd = openSync(path, force ? 'w' : 'wx', 0o600);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'EEXIST') {
      throw new CliError('Usage', `keygen: ${path} exists (use --force to overwrite it)`);
    }
    throw new CliError('Usage', `keygen: cannot write ${path}: ${describe(err)}`, { cause: err });
  }
  try {
    // The umask may have narrowed the mode; an overwritten file keeps its old one: set it.
    fchmodSync(fd, 0o600);
    writeSync(fd, `${Buffer.from(key.toBytes()).toString('hex')}\n`);
  } finally {
    closeSync(fd);
  }
  return key;
}
