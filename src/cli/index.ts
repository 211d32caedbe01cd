/**
 * The `authp2p` command line (API.md "Operating a node"): `keygen`, `pubkey`, `run`, `status`
 * and `check-peers`.
 *
 * # Design
 *
 * Each command is a function of its arguments and an {@link Io} (the process's streams, or
 * buffers in tests) resolving with an exit status, so everything but `run`'s signal handling is
 * testable in-process. Time, randomness and sockets come from a Node runtime `Context`, as in the
 * library. The config file is validated completely before anything starts; every failure is one
 * line on stderr.
 *
 * # Security
 *
 * - Key files are written with mode 0600 (an existing file is never replaced without `--force`),
 *   and `run` and `check-peers` refuse a key file that group or others may read.
 * - `check-peers` never disturbs a running node: when the node's admin endpoint answers, the
 *   report comes from its `/status`, since the peers would refuse a second connection with the
 *   node's key (and might drop the first).
 * - The admin endpoint binds loopback unless the config says otherwise, and then requires a
 *   bearer token (`adminToken`).
 *
 * @module
 */

export { main } from './commands.js';
export { CliError, type CliErrorCode } from './errors.js';
export type { Io } from './output.js';
