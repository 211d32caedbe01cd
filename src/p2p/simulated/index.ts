export type { Config } from './config.js';
export { MAX_SIZE } from './config.js';
export type { LinkOptions } from './link.js';
export { Network } from './network.js';
export { Control, Oracle } from './oracle.js';
export {
  type SplitForwarder,
  type SplitOrigin,
  type SplitRouter,
  SplitSender,
  type SplitTarget,
  splitReceiver,
  splitSender,
} from './split.js';
