/**
 * The one place the CLI reaches the admin endpoint module (`src/admin`, `serveAdmin`), so that
 * `run` builds and runs without it: until that module is part of the build, a config with an
 * `admin` field makes `run` fail with one line (exit 1). With it, this file becomes a re-export
 * of `serveAdmin`.
 *
 * @module
 */

import type * as discovery from '../p2p/authenticated/discovery/index.js';
import type * as lookup from '../p2p/authenticated/lookup/index.js';
import type { Context, SocketAddr } from '../runtime/index.js';
import { CliError } from './errors.js';

/** A running admin endpoint, as `serveAdmin` returns it. */
export interface AdminServer {
  /** Where it listens. */
  readonly address: string | SocketAddr;
  /** Stops it. */
  stop(): void | Promise<void>;
}

/** What `serveAdmin` takes as options. */
export interface AdminOptions {
  readonly listen: string;
  readonly token?: string;
}

/**
 * Serves the admin endpoint of `network` under `ctx`.
 *
 * @throws CliError `CannotRun` while this build has no admin module.
 */
export async function serveAdmin(
  _ctx: Context,
  _network: lookup.Network | discovery.Network,
  options: AdminOptions,
): Promise<AdminServer> {
  throw new CliError(
    'CannotRun',
    `admin: cannot serve ${options.listen}: this build has no admin endpoint (src/admin)`,
  );
}
