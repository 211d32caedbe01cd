import {
  byMessage,
  type Feedback,
  type RingInbox,
  type RingSender,
  ring,
  type Sender,
} from '../../../actor/index.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Recipients } from '../../types.js';
import type { Relay } from '../relay.js';

/** A sorted (byte order) snapshot of the connected peers. */
export type PeerSnapshot = readonly PublicKey[];

/** The messages the router handles (upstream `router/ingress.rs`). */
export type Message =
  // ---------- Used by the spawner (peer lifecycle) ----------
  /** A peer connected: route to it through `relay` (replacing any previous relay). */
  | { readonly type: 'ready'; readonly peer: PublicKey; readonly relay: Relay }
  /** A peer disconnected (`reason`: why, if known); if `relay` is given, only that relay is removed. */
  | {
      readonly type: 'release';
      readonly peer: PublicKey;
      readonly relay: Relay | undefined;
      readonly reason?: string;
    }
  // ---------- Used by channel senders ----------
  /** Fan an encoded payload out to the connected `recipients`. */
  | {
      readonly type: 'content';
      readonly recipients: Recipients;
      readonly encoded: Uint8Array;
      readonly priority: boolean;
    }
  /** Keep `sender` informed of the connected peers (current snapshot first). */
  | { readonly type: 'subscribePeers'; readonly sender: RingSender<PeerSnapshot> };

/**
 * The router mailbox's overflow policy (reference section 9): when the bounded queue is full,
 * `content` is rejected (the channel sender then reports `[]`), while lifecycle and subscription
 * messages are always retained, so connection bookkeeping is never lost under load.
 */
export const routerPolicy = byMessage<Message>((m) => (m.type === 'content' ? 'reject' : 'retain'));

/** Started/stopped state shared by the router actor and its mailbox. @internal */
export interface RouterState {
  started: boolean;
  /**
   * While the router runs and is idle (nothing queued, not inside a batch), its fan-out, called
   * by {@link Mailbox.content} in the sender's turn instead of a queued message and a wake-up:
   * the same relays, at the same point in the mailbox's order (nothing is ahead of it).
   * `undefined` while the router is not running.
   */
  direct: DirectFanOut | undefined;
}

/** The router's synchronous fan-out, for {@link RouterState.direct}. @internal */
export interface DirectFanOut {
  /** Whether nothing is queued or being handled, so a payload may skip the queue. */
  idle(): boolean;
  /** Sends to each connected recipient's relay now (the router's own fan-out). */
  fanOut(recipients: Recipients, encoded: Uint8Array, priority: boolean): void;
}

/** The router's handle, held by the spawner (lifecycle) and by the channels (content). */
export class Mailbox {
  readonly #sender: Sender<Message>;
  readonly #state: RouterState;

  /** @internal Made by the router actor's `create`. */
  constructor(sender: Sender<Message>, state: RouterState) {
    this.#sender = sender;
    this.#state = state;
  }

  /** Registers (or replaces) the relay of a connected peer and notifies peer subscribers. */
  ready(peer: PublicKey, relay: Relay): Feedback {
    return this.#sender.enqueue({ type: 'ready', peer, relay });
  }

  /**
   * Forgets a disconnected peer and notifies peer subscribers. With `relay`, the entry is
   * removed only if it still holds that relay (a newer connection's relay is kept). `reason`
   * (why the connection ended) is passed on to the `'disconnected'` event.
   */
  release(peer: PublicKey, relay?: Relay, reason?: string): Feedback {
    return this.#sender.enqueue(
      reason === undefined
        ? { type: 'release', peer, relay }
        : { type: 'release', peer, relay, reason },
    );
  }

  /**
   * Asks the router to deliver `encoded` (a complete payload, never mutated afterwards) to the
   * connected `recipients`. Never waits. `'dropped'` means the router is overloaded and the
   * message was rejected; `'closed'` that the router has stopped. Before the router starts the
   * message is accepted (`'ok'`) and discarded, as upstream's unbound `Messenger` does.
   *
   * When the router is idle (its queue empty, no batch being handled) the payload is fanned out
   * to the relays at once, in this call: the order is the same as through the queue, and it
   * saves the router a wake-up per message (one actor hand-off less on every send).
   */
  content(recipients: Recipients, encoded: Uint8Array, priority: boolean): Feedback {
    const state = this.#state;
    const direct = state.direct;
    if (direct?.idle()) {
      direct.fanOut(recipients, encoded, priority);
      return 'ok';
    }
    if (!state.started && !this.#sender.isClosed) return 'ok';
    return this.#sender.enqueue({ type: 'content', recipients, encoded, priority });
  }

  /**
   * A ring receiver (capacity 1, latest wins) of sorted snapshots of the connected peers. The
   * current snapshot arrives as soon as the router handles the subscription, then one per
   * change. Close the receiver to unsubscribe. If the router has stopped, the receiver is closed.
   */
  subscribePeers(): RingInbox<PeerSnapshot> {
    const [sender, receiver] = ring<PeerSnapshot>(1);
    if (this.#sender.enqueue({ type: 'subscribePeers', sender }) === 'closed') receiver.close();
    return receiver;
  }
}
