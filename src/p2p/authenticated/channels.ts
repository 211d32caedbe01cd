/**
 * Application channels: the registry behind `network.register(channel, quota)` and the
 * {@link Sender} / {@link Receiver} pair it returns (commonware
 * `p2p/src/authenticated/{channels.rs, utils/limited.rs}`), shared by both flavours.
 *
 * # Outbound
 *
 * {@link Sender.send} checks the size (`MessageTooLarge` throws before anything else), keeps the
 * recipients that are connected according to the latest snapshot from the router
 * (`Recipients.all()` is that whole snapshot), then applies the channel quota per recipient with
 * a keyed GCRA limiter shared by every clone of the sender (it reads the runtime's turn clock:
 * one reading per turn, never ahead of the clock). A recipient that is not connected or
 * is rate limited is filtered out (for `one`, the send returns `[]`); the connection filter runs
 * first, so only a connected recipient consumes a cell, and it does so even if the router then
 * rejects the message. The payload is encoded once and handed to the router with the kept list.
 * The return value is "who we will attempt", not "who received": a peer that disconnects before
 * the router handles the message, or whose queue is full, loses it. Before the network starts
 * nobody is connected, so sends return `[]`; after it stops, they return `[]` and never throw.
 *
 * # Inbound
 *
 * Each channel has one inbound queue shared by all peers, of capacity `R * quota.burstSize`
 * where `R` is the retained-peer bound (`maxPeersPerSet * trackedPeerSets` for lookup). Peer
 * actors {@link InboundChannel.deliver} into it without waiting; when it is full the NEW message
 * is dropped (queued ones kept) and counted in `channel_mailbox_dropped{channel}`. The per-peer
 * inbound quota itself is enforced by the peer actor, which sleeps (backpressure on that one
 * connection) rather than dropping. After shutdown {@link Receiver.recv} rejects with
 * `P2PError('NetworkClosed')`.
 *
 * @module
 */
import { setMaxListeners } from 'node:events';

import type { Feedback } from '../../actor/index.js';
import {
  type Inbox,
  type Sender as MailboxSender,
  mailbox,
  type RingInbox,
  unreliable,
} from '../../actor/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import { KeyedRateLimiter, type Quota } from '../../quota/index.js';
import type { Context, Counter } from '../../runtime/context.js';
import { sharedTurnClock } from '../../runtime/turn.js';
import { P2PError } from '../errors.js';
import { Recipients } from '../types.js';
import { checkChannel, encodeData } from './data.js';
import { Receiver } from './receiver.js';
import type { PeerSnapshot } from './router/ingress.js';

export { Receiver } from './receiver.js';

/** A message as a receiver yields it: the authenticated sender and the payload. */
export type ChannelMessage = [from: PublicKey, message: Uint8Array];

/** What the channels need from the router (the router `Mailbox` implements it). */
export interface ContentRouter {
  /** Submits an encoded payload for the given recipients; never waits. */
  content(recipients: Recipients, encoded: Uint8Array, priority: boolean): Feedback;
  /** A ring receiver of sorted snapshots of the connected peers. */
  subscribePeers(): RingInbox<PeerSnapshot>;
}

/** Configuration of a {@link Channels} registry. */
export interface ChannelsConfig {
  /** Largest application message a sender accepts, in bytes. */
  readonly maxMessageSize: number;
  /**
   * The retained-peer bound `R` (lookup: `maxPeersPerSet * trackedPeerSets`). Each channel's
   * inbound queue holds `R * quota.burstSize` messages.
   */
  readonly retainedPeers: number;
}

/** The inbound side of one channel, as the peer actor sees it. */
export interface InboundChannel {
  /** The channel number. */
  readonly channel: number;
  /** The per-peer inbound quota for this channel. */
  readonly quota: Quota;
  /**
   * Queues `message` from `peer` for the application without waiting. Returns false if it was
   * dropped (the queue is full, counted, or the network has stopped).
   */
  deliver(peer: PublicKey, message: Uint8Array): boolean;
}

/** State shared by the registry and every sender of every channel. @internal */
interface Shared {
  readonly maxMessageSize: number;
  router: ContentRouter | undefined;
  peers: RingInbox<PeerSnapshot> | undefined;
  /** The latest snapshot of connected peers. */
  connected: PeerSnapshot;
  /**
   * The hex keys of {@link Shared.connected}, built on the first `one`/`some` send after the
   * snapshot changes (snapshots change per connection, sends happen per message).
   */
  connectedHex: ReadonlySet<string> | undefined;
  closed: boolean;
  /** `router_rejected{channel}`: sends the router's full mailbox rejected (`send` returned []). */
  readonly rejected: Counter;
}

/** One registered channel. @internal */
interface Entry extends InboundChannel {
  readonly limiter: KeyedRateLimiter<string>;
  readonly inbox: Inbox<ChannelMessage>;
}

const NO_PEERS: PeerSnapshot = Object.freeze([]);

/**
 * The registry of application channels of one network. Register every channel, then hand the
 * router to {@link Channels.start}; the network calls {@link Channels.close} when it stops.
 */
export class Channels {
  readonly #context: Context;
  readonly #retainedPeers: number;
  readonly #shared: Shared;
  readonly #entries = new Map<number, Entry>();
  readonly #dropped: Counter;
  #capacity = 0;

  /**
   * @param context - clock for the outbound limiters (read once per turn), metrics for the drop
   *   counter.
   * @throws P2PError `InvalidConfig` if a field is not a positive (safe) integer.
   */
  constructor(context: Context, config: ChannelsConfig) {
    for (const [name, v, min] of [
      ['maxMessageSize', config.maxMessageSize, 0],
      ['retainedPeers', config.retainedPeers, 1],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < min) {
        throw new P2PError('InvalidConfig', `${name} must be an integer >= ${min}, got ${v}`);
      }
    }
    this.#context = context;
    this.#retainedPeers = config.retainedPeers;
    this.#shared = {
      maxMessageSize: config.maxMessageSize,
      router: undefined,
      peers: undefined,
      connected: NO_PEERS,
      connectedHex: undefined,
      closed: false,
      rejected: context.metrics.counter(
        'router_rejected',
        'Outbound messages rejected because the router mailbox was full',
        ['channel'],
      ),
    };
    // Stopping the context that owns the channels closes them too (the network also calls
    // close() explicitly when it stops).
    if (context.signal.aborted) this.#shared.closed = true;
    else {
      // Many networks may share one parent context (tests, the demo): this listener is expected.
      setMaxListeners(0, context.signal);
      context.signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#dropped = context.metrics.counter(
      'channel_mailbox_dropped',
      'Inbound messages dropped because the channel queue was full',
      ['channel'],
    );
  }

  readonly #onAbort = (): void => this.close();

  /**
   * Registers `channel` with its rate `quota` (applied per peer, inbound and outbound) and
   * returns its sender and receiver. Memory bound: the inbound queue holds up to
   * `retainedPeers * quota.burstSize` messages of up to `maxMessageSize` bytes.
   *
   * @throws P2PError `InvalidChannel` if `channel` is not a non-negative safe integer,
   *   `DuplicateChannel` if it is already registered, `InvalidConfig` after {@link start} (or
   *   {@link close}), or if the inbound capacity is not a safe integer.
   */
  register(channel: number, quota: Quota): [Sender, Receiver] {
    checkChannel(channel);
    if (this.#shared.router !== undefined || this.#shared.closed) {
      throw new P2PError('InvalidConfig', 'channels must be registered before the network starts');
    }
    if (this.#entries.has(channel)) {
      throw new P2PError('DuplicateChannel', `channel ${channel} is already registered`);
    }
    const capacity = this.#retainedPeers * quota.burstSize;
    if (!Number.isSafeInteger(capacity) || !Number.isSafeInteger(this.#capacity + capacity)) {
      throw new P2PError('InvalidConfig', `inbound capacity of channel ${channel} is too large`);
    }
    const [tx, inbox] = mailbox<ChannelMessage>(capacity, unreliable());
    const entry = makeEntry(channel, quota, tx, inbox, this.#dropped, this.#context);
    this.#entries.set(channel, entry);
    this.#capacity += capacity;
    return [new Sender(channel, entry.limiter, this.#shared), new Receiver(channel, inbox)];
  }

  /** The inbound side of `channel`, or `undefined` if it is not registered. */
  inbound(channel: number): InboundChannel | undefined {
    return this.#entries.get(channel);
  }

  /** The registered channel numbers, in registration order. */
  channels(): number[] {
    return [...this.#entries.keys()];
  }

  /** The largest message a sender may send and a peer may deliver, in bytes. */
  get maxMessageSize(): number {
    return this.#shared.maxMessageSize;
  }

  /**
   * Sum of the inbound capacities (`R * burst` per channel). The router mailbox capacity is
   * `mailboxSize` plus this.
   */
  get capacity(): number {
    return this.#capacity;
  }

  /** True once {@link start} has been called (and until {@link close}). */
  get isStarted(): boolean {
    return this.#shared.router !== undefined;
  }

  /** True once {@link close} has been called. */
  get isClosed(): boolean {
    return this.#shared.closed;
  }

  /**
   * Binds every sender to `router` and subscribes to its connected-peer snapshots. Sends made
   * before this returned `[]`. Idempotent for the same router.
   *
   * @throws P2PError `NetworkClosed` after {@link close}; `InvalidConfig` if already bound to
   *   another router.
   */
  start(router: ContentRouter): void {
    const shared = this.#shared;
    if (shared.closed) throw new P2PError('NetworkClosed');
    if (shared.router === router) return;
    if (shared.router !== undefined) {
      throw new P2PError('InvalidConfig', 'channels are already bound to a router');
    }
    shared.router = router;
    shared.peers = router.subscribePeers();
  }

  /**
   * Shuts the channels down: senders return `[]` from then on, every receiver's pending and
   * later `recv` calls reject with `NetworkClosed` (queued messages are discarded), and peer
   * deliveries are dropped. Idempotent.
   */
  close(): void {
    const shared = this.#shared;
    if (shared.closed) return;
    shared.closed = true;
    this.#context.signal.removeEventListener('abort', this.#onAbort);
    shared.peers?.close();
    shared.peers = undefined;
    shared.connected = NO_PEERS;
    shared.connectedHex = undefined;
    for (const e of this.#entries.values()) e.inbox.close();
  }
}

function makeEntry(
  channel: number,
  quota: Quota,
  tx: MailboxSender<ChannelMessage>,
  inbox: Inbox<ChannelMessage>,
  dropped: Counter,
  context: Context,
): Entry {
  const labels = { channel };
  return {
    channel,
    quota,
    inbox,
    // The runtime's turn clock: a burst of sends in one turn reads the real clock once, not once
    // per message (a reading never ahead of the clock, so the quota can only be stricter, by at
    // most the length of the turn: the same reading the inbound limiters use).
    limiter: new KeyedRateLimiter<string>(quota, sharedTurnClock(context)),
    deliver(peer: PublicKey, message: Uint8Array): boolean {
      const feedback = tx.enqueue([peer, message]);
      if (feedback === 'dropped') dropped.inc(labels);
      return feedback === 'ok';
    },
  };
}

/** Keys retained by an outbound limiter before fully replenished ones are swept. */
const LIMITER_SWEEP = 1024;

/**
 * Sends on one channel. Clones ({@link Sender.clone}) share the outbound rate limiter, so the
 * quota per recipient holds across all of them.
 */
export class Sender {
  /** The channel this sender writes to. */
  readonly channel: number;
  readonly #limiter: KeyedRateLimiter<string>;
  readonly #shared: Shared;
  #sweepAt = LIMITER_SWEEP;

  /** @internal Made by {@link Channels.register}. */
  constructor(channel: number, limiter: KeyedRateLimiter<string>, shared: Shared) {
    this.channel = channel;
    this.#limiter = limiter;
    this.#shared = shared;
  }

  /** A sender for the same channel sharing this one's rate limiter. */
  clone(): Sender {
    return new Sender(this.channel, this.#limiter, this.#shared);
  }

  /**
   * Sends `message` to the `recipients` that are connected (per the router's latest snapshot)
   * and within the channel quota, with high (`priority = true`) or low priority, and returns the
   * peers it will be attempted to (`[]` if none, and always before the network starts). Never
   * waits; delivery is best effort (a peer that disconnects meanwhile, a full peer queue and an
   * overloaded router all drop silently).
   *
   * @throws P2PError `MessageTooLarge` if `message` is longer than `maxMessageSize` (nothing is
   *   sent and no quota is used).
   */
  send(recipients: Recipients, message: Uint8Array, priority: boolean): PublicKey[] {
    const shared = this.#shared;
    if (message.length > shared.maxMessageSize) {
      throw new P2PError(
        'MessageTooLarge',
        `message of ${message.length} bytes exceeds maxMessageSize ${shared.maxMessageSize}`,
      );
    }
    const router = shared.router;
    // Closed, or not started (nobody can be connected yet): nothing is attempted.
    if (shared.closed || router === undefined) return [];
    const allowed = this.#check(recipients);
    if (allowed.length === 0) return [];
    // A single allowed recipient needs no copy: `Recipients.one` is already frozen. Otherwise the
    // router (which runs later) gets its own frozen copy, as the caller owns `allowed`.
    const target = recipients.kind === 'one' ? recipients : Recipients.some(allowed);
    const feedback = router.content(target, encodeData(this.channel, message), priority);
    if (feedback === 'ok' || feedback === 'backoff') return allowed;
    if (feedback === 'dropped') shared.rejected.inc({ channel: this.channel });
    return [];
  }

  /**
   * The recipients that are connected and pass the quota, consuming one cell for each (upstream
   * `limited.rs` `check`, after the router's connected filter). Duplicates are checked once.
   */
  #check(recipients: Recipients): PublicKey[] {
    const limiter = this.#limiter;
    if (limiter.size >= this.#sweepAt) {
      limiter.retainRecent();
      this.#sweepAt = Math.max(LIMITER_SWEEP, limiter.size * 2);
    }
    switch (recipients.kind) {
      case 'one': {
        const pk = recipients.publicKey;
        const hex = pk.toHex();
        return this.#connectedHex().has(hex) && limiter.check(hex) === true ? [pk] : [];
      }
      case 'some':
        return checkEach(limiter, recipients.publicKeys, this.#connectedHex());
      case 'all':
        // A snapshot is sorted and free of duplicates, and every key in it is connected.
        return checkEach(limiter, this.#connected(), undefined);
      default:
        return recipients satisfies never;
    }
  }

  /** The latest connected-peer snapshot (drains the router subscription, latest wins). */
  #connected(): PeerSnapshot {
    const shared = this.#shared;
    const peers = shared.peers;
    if (peers !== undefined) {
      for (let s = peers.tryRecv(); s !== undefined; s = peers.tryRecv()) {
        shared.connected = s;
        shared.connectedHex = undefined;
      }
    }
    return shared.connected;
  }

  /** The hex keys of the latest connected-peer snapshot. */
  #connectedHex(): ReadonlySet<string> {
    const snapshot = this.#connected();
    const shared = this.#shared;
    let hex = shared.connectedHex;
    if (hex === undefined) {
      hex = new Set(snapshot.map((pk) => pk.toHex()));
      shared.connectedHex = hex;
    }
    return hex;
  }
}

/**
 * The keys of `keys` that pass `limiter`, consuming a cell for each. With `connected`, keys not
 * in it are skipped before the limiter (they use no cell) and duplicates are checked once;
 * without it, `keys` must be free of duplicates (a snapshot).
 */
function checkEach(
  limiter: KeyedRateLimiter<string>,
  keys: readonly PublicKey[],
  connected: ReadonlySet<string> | undefined,
): PublicKey[] {
  const out: PublicKey[] = [];
  const seen = connected !== undefined && keys.length > 1 ? new Set<string>() : undefined;
  for (const pk of keys) {
    const hex = pk.toHex();
    if (connected !== undefined && !connected.has(hex)) continue;
    if (seen !== undefined) {
      if (seen.has(hex)) continue;
      seen.add(hex);
    }
    if (limiter.check(hex) === true) out.push(pk);
  }
  return out;
}
