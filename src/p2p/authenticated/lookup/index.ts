/**
 * The lookup network (`authp2p/lookup`): authenticated, encrypted connections to peers whose
 * addresses the application supplies (a port of commonware `p2p::authenticated::lookup`).
 *
 * # Design
 *
 * The application registers numbered peer sets with an address per peer through the
 * {@link Oracle} (typically one set per epoch); the network keeps a connection to every primary
 * peer of the last `trackedPeerSets` sets and accepts connections from their primaries and
 * secondaries, and from nobody else. Nothing is gossiped: addresses come only from the
 * application, so a peer cannot poison another's address.
 *
 * `Network.start()` spawns, under a `network` task, five actors wired explicitly in
 * `network.ts`:
 *
 * - the **tracker** owns the directory of peers (records, retained sets, block list). It hands out
 *   reservations (one connection slot per peer, inbound or outbound, with a cooldown between
 *   two), kills connections that are no longer wanted (blocked, evicted, address changed), and
 *   pushes the listener's allow-list of source IPs;
 * - the **dialer** asks the tracker for dialable peers, shuffles them, and dials at most one per
 *   `dialFrequencyMs`, each dial (DNS, TCP, handshake) bounded by `dialTimeoutMs`;
 * - the **listener** filters inbound sockets (private IPs, unregistered IPs, per-IP and
 *   per-subnet handshake rates, a concurrency cap) before any cryptography, then runs the
 *   handshake with the tracker as bouncer;
 * - the **spawner** turns each authenticated session into a peer actor (ping keep-alive, batched
 *   writes, per-channel inbound rate limits);
 * - the **router** fans each outbound message out to the connected recipients' queues.
 *
 * If any actor ends, the network stops. After `handle.stop()`, `await handle.done` resolves once
 * every task has ended; receivers then reject with `P2PError('NetworkClosed')`, senders return
 * `[]`, and the oracle reports `'closed'`.
 *
 * Every connection carries lookup messages inside the encrypted stream: `Data`
 * (`0x00 || varint(channel) || varint(len) || bytes`) or `Ping` (`0x01`); see
 * PROTOCOL.md (The lookup network protocol).
 *
 * # Security
 *
 * - Only registered peers get in: the bouncer rejects an unknown key before the handshake's
 *   cryptography, and, unless `bypassIpCheck`, a socket whose source IP is not a registered
 *   egress IP is closed before the handshake starts (while a peer registered by a bare DNS name,
 *   which has no known egress IP, is eligible, every source IP gets to the handshake).
 * - Handshake floods are bounded per IP, per /24 (IPv4) or /48 (IPv6) subnet and in total;
 *   every refusal is counted (`handshakes_blocked`, `handshake_ip_rate_limited`,
 *   `handshake_subnet_rate_limited`, `handshake_concurrent_rate_limited`, `handshakes_failed`).
 * - One connection per peer at most; reconnections are throttled by `peerConnectionCooldownMs`.
 * - A peer over its channel quota is paced (its connection stops being read), never served at
 *   the others' expense; a slow peer loses its own queued messages, never delays others.
 * - Limits are best-effort protection against moderate abuse, as upstream says; a targeted
 *   DDoS needs an external defence.
 * - Requirements: a namespace unique to the application, identical configuration of the
 *   "must match" fields on every peer, clocks within `synchronyBoundMs`, and every peer
 *   registering the same sets at the same indices.
 *
 * # Example
 *
 * ```ts
 * import { ed25519 } from 'authp2p/crypto';
 * import { Config, Network, Quota, Recipients } from 'authp2p/lookup';
 * import { deterministicRuntime, simulatedNetwork, withNetwork } from 'authp2p/runtime';
 *
 * const keys = [1n, 2n].map((seed) => ed25519.PrivateKey.fromSeed(seed));
 * const ips = ['10.0.0.1', '10.0.0.2'];
 * const { result } = await deterministicRuntime({ seed: 7 }).run(async (ctx) => {
 *   const nodes = keys.map((signer, i) => {
 *     // Each node dials from its own simulated IP (the listener checks source IPs).
 *     const node = withNetwork(ctx.child(`node${i}`), simulatedNetwork(ctx).host(ips[i]!));
 *     const config = Config.local({
 *       signer, namespace: new TextEncoder().encode('my-app'), listen: `${ips[i]}:3000`,
 *       maxPeersPerSet: 8, maxMessageSize: 1024,
 *     });
 *     const [network, oracle] = Network.create(node, config);
 *     const [sender, receiver] = network.register(0, Quota.perSecond(100));
 *     const handle = network.start();
 *     oracle.register(0, keys.map((k, j) => [k.publicKey, `${ips[j]}:3000`] as const));
 *     return { sender, receiver, handle };
 *   });
 *   // Retry until connected: sends to a peer that is not connected yet go nowhere.
 *   const received = nodes[1]!.receiver.recv();
 *   let sent: unknown[] = [];
 *   while (sent.length === 0) {
 *     sent = nodes[0]!.sender.send(Recipients.all(), new TextEncoder().encode('hi'), false);
 *     await ctx.clock.sleep(100);
 *   }
 *   const [from, message] = await received;
 *   for (const n of nodes) n.handle.stop();
 *   await Promise.all(nodes.map((n) => n.handle.done));
 *   return `${from.equals(keys[0]!.publicKey)} ${new TextDecoder().decode(message)}`;
 * });
 * console.log(result); // 'true hi'
 * ```
 *
 * @module authp2p/lookup
 */

export type { Address, AddressInput, Ingress } from '../../address.js';
export type { AddressableInput } from '../../types.js';
export * from '../common-exports.js';
export { Config, type ConfigInput, MAX_MESSAGE_SIZE } from './config.js';
export { Network } from './network.js';
export { Oracle, PeerSetSubscription } from './oracle.js';
