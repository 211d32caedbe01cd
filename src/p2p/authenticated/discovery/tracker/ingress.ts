import type { Feedback, Responder, Sender } from '../../../../actor/index.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import type { TrackedPeers } from '../../../types.js';
import { connectMessage, MailboxBase, type SharedMessage } from '../../tracker/ingress.js';
import type { BitVec, InfoLike } from './info.js';

export type { Subscriber } from '../../tracker/ingress.js';

/**
 * What the tracker holds for a connected peer: the peer actor's control mailbox. Every method
 * returns at once (the peer's control queue decides what to keep when full; a `kill` is always
 * kept) and `kill` is idempotent.
 */
export interface PeerControl {
  /** Ends the connection. */
  kill(): void;
  /** Send the peer our knowledge of a set (the tracker's answer to `construct`). */
  bitVec(bitVec: BitVec): void;
  /** Send the peer these `Info`s (the tracker's answer to the peer's `BitVec`). */
  peers(infos: readonly InfoLike[]): void;
}

/**
 * The messages the tracker handles (upstream `discovery/actors/tracker/ingress.rs`): the
 * {@link SharedMessage}s of both flavours, whose registration carries bare keys, and
 * discovery's own.
 */
export type Message =
  | SharedMessage<TrackedPeers>
  // ---------- Used by the spawner ----------
  /** A reserved peer's connection is up; answered with our `Info`, or closed if ineligible. */
  | {
      readonly type: 'connect';
      readonly peer: PublicKey;
      readonly control: PeerControl;
      readonly dialer: boolean;
      /** The generation of the reservation the connection holds (see `RecordBase`). */
      readonly generation: number | undefined;
      readonly responder: Responder<InfoLike>;
    }
  // ---------- Used by the peer actor ----------
  /** Time to gossip: send `peer` a `BitVec` of a random retained set. */
  | { readonly type: 'construct'; readonly peer: PublicKey }
  /** `peer` sent its knowledge of a set: answer with the `Info`s it lacks. */
  | { readonly type: 'bitVec'; readonly peer: PublicKey; readonly bitVec: BitVec }
  /** Validated `Info`s received from some peer. */
  | { readonly type: 'peers'; readonly infos: readonly InfoLike[] };

/**
 * The tracker's handle, held by the spawner, the peer actors, the dialer, the listener and the
 * oracle. Every method returns at once: the mailbox is reliable (never drops while the tracker
 * runs), and requests resolve `undefined` once the tracker has stopped.
 */
export class Mailbox extends MailboxBase<TrackedPeers> {
  readonly #sender: Sender<Message>;

  /** @internal Made by the tracker actor's `create`. */
  constructor(sender: Sender<Message>) {
    super(sender);
    this.#sender = sender;
  }

  // ---------- Spawner ----------

  /**
   * Reports that `peer`'s reserved connection is up (`dialer`: we dialed it). Resolves our own
   * signed `Info` (the greeting to send), or `undefined` if the peer is no longer eligible or
   * the tracker has stopped: the caller then closes the connection. `generation` names the
   * reservation the connection holds (a connection whose reservation was superseded is refused).
   */
  connect(
    peer: PublicKey,
    control: PeerControl,
    dialer: boolean,
    generation?: number,
  ): Promise<InfoLike | undefined> {
    return this.#sender.request(connectMessage(peer, control, dialer, generation));
  }

  // ---------- Peer actor ----------

  /** Asks for a `BitVec` to send `peer`; the tracker answers on `peer`'s control (or kills it). */
  construct(peer: PublicKey): Feedback {
    return this.#sender.enqueue({ type: 'construct', peer });
  }

  /** Hands over `peer`'s `BitVec`; the tracker answers on `peer`'s control (or kills it). */
  bitVec(peer: PublicKey, bitVec: BitVec): Feedback {
    return this.#sender.enqueue({ type: 'bitVec', peer, bitVec });
  }

  /** Hands over `Info`s received from a peer, already validated by the peer actor. */
  peers(infos: readonly InfoLike[]): Feedback {
    const feedback = this.#sender.enqueue({ type: 'peers', infos });
    this.notifyChanged();
    return feedback;
  }
}
