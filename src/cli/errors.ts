/**
 * The error class of the CLI. Its code decides the process exit status (API.md "Operating a
 * node"): 1 for a failed check, an endpoint that does not answer or a node that cannot run; 2 for
 * a usage or configuration error.
 *
 * @module
 */

/**
 * Closed set of failure codes for {@link CliError}.
 *
 * - `Usage`: a bad command line (unknown command or flag, missing argument, a file that exists
 *   where `keygen` would write without `--force`). Exit 2.
 * - `Config`: a bad config or key file (unknown field, wrong type, bad address, unreadable or
 *   too widely readable key); the message names the field. Exit 2.
 * - `Unreachable`: an admin endpoint did not answer, or answered with something else than the
 *   status JSON. Exit 1.
 * - `CannotRun`: the node cannot run (its port is in use) or stopped on its own. Exit 1.
 */
export type CliErrorCode = 'Usage' | 'Config' | 'Unreachable' | 'CannotRun';

/** A failure that ends a command with one line on stderr and a non-zero exit status. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** The process exit status for this failure. */
  get exitCode(): 1 | 2 {
    return this.code === 'Usage' || this.code === 'Config' ? 2 : 1;
  }
}
