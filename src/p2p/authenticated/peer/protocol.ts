/**
 * The shapes the peer harness (`actor.ts`) works with: the authenticated connection it runs,
 * where inbound data goes, and the {@link Protocol} a flavour plugs in (lookup: Ping;
 * discovery: Greeting, BitVec, Peers).
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Quota, RateLimiter } from '../../../quota/index.js';
import type { ByteReader, Context, Labels } from '../../../runtime/context.js';
import { P2PError } from '../../errors.js';
import type { InboundChannel } from '../channels.js';
import type { RelayMetrics } from '../relay.js';
import type { BoundCounter, PeerMetrics } from './metrics.js';

/** The write half of an authenticated stream (the stream module's `Sender` implements it). */
export interface StreamSender {
  /**
   * Writes each message as its own frame, in order; rejects if the connection fails. A call whose
   * frames total at most `CHUNK_SIZE` bytes is sealed before it returns, so the next call may be
   * made without awaiting it (the stream coalesces them: see `Sender.sendMany`).
   */
  sendMany(messages: readonly Uint8Array[]): Promise<void>;
}

/** The read half of an authenticated stream (the stream module's `Receiver` implements it). */
export interface StreamReceiver {
  /** Resolves with the next message; rejects once the connection fails or closes. */
  recv(): Promise<Uint8Array>;
  /**
   * The next message if it is already buffered, without a promise; `undefined` if it needs
   * `recv`. Throws what `recv` would reject with. Optional: without it every frame takes `recv`.
   */
  tryRecv?(): Uint8Array | undefined;
  /**
   * Optional: the next message at once if it is buffered, else `undefined` and then exactly one
   * of `reader.onBytes(message)` / `reader.onError(error)`, later (never from within the call).
   * Throws what `recv` would reject with at once. Without it the receive loop waits on `recv`.
   */
  poll?(reader: ByteReader): Uint8Array | undefined;
}

/** An authenticated connection handed to a peer actor. */
export interface PeerConnection {
  /** The authenticated key of the remote peer. */
  readonly peer: PublicKey;
  readonly sender: StreamSender;
  readonly receiver: StreamReceiver;
  /** The underlying connection; closed when the actor ends (which fails a pending `recv`). */
  readonly connection: { close(): void };
}

/** Where the peer actor delivers inbound data (the {@link Channels} registry implements it). */
export interface InboundRoutes {
  /** The inbound side of `channel`, or `undefined` if it is not registered. */
  inbound(channel: number): InboundChannel | undefined;
  /** The largest application payload a Data message may carry, in bytes. */
  readonly maxMessageSize: number;
}

/**
 * A gate on one kind of inbound frame of one connection: its limiter, metric labels and counter.
 * Made by {@link PeerIo.gate}; the flavour's protocol throttles its own control frames on them.
 */
export interface Gate {
  readonly limiter: RateLimiter;
  readonly labels: Labels;
  readonly received: BoundCounter;
}

/** What a flavour's {@link Protocol} may use while the connection runs. */
export interface PeerIo {
  /** The connection's context (clock, log). */
  readonly ctx: Context;
  /** The authenticated remote key. */
  readonly peer: PublicKey;
  /** The remote key in hex (metric label). */
  readonly peerHex: string;
  /** The largest application payload a Data message may carry, in bytes. */
  readonly maxMessageSize: number;
  /** A gate for frames labelled `message` (e.g. `ping`, `bit_vec`), limited by `quota`. */
  gate(message: string, quota: Quota): Gate;
  /**
   * Counts a frame on `gate`: `true` at once if its limiter grants a cell (no promise: a keep-alive
   * within quota costs no turn), else waits (counting `messages_rate_limited` once) until it does:
   * backpressure on this connection, nothing dropped. The wait resolves false if the peer ended
   * meanwhile. See {@link whenAdmitted}.
   */
  throttle(gate: Gate): true | Promise<boolean>;
  /** Counts a frame that did not decode (`messages_received{message="invalid"}`). */
  invalid(): void;
}

/** What a received non-fast-path frame turned out to be, as the flavour's protocol decoded it. */
export type Received =
  /** Application data: route it to `channel` as any data frame. */
  | { readonly channel: number; readonly message: Uint8Array }
  /** A control frame the protocol handled itself. */
  | null
  /** A protocol violation or failure: the connection ends with this reason. */
  | P2PError;

/**
 * The flavour's part of a peer actor (lookup: Ping; discovery: Greeting, BitVec, Peers). The
 * harness owns the connection, the queues, batching, data routing and throttling; a protocol
 * decides what is written besides data and what every non-data frame means.
 */
export interface Protocol {
  /** Frames written before anything else, in one write (discovery's Greeting). */
  readonly preamble: readonly Uint8Array[];
  /** The flavour's timer period in ms (lookup: ping; discovery: gossip). */
  readonly tickMs: number;
  /** Whether the first tick is due at start (discovery) or one period after it (lookup). */
  readonly tickAtStart: boolean;
  /** The `messages_sent` label of the frame {@link tick} returns. */
  readonly tickLabel: string;
  /** A tick fired: a frame to write first in the next batch, or undefined. */
  tick(): Uint8Array | undefined;
  /**
   * Whether data frames may take the fast path: false until a flavour's handshake-level message
   * has arrived (discovery's Greeting), so every frame reaches {@link receive} until then.
   */
  readonly open: boolean;
  /** Decodes and handles a frame that is not fast-path data. */
  receive(frame: Uint8Array, io: PeerIo): Received | Promise<Received>;
}

/**
 * `then()` once `admitted` (a {@link PeerIo.throttle}) is granted: at once, without a promise, when
 * it already was; `PeerDisconnected` if the peer ended while it waited.
 */
export function whenAdmitted(
  admitted: true | Promise<boolean>,
  then: () => Received,
): Received | Promise<Received> {
  if (admitted === true) return then();
  return admitted.then((ok) => (ok ? then() : new P2PError('PeerDisconnected')));
}

/** Configuration of one peer actor. */
export interface Config {
  /** Capacity of each of the relay's high and low queues, and of the control queue, in messages. */
  readonly mailboxSize: number;
  /** Most messages written with one `sendMany`. */
  readonly sendBatchSize: number;
  /** The registered channels. */
  readonly channels: InboundRoutes;
  /** Shared message counters. */
  readonly metrics: PeerMetrics;
  /** Shared relay drop counters. */
  readonly relayMetrics?: RelayMetrics;
}
