#!/usr/bin/env node
/**
 * The `authp2p` executable (package.json `bin`): runs {@link main} on this process's arguments
 * and exits with its status.
 *
 * @module
 */

import { main } from './commands.js';
import { processIo } from './output.js';

const status = await main(process.argv.slice(2), processIo());
// Exit now: a command has ended everything it started, and a network that failed to stop in
// time must not hold the process.
process.exit(status);
