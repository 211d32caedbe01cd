export type { Config } from './config.js';
export { MAX_SIZE } from './config.js';
export type { LinkOptions } from './link.js';
export { Network } from './network.js';
export { Control, Oracle } from './oracle.js';
