/**
 * The discovery network (`authp2p/discovery`): authenticated, encrypted connections to the peers
 * of the sets the application registers, whose addresses are learned from signed records
 * gossiped between peers (a port of commonware `p2p::authenticated::discovery`).
 *
 * # Design
 *
 * The application registers numbered peer sets of keys through the {@link Oracle} (typically one
 * set per epoch); nobody supplies addresses except the configured bootstrappers. Each peer signs
 * its own address record (`Info`: its `dialable` address and a timestamp, signed under
 * `namespace || "_TRACKER_IP"`) once at startup and sends it as the first message (Greeting) of
 * every connection. Peers then exchange, per connection and every `gossipBitVecFrequencyMs`, a
 * BitVec over a random tracked set (bit i: "I know a usable record of the set's i-th peer"),
 * answered with the signed records (Peers) of connected peers the asker lacks, at most
 * `peerGossipMaxCount` at a time. A record replaces a known one only if its timestamp is newer;
 * records about keys in no tracked set are ignored. Learned primaries become dialable.
 *
 * `Network.start()` spawns, under a `network` task, the same five actors as lookup (tracker,
 * router, spawner, listener, dialer), wired in `../network.ts`; only the tracker, the peer
 * protocol and the oracle are discovery's own.
 *
 * If any actor ends, the network stops. After `handle.stop()`, `await handle.done` resolves once
 * every task has ended; a listen address that cannot be bound rejects it with
 * `P2PError('ListenFailed')`.
 *
 * Wire format: `Data` (`0x00`), `Greeting` (`0x01 || Info`), `BitVec` (`0x02 || varint(index) ||
 * u64 BE bit length || bits`), `Peers` (`0x03 || varint(count) || Info*`); see PROTOCOL.md (The
 * discovery network protocol).
 *
 * # Security
 *
 * - Only peers in a tracked set (primary or secondary) or configured as bootstrappers get in; the
 *   bouncer rejects other keys before the handshake's cryptography.
 * - Every record is signed by its subject: a peer cannot forge another's address. A malicious
 *   peer can replay an old record of someone else; only a strictly newer timestamp replaces a
 *   known record, and a bootstrapper's configured address is kept as a fallback, so a replayed
 *   record cannot cut us off from it (`tracker/record.ts`, Stale records of bootstrappers).
 * - A Greeting that is missing, repeated or about another key, a record about ourselves, dated
 *   beyond `synchronyBoundMs`, badly signed or in a message of more than `peerGossipMaxCount`,
 *   and a BitVec whose length is not the set's size each close the connection.
 * - Inbound BitVec and Peers are limited to one per half gossip period (the first of each
 *   exempt); an over-quota peer is paced, not served at the others' expense.
 * - IP poisoning (a peer advertising someone else's IP as its own) is mitigated only by the
 *   dialer's shuffling; the lookup network avoids it entirely.
 * - Requirements: every peer registers the same set composition at each index (bit positions
 *   must agree), clocks within `synchronyBoundMs`, a namespace unique to the application.
 *
 * # Example
 *
 * ```ts
 * import { ed25519 } from 'authp2p/crypto';
 * import { Config, Network, Quota, Recipients } from 'authp2p/discovery';
 * import { deterministicRuntime, simulatedNetwork, withNetwork } from 'authp2p/runtime';
 *
 * const keys = [1n, 2n, 3n].map((seed) => ed25519.PrivateKey.fromSeed(seed));
 * const ips = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
 * const { result } = await deterministicRuntime({ seed: 7 }).run(async (ctx) => {
 *   const nodes = keys.map((signer, i) => {
 *     const node = withNetwork(ctx.child(`node${i}`), simulatedNetwork(ctx).host(ips[i]!));
 *     const config = Config.local({
 *       signer, namespace: new TextEncoder().encode('my-app'),
 *       listen: `${ips[i]}:3000`, dialable: `${ips[i]}:3000`,
 *       bootstrappers: i === 0 ? [] : [[keys[0]!.publicKey, `${ips[0]}:3000`]],
 *       maxPeersPerSet: 8, maxMessageSize: 1024,
 *     });
 *     const [network, oracle] = Network.create(node, config);
 *     const [sender, receiver] = network.register(0, Quota.perSecond(100));
 *     const handle = network.start();
 *     oracle.register(0, keys.map((k) => k.publicKey));
 *     return { network, sender, receiver, handle };
 *   });
 *   // Peers 1 and 2 know only the bootstrapper's address; they learn each other's by gossip
 *   // (wait up to 30 s of virtual time for peer 1 to be connected to both others).
 *   for (let i = 0; i < 300 && nodes[1]!.network.connectedPeers().length < 2; i++) {
 *     await ctx.clock.sleep(100);
 *   }
 *   const received = nodes[2]!.receiver.recv();
 *   nodes[1]!.sender.send(Recipients.one(keys[2]!.publicKey), new TextEncoder().encode('hi'), false);
 *   const [from, message] = await received;
 *   for (const n of nodes) n.handle.stop();
 *   await Promise.all(nodes.map((n) => n.handle.done));
 *   return `${from.equals(keys[1]!.publicKey)} ${new TextDecoder().decode(message)}`;
 * });
 * console.log(result); // 'true hi'
 * ```
 *
 * @module authp2p/discovery
 */

export type { Ingress, IngressInput } from '../../address.js';
export * from '../common-exports.js';
export { Config, type ConfigInput, MAX_MESSAGE_SIZE } from './config.js';
export { Info } from './info.js';
export { Network } from './network.js';
export { Oracle } from './oracle.js';
