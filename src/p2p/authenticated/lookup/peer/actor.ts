import { CodecError } from '../../../../codec/index.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import { Quota } from '../../../../quota/index.js';
import { P2PError } from '../../../errors.js';
import { checkPositive, Actor as Harness } from '../../peer/actor.js';
import type { Mailbox } from '../../peer/ingress.js';
import {
  type Gate,
  type Config as HarnessConfig,
  type InboundRoutes,
  type PeerIo,
  type Protocol,
  type Received,
  whenAdmitted,
} from '../../peer/protocol.js';
import type { Relay } from '../../relay.js';
import type { PeerFlavour } from '../../spawner/index.js';
import { decodeMessage, type Message, PING_FRAME, PING_TAG } from '../types.js';

/** Configuration of one lookup peer actor. */
export interface Config extends HarnessConfig {
  /**
   * Keep-alive period in ms: a Ping is sent every `pingFrequencyMs`, and inbound Pings are
   * limited to one per `max(pingFrequencyMs / 2, 1)` ms.
   */
  readonly pingFrequencyMs: number;
}

const NO_PREAMBLE: readonly Uint8Array[] = Object.freeze([]);

/** The inbound Ping quota of `pingFrequencyMs`, one object for every connection of a period. */
let pingQuota: { readonly ms: number; readonly quota: Quota } | undefined;
function pingQuotaOf(pingFrequencyMs: number): Quota {
  if (pingQuota?.ms !== pingFrequencyMs) {
    pingQuota = {
      ms: pingFrequencyMs,
      quota: Quota.withPeriod(Math.max(pingFrequencyMs / 2, 1)),
    };
  }
  return pingQuota.quota;
}

/**
 * The lookup protocol of one connection: a Ping every `pingFrequencyMs` (first one a period after
 * start), inbound Pings limited to one per half period and otherwise ignored; any frame that does
 * not decode as a lookup message ends the connection (`DecodeFailed`).
 */
class PingProtocol implements Protocol {
  readonly tickMs: number;
  readonly #quota: Quota;
  #gate: Gate | undefined;

  constructor(pingFrequencyMs: number, quota: Quota) {
    this.tickMs = pingFrequencyMs;
    this.#quota = quota;
  }

  // The constant parts of the protocol are getters: no field per connection for them.
  get preamble(): readonly Uint8Array[] {
    return NO_PREAMBLE;
  }
  get tickAtStart(): boolean {
    return false;
  }
  get tickLabel(): string {
    return 'ping';
  }
  get open(): boolean {
    return true;
  }

  tick(): Uint8Array {
    return PING_FRAME;
  }

  receive(frame: Uint8Array, io: PeerIo): Received | Promise<Received> {
    // A Ping is the one-byte frame `01` (what decoding it would find, without a Reader).
    if (frame.length !== 1 || frame[0] !== PING_TAG) {
      const msg = this.#decode(frame, io);
      if (msg instanceof P2PError || msg.type === 'data') return msg;
    }
    this.#gate ??= io.gate('ping', this.#quota);
    // Pings only keep the connection alive.
    return whenAdmitted(io.throttle(this.#gate), none);
  }

  #decode(frame: Uint8Array, io: PeerIo): Message | P2PError {
    let msg: Message;
    try {
      // The payload bound is the application's limit, not the (slightly larger) frame limit.
      msg = decodeMessage(frame, { max: io.maxMessageSize });
    } catch (err) {
      io.invalid();
      const code = err instanceof CodecError ? err.code : 'unknown';
      io.ctx.log.debug({ peer: io.peerHex, code }, 'failed to decode message');
      return new P2PError('DecodeFailed', undefined, { cause: err });
    }
    return msg;
  }
}

/** A frame handled: nothing to deliver. */
function none(): Received {
  return null;
}

/**
 * The lookup peer actor (upstream `lookup/actors/peer/actor.rs`): the shared peer harness
 * (`../../peer/actor.ts`) running the Ping protocol.
 */
export const Actor = {
  /**
   * Creates a lookup peer actor, its control mailbox (for the tracker) and its relay (for the
   * router).
   *
   * @throws P2PError `InvalidConfig` if a size or period is not a positive integer.
   */
  create(config: Config): [Harness, Mailbox, Relay] {
    checkPositive('pingFrequencyMs', config.pingFrequencyMs);
    const quota = pingQuotaOf(config.pingFrequencyMs);
    return Harness.create(config, new PingProtocol(config.pingFrequencyMs, quota));
  },
} as const;

/** The lookup configuration fields its peers use. */
export interface PeerSettings {
  /** Each peer relay queue's capacity, in messages. */
  readonly mailboxSize: number;
  /** Most messages per `sendMany`. */
  readonly sendBatchSize: number;
  /** Keep-alive ping period in ms. */
  readonly pingFrequencyMs: number;
}

/** What lookup's spawner flavour needs from the tracker (the tracker `Mailbox` implements it). */
export interface TrackerConnector {
  /**
   * Reports a new connection and its control handle. Fire-and-forget: the tracker calls
   * `control.kill()` if the peer is not eligible or its reservation went stale.
   */
  admit(peer: PublicKey, control: Mailbox, dialer: boolean, generation?: number): Promise<boolean>;
}

/**
 * Lookup's part of the shared spawner: a Ping peer actor per connection, admitted by the tracker
 * before the router sends it anything (the tracker kills the control of a peer that is
 * ineligible, stale, or superseded by a simultaneous connection).
 */
export function peerFlavour(
  settings: PeerSettings,
  channels: InboundRoutes,
  tracker: TrackerConnector,
): PeerFlavour {
  return {
    create: (_peer, shared) =>
      Actor.create({
        mailboxSize: settings.mailboxSize,
        sendBatchSize: settings.sendBatchSize,
        pingFrequencyMs: settings.pingFrequencyMs,
        channels,
        metrics: shared.metrics,
        relayMetrics: shared.relayMetrics,
      }),
    connect: (peer, control, dialer, reservation) =>
      tracker.admit(peer, control, dialer, reservation.metadata?.generation),
  };
}
