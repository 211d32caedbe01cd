import type { Feedback, Responder, RingInbox, Sender } from '../../../../actor/index.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import type {
  AddressableTrackedPeers,
  PeerAddress,
  PeerSetUpdate,
  TrackedPeers,
} from '../../../types.js';
import type { Dialable, DialReservation, ListenerAllowList } from './directory.js';
import type { Metadata } from './metadata.js';
import type { Reservation } from './reservation.js';

/**
 * What the tracker holds for a connected peer: a way to end its connection. The lookup peer
 * actor's control `Mailbox` implements it; `kill` never waits and is idempotent.
 */
export interface PeerControl {
  kill(): void;
}

/**
 * The tracker's end of a peer-set subscription. `push` returns false once the consumer has gone
 * (the tracker then forgets it); `end` tells the consumer no more updates will come.
 */
export interface Subscriber {
  push(update: PeerSetUpdate): boolean;
  end(): void;
}

/** The messages the tracker handles (upstream `lookup/actors/tracker/ingress.rs`). */
export type Message =
  // ---------- Used by the oracle (the application) ----------
  /** Track a new peer set (index must exceed every retained index). */
  | { readonly type: 'register'; readonly index: number; readonly peers: AddressableTrackedPeers }
  /** Replace the addresses of already-tracked peers. */
  | { readonly type: 'overwrite'; readonly peers: readonly PeerAddress[] }
  /** The peers tracked at `index`. */
  | {
      readonly type: 'peerSet';
      readonly index: number;
      readonly responder: Responder<TrackedPeers>;
    }
  /** Keep `subscriber` informed of peer-set changes (latest update first). */
  | { readonly type: 'subscribe'; readonly subscriber: Subscriber }
  /** Disconnect and refuse `peer` for `blockDurationMs`. */
  | { readonly type: 'block'; readonly peer: PublicKey }
  // ---------- Used by the spawner ----------
  /** A reserved peer's connection is up; `control` ends it. */
  | { readonly type: 'connect'; readonly peer: PublicKey; readonly control: PeerControl }
  // ---------- Used by the dialer ----------
  /** The peers that may be dialed now, and when to ask again. */
  | { readonly type: 'dialable'; readonly responder: Responder<Dialable> }
  /** Reserve `peer` for an outbound dial. */
  | {
      readonly type: 'dial';
      readonly peer: PublicKey;
      readonly responder: Responder<DialReservation>;
    }
  // ---------- Used by the listener ----------
  /** May an inbound handshake claiming `peer`, from `sourceIp`, proceed? */
  | {
      readonly type: 'acceptable';
      readonly peer: PublicKey;
      readonly sourceIp: string;
      readonly responder: Responder<boolean>;
    }
  /** Reserve `peer` for an inbound connection from `sourceIp` (after its handshake). */
  | {
      readonly type: 'listen';
      readonly peer: PublicKey;
      readonly sourceIp: string;
      readonly responder: Responder<Reservation>;
    }
  // ---------- Used by reservations ----------
  /** A reservation ended (sent by `Reservation.release`). */
  | { readonly type: 'release'; readonly metadata: Metadata };

/**
 * The tracker's handle, held by the spawner, the dialer, the listener and the oracle. Every
 * method returns at once: the mailbox is reliable (never drops while the tracker runs), and
 * requests resolve `undefined` once the tracker has stopped.
 */
export class Mailbox {
  readonly #sender: Sender<Message>;
  readonly #allowList: RingInbox<ListenerAllowList>;

  /** @internal Made by the tracker actor's `create`. */
  constructor(sender: Sender<Message>, allowList: RingInbox<ListenerAllowList>) {
    this.#sender = sender;
    this.#allowList = allowList;
  }

  // ---------- Spawner ----------

  /**
   * Reports that `peer`'s reserved connection is up. Fire-and-forget: the tracker calls
   * `control.kill()` if the peer is no longer eligible or its reservation went stale (its address
   * changed during the handshake).
   */
  connect(peer: PublicKey, control: PeerControl): Feedback {
    return this.#sender.enqueue({ type: 'connect', peer, control });
  }

  // ---------- Dialer ----------

  /** The peers dialable now (sorted) and when to ask again; `undefined` once stopped. */
  dialable(): Promise<Dialable | undefined> {
    return this.#sender.request((responder) => ({ type: 'dialable', responder }));
  }

  /** A dial reservation for `peer` and its ingress, or `undefined` if it may not be dialed now. */
  dial(peer: PublicKey): Promise<DialReservation | undefined> {
    return this.#sender.request((responder) => ({ type: 'dial', peer, responder }));
  }

  // ---------- Listener ----------

  /** Whether an inbound handshake claiming `peer` from `sourceIp` may continue (false once stopped). */
  async acceptable(peer: PublicKey, sourceIp: string): Promise<boolean> {
    const ok = await this.#sender.request<boolean>((responder) => ({
      type: 'acceptable',
      peer,
      sourceIp,
      responder,
    }));
    return ok === true;
  }

  /** A listener reservation for the authenticated `peer` connecting from `sourceIp`, or `undefined`. */
  listen(peer: PublicKey, sourceIp: string): Promise<Reservation | undefined> {
    return this.#sender.request((responder) => ({ type: 'listen', peer, sourceIp, responder }));
  }

  /**
   * The listener's allow-list: a ring (capacity 1, latest wins) of the egress IPs inbound
   * connections may come from, and whether any IP is admitted (a peer with a `named` address is
   * eligible). The tracker pushes a fresh list whenever it may have changed. There
   * is one ring per tracker; hand it to exactly one listener.
   */
  listenerAllowList(): RingInbox<ListenerAllowList> {
    return this.#allowList;
  }

  // ---------- Reservations ----------

  /** Ends the reservation described by `metadata` (what `Reservation.release` calls). */
  release(metadata: Metadata): Feedback {
    return this.#sender.enqueue({ type: 'release', metadata });
  }

  // ---------- Oracle ----------

  /** Tracks `peers` at `index` (already validated by the caller). */
  register(index: number, peers: AddressableTrackedPeers): Feedback {
    return this.#sender.enqueue({ type: 'register', index, peers });
  }

  /** Replaces the addresses of already-tracked peers. */
  overwrite(peers: readonly PeerAddress[]): Feedback {
    return this.#sender.enqueue({ type: 'overwrite', peers });
  }

  /** Blocks `peer` (disconnects it and refuses it for `blockDurationMs`). */
  block(peer: PublicKey): Feedback {
    return this.#sender.enqueue({ type: 'block', peer });
  }

  /** The peers tracked at `index`, or `undefined` if not retained (or stopped). */
  peerSet(index: number): Promise<TrackedPeers | undefined> {
    return this.#sender.request((responder) => ({ type: 'peerSet', index, responder }));
  }

  /** Registers `subscriber`; if the tracker has stopped, ends it at once. */
  subscribe(subscriber: Subscriber): Feedback {
    const feedback = this.#sender.enqueue({ type: 'subscribe', subscriber });
    if (feedback === 'closed') subscriber.end();
    return feedback;
  }

  /** True once the tracker has stopped. */
  get isClosed(): boolean {
    return this.#sender.isClosed;
  }
}
