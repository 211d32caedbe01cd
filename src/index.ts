/**
 * authp2p: authenticated, encrypted peer-to-peer messaging for TypeScript on Node.js, after
 * the commonware-p2p architecture.
 *
 * The root entry re-exports the common surface; each module also has its own subpath
 * (`authp2p/codec`, `authp2p/crypto`, `authp2p/runtime`, `authp2p/stream`, `authp2p/lookup`,
 * `authp2p/discovery`, `authp2p/simulated`,
 * `authp2p/actor`, `authp2p/quota`, `authp2p/utils`).
 *
 * @example
 * ```ts
 * import { lookup, Quota, Recipients } from 'authp2p';
 * import { ed25519 } from 'authp2p/crypto';
 * import { nodeRuntime } from 'authp2p/runtime';
 *
 * await nodeRuntime().run(async (ctx) => {
 *   const signer = ed25519.PrivateKey.fromSeed(1n);
 *   const config = lookup.Config.local({
 *     signer,
 *     namespace: new TextEncoder().encode('my-app'),
 *     listen: '127.0.0.1:3001',
 *     maxPeersPerSet: 32,
 *     maxMessageSize: 1 << 20,
 *   });
 *   const [network, oracle] = lookup.Network.create(ctx, config);
 *   const [sender, receiver] = network.register(0, Quota.perSecond(1000));
 *   const handle = network.start();
 *   oracle.register(0, [[signer.publicKey, '127.0.0.1:3001']]);
 *   sender.send(Recipients.all(), new TextEncoder().encode('hello'), false);
 *   handle.stop();
 *   await handle.done;
 * });
 * ```
 *
 * @packageDocumentation
 * @module authp2p
 */

export type { Feedback } from './actor/index.js';
export { CodecError } from './codec/index.js';
export { CryptoError, ed25519 } from './crypto/index.js';
export type { Address, DnsIngress, Ingress } from './p2p/address.js';
export * as discovery from './p2p/authenticated/discovery/index.js';
export * as lookup from './p2p/authenticated/lookup/index.js';
export type {
  HandshakeCounts,
  NetworkStatus,
  PeerTrafficStatus,
  StatusOptions,
} from './p2p/authenticated/status.js';
export type { PeerState, PeerStatus, SetStatus } from './p2p/authenticated/tracker/status.js';
export type { Traffic } from './p2p/authenticated/traffic.js';
export { P2PError } from './p2p/errors.js';
export type { ConnectionEvent, ConnectionEventKind } from './p2p/events.js';
export * as simulated from './p2p/simulated/index.js';
export type { PeerSetUpdate, TrackedPeers } from './p2p/types.js';
export { Recipients } from './p2p/types.js';
export * as utils from './p2p/utils/index.js';
export { Quota } from './quota/index.js';
export type { Context, Handle } from './runtime/index.js';
export { deterministicRuntime, nodeRuntime, RuntimeError } from './runtime/index.js';
export { StreamError } from './stream/index.js';
