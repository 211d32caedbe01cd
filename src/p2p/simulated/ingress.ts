/**
 * What flows into the simulated network's actor (commonware `simulated/ingress.rs`): the sends
 * of every peer's channels, through one bounded queue, and the per-registration endpoint that
 * gives a channel {@link Sender} the router it expects.
 *
 * @module
 */

import type { Feedback, Sender as MailboxSender } from '../../actor/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import type { ContentRouter } from '../authenticated/channels.js';
import type { Recipients } from '../types.js';
import type { Peer, SnapshotFeed, Topology } from './peers.js';

/** One `send` call of a peer's channel, as the actor handles it. */
export interface Send {
  readonly origin: Peer;
  readonly channel: number;
  readonly recipients: readonly PublicKey[];
  /** The encoded data frame the sender built (channel, length, message). */
  readonly encoded: Uint8Array;
  readonly priority: boolean;
}

/**
 * The router a registration's channels are bound to: `content` queues the send for the actor
 * (`'dropped'` when the queue is full, so the sender reports `[]`), `subscribePeers` hands out
 * the origin's connected-peer feed.
 */
export class Endpoint implements ContentRouter {
  readonly #origin: Peer;
  readonly #topology: Topology;
  readonly #channel: number;
  readonly #queue: MailboxSender<Send>;
  readonly #feed: () => SnapshotFeed;

  constructor(
    origin: Peer,
    topology: Topology,
    channel: number,
    queue: MailboxSender<Send>,
    feed: () => SnapshotFeed,
  ) {
    this.#origin = origin;
    this.#topology = topology;
    this.#channel = channel;
    this.#queue = queue;
    this.#feed = feed;
  }

  content(recipients: Recipients, encoded: Uint8Array, priority: boolean): Feedback {
    const list =
      recipients.kind === 'one'
        ? [recipients.publicKey]
        : recipients.kind === 'some'
          ? recipients.publicKeys
          : this.#topology.snapshot(this.#origin);
    return this.#queue.enqueue({
      origin: this.#origin,
      channel: this.#channel,
      recipients: list,
      encoded,
      priority,
    });
  }

  subscribePeers(): SnapshotFeed {
    return this.#feed();
  }
}
