/**
 * The messages and mailbox methods both trackers share (commonware `tracker/ingress.rs` of
 * `discovery` and `lookup`): the oracle's `register`/`peerSet`/`subscribe`/`block`, the dialer's
 * `dialable`/`dial`, the listener's `acceptable`/`listen`, and `release` from reservations.
 * A flavour's message union adds its own variants and its `Mailbox` extends {@link MailboxBase}.
 *
 * @module
 */

import {
  type Feedback,
  type Inbox,
  mailbox,
  type Responder,
  reliable,
  type Sender,
} from '../../../actor/index.js';
import { Waiters } from '../../../actor/waiters.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import type { PeerSetUpdate, TrackedPeers } from '../../types.js';
import type { Metadata } from './metadata.js';
import type { DirectoryMetrics } from './metrics.js';
import type { Reservation } from './reservation.js';
import type { TrackerStatus } from './status.js';
import type { Dialable, DialReservation } from './types.js';

/**
 * The tracker's end of a peer-set subscription. `push` returns false once the consumer has gone
 * (the tracker then forgets it); `end` tells the consumer no more updates will come.
 */
export interface Subscriber {
  push(update: PeerSetUpdate): boolean;
  end(): void;
}

/** What the tracker needs of any peer's control handle: a way to end the connection. */
export interface Killable {
  /** Ends the connection. Never waits; idempotent. */
  kill(): void;
}

/**
 * The messages both trackers handle alike. `P` is what a registration carries (lookup: peers
 * with addresses; discovery: bare keys).
 */
export type SharedMessage<P> =
  // ---------- Used by the oracle (the application) ----------
  /** Track a new peer set (index must exceed every retained index). */
  | { readonly type: 'register'; readonly index: number; readonly peers: P }
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
  /** A snapshot of the retained sets and of the peers at `[offset, offset + limit)`. */
  | {
      readonly type: 'status';
      readonly offset: number;
      readonly limit: number;
      readonly responder: Responder<TrackerStatus>;
    }
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

/** The `type` of every {@link SharedMessage}. */
export const SHARED_TYPES: ReadonlySet<string> = new Set([
  'register',
  'peerSet',
  'subscribe',
  'block',
  'status',
  'dialable',
  'dial',
  'acceptable',
  'listen',
  'release',
]);

/**
 * The mailbox methods both trackers have. Every method returns at once: the mailbox is reliable
 * (never drops while the tracker runs), and requests resolve `undefined` once it has stopped.
 */
/**
 * The spawner's `connect` message of either flavour, for `request`: the connection's control,
 * whether we dialed it, the generation of its reservation, and where to answer.
 */
export function connectMessage<C, R>(
  peer: PublicKey,
  control: C,
  dialer: boolean,
  generation: number | undefined,
): (responder: Responder<R>) => {
  readonly type: 'connect';
  readonly peer: PublicKey;
  readonly control: C;
  readonly dialer: boolean;
  readonly generation: number | undefined;
  readonly responder: Responder<R>;
} {
  return (responder) => ({ type: 'connect', peer, control, dialer, generation, responder });
}

export class MailboxBase<P> {
  readonly #sender: Sender<SharedMessage<P>>;
  // Settled whenever a message that may make a peer dialable is sent (a registration, an
  // address learned or changed), so an idle dialer asks again at once instead of at its next
  // poll (up to `peerConnectionCooldownMs` away).
  readonly #changed = new Waiters();

  /** @internal Made by a tracker actor's `create`. */
  constructor(sender: Sender<SharedMessage<P>>) {
    this.#sender = sender;
  }

  // ---------- Dialer ----------

  /** The peers dialable now (sorted) and when to ask again; `undefined` once stopped. */
  dialable(): Promise<Dialable | undefined> {
    return this.#sender.request((responder) => ({ type: 'dialable', responder }));
  }

  /**
   * Resolves (true) when something was sent that may make a peer dialable: the dialer's wake-up.
   * Non-consuming: every call before the next change gets the same promise. A `dialable` sent
   * after it resolves is handled after the change.
   */
  changed(): Promise<boolean> {
    return this.#changed.wait(undefined);
  }

  /** Wakes whoever waits on {@link changed} (after enqueueing the change). */
  protected notifyChanged(): void {
    this.#changed.settleAll(true);
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

  // ---------- Reservations ----------

  /** Ends the reservation described by `metadata` (what `Reservation.release` calls). */
  release(metadata: Metadata): Feedback {
    return this.#sender.enqueue({ type: 'release', metadata });
  }

  // ---------- Oracle ----------

  /** Tracks `peers` at `index` (already validated by the caller). */
  register(index: number, peers: P): Feedback {
    const feedback = this.#sender.enqueue({ type: 'register', index, peers });
    this.notifyChanged();
    return feedback;
  }

  /** Blocks `peer` (disconnects it and refuses it for `blockDurationMs`). */
  block(peer: PublicKey): Feedback {
    return this.#sender.enqueue({ type: 'block', peer });
  }

  /** The peers tracked at `index`, or `undefined` if not retained (or stopped). */
  peerSet(index: number): Promise<TrackedPeers | undefined> {
    return this.#sender.request((responder) => ({ type: 'peerSet', index, responder }));
  }

  /**
   * The retained sets and one page of peers (`offset`, at most `limit`, in the directory's order:
   * records by their key's first hex digit, first seen first within one, then blocked keys
   * without a record); `undefined` once stopped. Handled in
   * turn with every other message, so it costs the tracker the page (plus skipping `offset`
   * entries), never the whole directory.
   */
  status(offset: number, limit: number): Promise<TrackerStatus | undefined> {
    return this.#sender.request((responder) => ({ type: 'status', offset, limit, responder }));
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

/**
 * A tracker's mailbox (both flavours): reliable, so messages sent before the tracker starts are
 * queued and the oracle works at once; overflow is retained and counted in `mailbox_backoff`.
 *
 * @throws RangeError if `size` is not a positive safe integer.
 */
export function trackerMailbox<M>(size: number, metrics?: DirectoryMetrics): [Sender<M>, Inbox<M>] {
  const backoff = metrics?.mailboxBackoff;
  return mailbox<M>(
    size,
    reliable(),
    backoff === undefined ? {} : { onBackoff: () => backoff.inc() },
  );
}
