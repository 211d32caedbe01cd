/**
 * Sub-channels over one channel (commonware `p2p/src/utils/mux.rs`).
 *
 * Every message on the parent channel is `varint(subchannel) || payload` (an unsigned LEB128
 * u64, the project codec's `varU64Number`). The {@link Muxer} task reads the parent receiver and
 * routes each payload to the mailbox of its sub-channel:
 *
 * - a registered sub-channel gets it in a bounded mailbox of `mailboxSize` messages; when that
 *   mailbox is full the NEW message is dropped and counted in `dropped{subchannel}` (the muxer
 *   never waits on a slow consumer, so one sub-channel cannot stall the others);
 * - an unknown sub-channel goes to the backup receiver when the muxer was created with
 *   `backup: true` (same bound and drop rule, counted as `dropped{subchannel="backup"}`), and is
 *   otherwise dropped and counted in `unrouted`;
 * - a message whose prefix does not parse (truncated, non-canonical, or a sub-channel above
 *   2^53 - 1) is dropped and counted in `invalid`.
 *
 * Closing a {@link SubReceiver} deregisters its sub-channel (messages for it are then unknown).
 * When the parent receiver ends (the network stopped) or the muxer is stopped, every sub-channel
 * and the backup receiver reject `recv` with `P2PError('NetworkClosed')`.
 *
 * @module
 */

import { type Inbox, mailbox, unreliable } from '../../actor/index.js';
import { CodecError, encode, Reader, varU64Number } from '../../codec/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import type { Context, Counter, Handle } from '../../runtime/context.js';
import type { ChannelMessage } from '../authenticated/channels.js';
import { Receiver } from '../authenticated/receiver.js';
import { P2PError } from '../errors.js';
import type { Recipients } from '../types.js';
import type { ChannelReceiver, ChannelSender } from './types.js';

/** A message of the backup channel: the unknown sub-channel, the sender and the payload. */
export type BackupMessage = [subchannel: number, from: PublicKey, message: Uint8Array];

/** Configuration of a {@link Muxer}. */
export interface MuxerConfig {
  /** Capacity, in messages, of each sub-channel's mailbox and of the backup channel. */
  readonly mailboxSize: number;
  /** Route messages for unregistered sub-channels to {@link Muxer.backup}. Default `false`. */
  readonly backup?: boolean;
}

/** Checks a sub-channel number: a non-negative safe integer. */
function checkSubchannel(subchannel: number): void {
  if (!Number.isSafeInteger(subchannel) || subchannel < 0) {
    throw new P2PError(
      'InvalidChannel',
      `sub-channel must be a non-negative safe integer, got ${subchannel}`,
    );
  }
}

/** `varint(subchannel) || payload`. */
function frame(prefix: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + payload.length);
  out.set(prefix, 0);
  out.set(payload, prefix.length);
  return out;
}

/**
 * Splits a parent message into its sub-channel and payload (a view, no copy).
 *
 * @throws CodecError if the prefix is not a canonical varint of at most 2^53 - 1.
 */
export function parse(message: Uint8Array): [subchannel: number, payload: Uint8Array] {
  const r = new Reader(message);
  const subchannel = varU64Number.read(r);
  return [subchannel, message.subarray(r.offset)];
}

/** Sends on one sub-channel: each payload is prefixed with the sub-channel's varint. */
export class SubSender {
  /** The sub-channel this sender writes to. */
  readonly subchannel: number;
  /** The same as {@link SubSender.subchannel} (so a sub-channel can be wrapped like a channel). */
  readonly channel: number;
  readonly #parent: ChannelSender;
  readonly #prefix: Uint8Array;

  /** @internal Made by {@link Muxer.register}. */
  constructor(parent: ChannelSender, subchannel: number) {
    this.#parent = parent;
    this.subchannel = subchannel;
    this.channel = subchannel;
    this.#prefix = encode(varU64Number, subchannel);
  }

  /**
   * Sends `payload` on this sub-channel; returns the peers the parent sender will attempt.
   *
   * @throws P2PError `MessageTooLarge` if prefix plus payload exceed the network's limit.
   */
  send(recipients: Recipients, payload: Uint8Array, priority: boolean): PublicKey[] {
    return this.#parent.send(recipients, frame(this.#prefix, payload), priority);
  }
}

/** Sends on any sub-channel, registered or not (commonware `GlobalSender`). */
export class GlobalSender {
  readonly #parent: ChannelSender;

  /** @internal Made by {@link Muxer.globalSender}. */
  constructor(parent: ChannelSender) {
    this.#parent = parent;
  }

  /**
   * Sends `payload` on `subchannel`; returns the peers the parent sender will attempt.
   *
   * @throws P2PError `InvalidChannel` for a bad sub-channel number, `MessageTooLarge` as the
   *   parent sender does.
   */
  send(
    subchannel: number,
    recipients: Recipients,
    payload: Uint8Array,
    priority: boolean,
  ): PublicKey[] {
    checkSubchannel(subchannel);
    return this.#parent.send(
      recipients,
      frame(encode(varU64Number, subchannel), payload),
      priority,
    );
  }
}

/** Receives on one sub-channel; {@link SubReceiver.close} deregisters it. */
export class SubReceiver extends Receiver<ChannelMessage> {
  readonly #inbox: Inbox<ChannelMessage>;

  /** @internal Made by {@link Muxer.register}. */
  constructor(subchannel: number, inbox: Inbox<ChannelMessage>) {
    super(subchannel, inbox);
    this.#inbox = inbox;
  }

  /**
   * Deregisters the sub-channel: queued messages are discarded, `recv` rejects with
   * `NetworkClosed`, and later messages for it are treated as unknown. Idempotent.
   */
  close(): void {
    this.#inbox.close();
  }
}

/** One registered sub-channel. */
interface Route {
  readonly inbox: Inbox<ChannelMessage>;
  deliver(message: ChannelMessage): 'ok' | 'dropped' | 'closed';
}

/**
 * Multiplexes one channel's sender and receiver into sub-channels. Create it, register the
 * sub-channels, and {@link Muxer.start} it; sub-channels may also be registered later.
 *
 * @example
 * ```ts
 * const [sender, receiver] = network.register(0, Quota.perSecond(1000));
 * const muxer = Muxer.create(ctx.child('mux'), sender, receiver, { mailboxSize: 64 });
 * const [votes, voteInbox] = muxer.register(1);
 * const [blocks, blockInbox] = muxer.register(2);
 * const handle = muxer.start();
 * votes.send(Recipients.all(), vote, true);
 * const [from, message] = await blockInbox.recv();
 * ```
 */
export class Muxer {
  /** The parent channel number. */
  readonly channel: number;
  readonly #ctx: Context;
  readonly #sender: ChannelSender;
  readonly #receiver: ChannelReceiver;
  readonly #mailboxSize: number;
  readonly #routes = new Map<number, Route>();
  readonly #backup: { inbox: Inbox<BackupMessage>; receiver: Receiver<BackupMessage> } | undefined;
  readonly #deliverBackup: ((m: BackupMessage) => void) | undefined;
  readonly #dropped: Counter;
  readonly #unrouted: Counter;
  readonly #invalid: Counter;
  #handle: Handle<void> | undefined;
  #closed = false;

  /**
   * A muxer over `sender` and `receiver` (one channel of any network). Metrics are registered
   * under `ctx` (give it a child context of its own, e.g. `ctx.child('mux')`).
   *
   * @throws P2PError `InvalidConfig` if `mailboxSize` is not a positive safe integer.
   */
  static create(
    ctx: Context,
    sender: ChannelSender,
    receiver: ChannelReceiver,
    config: MuxerConfig,
  ): Muxer {
    return new Muxer(ctx, sender, receiver, config);
  }

  private constructor(
    ctx: Context,
    sender: ChannelSender,
    receiver: ChannelReceiver,
    config: MuxerConfig,
  ) {
    if (!Number.isSafeInteger(config.mailboxSize) || config.mailboxSize < 1) {
      throw new P2PError(
        'InvalidConfig',
        `mailboxSize must be a positive integer, got ${config.mailboxSize}`,
      );
    }
    this.channel = receiver.channel;
    this.#ctx = ctx;
    this.#sender = sender;
    this.#receiver = receiver;
    this.#mailboxSize = config.mailboxSize;
    this.#dropped = ctx.metrics.counter(
      'dropped',
      'Messages dropped because their sub-channel mailbox was full',
      ['subchannel'],
    );
    this.#unrouted = ctx.metrics.counter(
      'unrouted',
      'Messages for an unregistered sub-channel dropped (no backup channel)',
    );
    this.#invalid = ctx.metrics.counter(
      'invalid',
      'Messages dropped because their sub-channel prefix did not parse',
    );
    if (config.backup === true) {
      const [tx, inbox] = mailbox<BackupMessage>(config.mailboxSize, unreliable());
      this.#backup = { inbox, receiver: new Receiver(this.channel, inbox) };
      const labels = { subchannel: 'backup' };
      this.#deliverBackup = (m) => {
        if (tx.enqueue(m) === 'dropped') this.#dropped.inc(labels);
      };
    }
  }

  /**
   * Registers `subchannel` and returns its sender and receiver. A sub-channel whose receiver was
   * closed may be registered again.
   *
   * @throws P2PError `InvalidChannel` for a bad number, `DuplicateChannel` if it is registered
   *   (and its receiver open), `NetworkClosed` once the muxer has stopped.
   */
  register(subchannel: number): [SubSender, SubReceiver] {
    checkSubchannel(subchannel);
    if (this.#closed) throw new P2PError('NetworkClosed', 'the muxer has stopped');
    const existing = this.#routes.get(subchannel);
    if (existing !== undefined && !existing.inbox.isClosed) {
      throw new P2PError('DuplicateChannel', `sub-channel ${subchannel} is already registered`);
    }
    const [tx, inbox] = mailbox<ChannelMessage>(this.#mailboxSize, unreliable());
    const labels = { subchannel };
    const dropped = this.#dropped;
    this.#routes.set(subchannel, {
      inbox,
      deliver(message) {
        const feedback = tx.enqueue(message);
        if (feedback === 'dropped') dropped.inc(labels);
        return feedback === 'backoff' ? 'ok' : feedback;
      },
    });
    return [new SubSender(this.#sender, subchannel), new SubReceiver(subchannel, inbox)];
  }

  /** A sender for any sub-channel (commonware `with_global_sender`). */
  globalSender(): GlobalSender {
    return new GlobalSender(this.#sender);
  }

  /**
   * The backup channel: messages for sub-channels nobody registered, as
   * `[subchannel, from, payload]`; `undefined` unless created with `backup: true`.
   */
  get backup(): Receiver<BackupMessage> | undefined {
    return this.#backup?.receiver;
  }

  /**
   * Starts routing (task `muxer` under the muxer's context). The task ends when the parent
   * receiver ends (`NetworkClosed`) or the handle is stopped; either way every sub-channel is
   * closed. Idempotent: a second call returns the same handle.
   */
  start(): Handle<void> {
    this.#handle ??= this.#ctx.spawn('muxer', (ctx) => this.#run(ctx));
    return this.#handle;
  }

  async #run(ctx: Context): Promise<void> {
    try {
      for (;;) {
        let message: ChannelMessage;
        try {
          message = await this.#receiver.recv({ signal: ctx.signal });
        } catch (err) {
          if (ctx.signal.aborted) return;
          if (err instanceof P2PError && err.code === 'NetworkClosed') return;
          throw err;
        }
        this.#route(message[0], message[1]);
      }
    } finally {
      this.#close();
    }
  }

  /** Routes one parent message (never waits). */
  #route(from: PublicKey, message: Uint8Array): void {
    let subchannel: number;
    let payload: Uint8Array;
    try {
      [subchannel, payload] = parse(message);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      this.#invalid.inc();
      return;
    }
    const route = this.#routes.get(subchannel);
    if (route !== undefined) {
      if (route.deliver([from, payload]) !== 'closed') return;
      // The receiver was closed: the sub-channel is no longer registered.
      this.#routes.delete(subchannel);
    }
    if (this.#deliverBackup !== undefined) this.#deliverBackup([subchannel, from, payload]);
    else this.#unrouted.inc();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const route of this.#routes.values()) route.inbox.close();
    this.#routes.clear();
    this.#backup?.inbox.close();
  }
}
