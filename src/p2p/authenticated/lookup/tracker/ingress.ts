import type { Feedback, Responder, RingInbox, Sender } from '../../../../actor/index.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import type { AddressableTrackedPeers, PeerAddress } from '../../../types.js';
import { connectMessage, MailboxBase, type SharedMessage } from '../../tracker/ingress.js';
import type { ListenerAllowList } from './directory.js';

export type { Subscriber } from '../../tracker/ingress.js';

/**
 * What the tracker holds for a connected peer: a way to end its connection. The lookup peer
 * actor's control `Mailbox` implements it; `kill` never waits and is idempotent.
 */
export interface PeerControl {
  kill(): void;
}

/**
 * The messages the tracker handles (upstream `lookup/actors/tracker/ingress.rs`): the
 * {@link SharedMessage}s of both flavours, whose registration carries an address per peer, and
 * lookup's own.
 */
export type Message =
  | SharedMessage<AddressableTrackedPeers>
  // ---------- Used by the oracle (the application) ----------
  /** Replace the addresses of already-tracked peers. */
  | { readonly type: 'overwrite'; readonly peers: readonly PeerAddress[] }
  // ---------- Used by the spawner ----------
  /** A reserved peer's connection is up; `control` ends it. */
  | {
      readonly type: 'connect';
      readonly peer: PublicKey;
      readonly control: PeerControl;
      /** Whether we dialed the connection (omitted: whoever holds the reservation). */
      readonly dialer: boolean | undefined;
      /** The generation of the reservation the connection holds (see `RecordBase`). */
      readonly generation: number | undefined;
      /** Told whether the connection was admitted (false: it was killed). */
      readonly responder?: Responder<boolean>;
    };

/**
 * The tracker's handle, held by the spawner, the dialer, the listener and the oracle. Every
 * method returns at once: the mailbox is reliable (never drops while the tracker runs), and
 * requests resolve `undefined` once the tracker has stopped.
 */
export class Mailbox extends MailboxBase<AddressableTrackedPeers> {
  readonly #sender: Sender<Message>;
  readonly #allowList: RingInbox<ListenerAllowList>;

  /** @internal Made by the tracker actor's `create`. */
  constructor(sender: Sender<Message>, allowList: RingInbox<ListenerAllowList>) {
    super(sender);
    this.#sender = sender;
    this.#allowList = allowList;
  }

  // ---------- Spawner ----------

  /**
   * Reports that `peer`'s reserved connection is up. Fire-and-forget: the tracker calls
   * `control.kill()` if the peer is no longer eligible or its reservation went stale (its address
   * changed during the handshake).
   */
  connect(peer: PublicKey, control: PeerControl, dialer?: boolean, generation?: number): Feedback {
    return this.#sender.enqueue({ type: 'connect', peer, control, dialer, generation });
  }

  /**
   * {@link connect}, resolving whether the connection was admitted (false: it was killed, or the
   * tracker has stopped). The spawner waits for it before routing to the connection, so that a
   * connection superseded by a simultaneous one never carries data.
   */
  async admit(
    peer: PublicKey,
    control: PeerControl,
    dialer: boolean,
    generation?: number,
  ): Promise<boolean> {
    const ok = await this.#sender.request(
      connectMessage<PeerControl, boolean>(peer, control, dialer, generation),
    );
    return ok === true;
  }

  // ---------- Listener ----------

  /**
   * The listener's allow-list: a ring (capacity 1, latest wins) of the egress IPs inbound
   * connections may come from, and whether any IP is admitted (a peer with a `named` address is
   * eligible). The tracker pushes a fresh list whenever it may have changed. There
   * is one ring per tracker; hand it to exactly one listener.
   */
  listenerAllowList(): RingInbox<ListenerAllowList> {
    return this.#allowList;
  }

  // ---------- Oracle ----------

  /** Replaces the addresses of already-tracked peers. */
  overwrite(peers: readonly PeerAddress[]): Feedback {
    const feedback = this.#sender.enqueue({ type: 'overwrite', peers });
    this.notifyChanged();
    return feedback;
  }
}
