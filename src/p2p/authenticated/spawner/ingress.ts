import type { Feedback, Sender } from '../../../actor/index.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import type { PeerConnection } from '../peer/protocol.js';

/** What the spawner needs from a reservation: an idempotent release (the tracker's `Reservation`). */
export interface Releasable {
  release(): void;
  /**
   * Which reservation of the peer's record this is, and the record's key object (the tracker's
   * `Reservation` has both).
   */
  readonly metadata?: { readonly generation?: number; readonly publicKey?: PublicKey };
}

/** The spawner's only message (upstream `spawner/ingress.rs`). */
export type Message = {
  readonly type: 'spawn';
  readonly connection: PeerConnection;
  readonly reservation: Releasable;
  /** Whether we dialed the connection (false: the listener accepted it). */
  readonly dialer: boolean;
};

/** The spawner's handle, held by the dialer and the listener. */
export class Mailbox {
  readonly #sender: Sender<Message>;

  /** @internal Made by `Spawner.create`. */
  constructor(sender: Sender<Message>) {
    this.#sender = sender;
  }

  /**
   * Hands an authenticated connection, and the reservation that admitted it, to the spawner.
   * Never waits. If the spawner is full (`'dropped'`) or stopped (`'closed'`), the reservation is
   * released and the connection closed here: a connection that would sit in a backlog would time
   * out anyway (upstream rationale).
   */
  spawn(connection: PeerConnection, reservation: Releasable, dialer: boolean): Feedback {
    const feedback = this.#sender.enqueue({ type: 'spawn', connection, reservation, dialer });
    if (feedback === 'dropped' || feedback === 'closed') {
      connection.connection.close();
      reservation.release();
    }
    return feedback;
  }
}
