/**
 * Channel utilities shared by the lookup, discovery and simulated networks (commonware
 * `p2p/src/utils`).
 *
 * # Design
 *
 * Both utilities sit on top of a channel's `Sender`/`Receiver` (any object with their public
 * methods: {@link ChannelSender}, {@link ChannelReceiver}), so they work the same over every
 * network and add nothing to the wire beyond what they document:
 *
 * - {@link Muxer}: many sub-channels over one channel. Each message is
 *   `varint(subchannel) || payload`; a task routes inbound payloads to bounded per-sub-channel
 *   mailboxes that drop (and count) when full, with an optional backup channel for sub-channels
 *   nobody registered and a {@link GlobalSender} for any sub-channel.
 * - {@link wrap}: typed values over a channel with a project `Codec`; a peer whose
 *   message fails to decode is blocked through a {@link Blocker} (an oracle or a control).
 *
 * # Security
 *
 * The sub-channel prefix and the value encodings come from peers: both are parsed with the
 * codec's strict rules and limits. A bad prefix is dropped and counted (`invalid`); a value that
 * fails to decode blocks its sender. A flood on one sub-channel fills only that sub-channel's
 * mailbox; the channel quota of the network still bounds every peer.
 *
 * # Example
 *
 * ```ts
 * import { Muxer, wrap } from 'authp2p/utils';
 * import { u64Number } from 'authp2p/codec';
 *
 * const [sender, receiver] = network.register(0, Quota.perSecond(1000));
 * const muxer = Muxer.create(ctx.child('mux'), sender, receiver, { mailboxSize: 64, backup: true });
 * const [heightTx, heightRx] = muxer.register(1);
 * muxer.start();
 * const [heights, incoming] = wrap(u64Number, heightTx, heightRx, oracle);
 * heights.send(Recipients.all(), 42, false);
 * const [from, height] = await incoming.recv();
 * ```
 *
 * @module
 */

export type { WrappedMessage } from './codec.js';
export { WrappedReceiver, WrappedSender, wrap } from './codec.js';
export type { BackupMessage, MuxerConfig } from './mux.js';
export { GlobalSender, Muxer, parse, SubReceiver, SubSender } from './mux.js';
export type { Blocker, ChannelReceiver, ChannelSender } from './types.js';
