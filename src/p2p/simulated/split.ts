/**
 * Split routing for Byzantine "twins" tests (commonware `simulated` `Sender::split_with`,
 * `Receiver::split_with`): one identity, two instances of the application, and the test decides
 * which twin each message comes from and goes to.
 *
 * {@link splitSender} gives each twin a sender over the peer's one channel registration;
 * the `forwarder` sees which twin is sending and may narrow or redirect the recipients (or drop
 * the message). {@link splitReceiver} reads the peer's receiver and routes each message, by
 * what the `router` says, to the primary twin, the secondary, both or neither. Both work over
 * any network's `Sender`/`Receiver`; on the simulated network they are how an equivocating peer
 * shows different peers different messages.
 *
 * @module
 */

import { mailbox, unreliable } from '../../actor/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import type { Context } from '../../runtime/context.js';
import { type ChannelMessage, Receiver, type Sender } from '../authenticated/channels.js';
import type { Recipients } from '../types.js';

/** Which twin a message comes from. */
export type SplitOrigin = 'primary' | 'secondary';

/** Which twin(s) an incoming message goes to. */
export type SplitTarget = 'none' | 'primary' | 'secondary' | 'both';

/**
 * Decides where a twin's message goes: the recipients to send to (the ones asked for, others, or
 * a subset), or `undefined` to drop it.
 */
export type SplitForwarder = (
  origin: SplitOrigin,
  recipients: Recipients,
  message: Uint8Array,
) => Recipients | undefined;

/** Decides which twin receives an incoming `[from, message]`. */
export type SplitRouter = (message: ChannelMessage) => SplitTarget;

/**
 * One twin's sender: the same `send` and `clone` as a channel {@link Sender}, with the
 * forwarder applied first.
 */
export class SplitSender {
  /** The channel this sender writes to. */
  readonly channel: number;
  /** Which twin this is. */
  readonly origin: SplitOrigin;
  readonly #inner: Sender;
  readonly #forwarder: SplitForwarder;

  /** @internal Made by {@link splitSender}. */
  constructor(origin: SplitOrigin, inner: Sender, forwarder: SplitForwarder) {
    this.channel = inner.channel;
    this.origin = origin;
    this.#inner = inner;
    this.#forwarder = forwarder;
  }

  /**
   * Sends as {@link Sender.send} does, to the recipients the forwarder chose (`[]` if it
   * dropped the message).
   *
   * @throws P2PError `MessageTooLarge` as the underlying sender does.
   */
  send(recipients: Recipients, message: Uint8Array, priority: boolean): PublicKey[] {
    const to = this.#forwarder(this.origin, recipients, message);
    return to === undefined ? [] : this.#inner.send(to, message, priority);
  }

  /** A sender for the same twin sharing the underlying rate limiter. */
  clone(): SplitSender {
    return new SplitSender(this.origin, this.#inner.clone(), this.#forwarder);
  }
}

/** The primary and secondary twins' senders over `sender`. */
export function splitSender(sender: Sender, forwarder: SplitForwarder): [SplitSender, SplitSender] {
  return [
    new SplitSender('primary', sender, forwarder),
    new SplitSender('secondary', sender.clone(), forwarder),
  ];
}

/**
 * The primary and secondary twins' receivers over `receiver`: a task under `ctx` (label
 * `split`) reads `receiver` and queues each message for the twin(s) `router` names. Each twin's
 * queue holds `capacity` messages (default 1,024); a message for a full queue is dropped for
 * that twin. Both end (reject with `NetworkClosed`) when `receiver` ends or `ctx` stops.
 */
export function splitReceiver(
  ctx: Context,
  receiver: Receiver,
  router: SplitRouter,
  capacity = 1024,
): [Receiver, Receiver] {
  const [primaryTx, primary] = mailbox<ChannelMessage>(capacity, unreliable());
  const [secondaryTx, secondary] = mailbox<ChannelMessage>(capacity, unreliable());
  ctx.spawn('split', async (task) => {
    try {
      for (;;) {
        const m = await receiver.recv({ signal: task.signal });
        const target = router(m);
        if (target === 'primary' || target === 'both') primaryTx.enqueue(m);
        if (target === 'secondary' || target === 'both') secondaryTx.enqueue(m);
      }
    } catch {
      // The receiver ended (NetworkClosed) or the task stopped: both twins end.
    } finally {
      primary.close();
      secondary.close();
    }
  });
  return [new Receiver(receiver.channel, primary), new Receiver(receiver.channel, secondary)];
}
