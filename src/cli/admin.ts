/**
 * The one place the CLI reaches the admin endpoint module: `run` serves `serveAdmin` when the
 * config has an `admin` field.
 *
 * @module
 */

export { type AdminServer, serveAdmin } from '../admin/index.js';
