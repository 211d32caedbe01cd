/**
 * What both flavours' entry points (`authp2p/lookup`, `authp2p/discovery`) export from the shared
 * core, in one list: each flavour's `index.ts` re-exports this and adds its own.
 *
 * @module
 */

export { Quota } from '../../quota/index.js';
export { P2PError, type P2PErrorCode } from '../errors.js';
export type { ConnectionEvent, ConnectionEventKind } from '../events.js';
export { type PeerSetUpdate, Recipients, TrackedPeers } from '../types.js';
export type { ChannelMessage, Receiver, Sender } from './channels.js';
export type {
  HandshakeCounts,
  NetworkStatus,
  PeerTrafficStatus,
  StatusOptions,
} from './status.js';
export type { PeerState, PeerStatus, SetStatus } from './tracker/status.js';
export type { Traffic } from './traffic.js';
