/**
 * What the utilities need of a channel: the public halves of the {@link Sender} and
 * {@link Receiver} that `register(channel, quota)` returns on the lookup, discovery and
 * simulated networks, and anything that can block a peer (commonware `Blocker`).
 *
 * @module
 */

import type { PublicKey } from '../../crypto/ed25519.js';
import type { ChannelMessage } from '../authenticated/channels.js';
import type { Recipients } from '../types.js';

/** The sending half of a channel (`Sender` of every network satisfies it). */
export interface ChannelSender {
  /** The channel number. */
  readonly channel: number;
  /**
   * Sends `message` to `recipients` and returns the peers it will be attempted to.
   *
   * @throws P2PError `MessageTooLarge` if `message` exceeds the network's `maxMessageSize`.
   */
  send(recipients: Recipients, message: Uint8Array, priority: boolean): PublicKey[];
}

/** The receiving half of a channel (`Receiver` of every network satisfies it). */
export interface ChannelReceiver {
  /** The channel number. */
  readonly channel: number;
  /**
   * The next `[from, message]`.
   *
   * @throws P2PError `NetworkClosed` once the network has stopped; `signal.reason` on abort.
   */
  recv(options?: { readonly signal?: AbortSignal }): Promise<ChannelMessage>;
}

/**
 * Anything that can block a peer: a lookup or discovery oracle, or a simulated network's
 * `oracle.control(pk)`. The return value (a `Feedback`, for the oracles) is ignored.
 */
export interface Blocker {
  /** Blocks `peer` (disconnects it and refuses it until the block expires). */
  block(peer: PublicKey): unknown;
}
