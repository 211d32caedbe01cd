/**
 * The discovery peer protocol (commonware `discovery/actors/peer/actor.rs`) on the shared peer
 * harness (`../../peer/actor.ts`).
 *
 * - Sender: our Greeting (own signed {@link Info}) is the first frame of the connection; the
 *   gossip timer fires at once and then every `gossipBitVecFrequencyMs`, each time asking the
 *   tracker to `construct` a BitVec, which the tracker queues on this peer's control mailbox
 *   (with any Peers answer) ahead of data.
 * - Receiver: the first frame must be a Greeting (`MissingGreeting`), whose key must be the
 *   handshake's (`GreetingMismatch`) and whose record must validate; a second Greeting ends the
 *   connection (`DuplicateGreeting`). Data takes the harness's route; BitVec goes to the
 *   tracker, Peers are validated and go to the tracker. Inbound BitVec and Peers are each limited
 *   to one per `max(gossipBitVecFrequencyMs / 2, 1)` ms, the first of each exempt; over the limit
 *   the receiver sleeps (backpressure), nothing is dropped. A frame that does not decode, or a
 *   record that does not validate, ends the connection. Every record signature verified is
 *   counted in `info_verifications{peer}` (the peer that sent the record), so the cost a peer's
 *   gossip imposes is visible; the limits above bound it.
 *
 * @module
 */

import type { Feedback } from '../../../../actor/index.js';
import { CodecError } from '../../../../codec/index.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import { Quota } from '../../../../quota/index.js';
import type { Counter } from '../../../../runtime/context.js';
import { P2PError } from '../../../errors.js';
import { checkPositive, Actor as Harness } from '../../peer/actor.js';
import type { Mailbox } from '../../peer/ingress.js';
import {
  type BoundCounter,
  bindCounter,
  type PeerMetrics,
  peerLabels,
} from '../../peer/metrics.js';
import {
  type Gate,
  type InboundRoutes,
  type PeerIo,
  type Protocol,
  type Received,
  whenAdmitted,
} from '../../peer/protocol.js';
import type { PeerFlavour } from '../../spawner/index.js';
import { Info, type InfoVerifier } from '../info.js';
import type { BitVec, InfoLike, PeerControl } from '../tracker/index.js';
import { decodePayload, encodeBitVec, encodeGreeting, encodePeers } from '../types.js';

/** What the discovery peer actors need from the tracker (the tracker `Mailbox` implements it). */
export interface GossipTracker {
  /** Our own Info, or undefined if `peer` is no longer eligible (the connection is closed). */
  connect(
    peer: PublicKey,
    control: PeerControl,
    dialer: boolean,
    generation?: number,
  ): Promise<InfoLike | undefined>;
  /** Asks for a BitVec to be queued on `peer`'s control. */
  construct(peer: PublicKey): Feedback;
  /** A BitVec `peer` sent us: the tracker answers with Peers (or kills a length mismatch). */
  bitVec(peer: PublicKey, bitVec: BitVec): Feedback;
  /** Validated records a peer sent (its Greeting, or a Peers answer). */
  peers(infos: readonly InfoLike[]): Feedback;
}

/** The discovery configuration fields its peers use. */
export interface PeerSettings {
  /** Capacity of each peer's relay queues and control queue, in messages. */
  readonly mailboxSize: number;
  /** Most messages per `sendMany`. */
  readonly sendBatchSize: number;
  /** Gossip period (ms). */
  readonly gossipBitVecFrequencyMs: number;
  /** Longest BitVec accepted, in bits. */
  readonly maxPeersPerSet: number;
  /** Most records in one Peers message. */
  readonly peerGossipMaxCount: number;
}

/** What one discovery protocol instance is made from (shared by every connection). */
interface Shared {
  readonly tracker: GossipTracker;
  readonly verifier: InfoVerifier;
  /** `info_verifications{peer}` (see {@link peerFlavour}). */
  readonly verifications: Counter;
  readonly greeting: Uint8Array;
  readonly gossipQuota: Quota;
  readonly settings: PeerSettings;
}

/** The per-connection discovery protocol. */
class GossipProtocol implements Protocol {
  readonly preamble: readonly Uint8Array[];
  readonly tickMs: number;
  readonly tickAtStart = true;
  readonly tickLabel = 'bit_vec';
  open = false;
  readonly #shared: Shared;
  readonly #peer: PublicKey;
  #bitVecGate: Gate | undefined;
  #peersGate: Gate | undefined;
  #verifications: BoundCounter | undefined;

  constructor(shared: Shared, peer: PublicKey) {
    this.#shared = shared;
    this.#peer = peer;
    this.preamble = [shared.greeting];
    this.tickMs = shared.settings.gossipBitVecFrequencyMs;
  }

  tick(): undefined {
    // The tracker answers by queueing a BitVec on this peer's control mailbox.
    this.#shared.tracker.construct(this.#peer);
    return undefined;
  }

  receive(frame: Uint8Array, io: PeerIo): Received | Promise<Received> {
    const { settings, tracker } = this.#shared;
    let payload: ReturnType<typeof decodePayload>;
    try {
      payload = decodePayload(frame, {
        maxBitVec: settings.maxPeersPerSet,
        maxPeers: settings.peerGossipMaxCount,
        maxDataLength: io.maxMessageSize,
      });
    } catch (err) {
      io.invalid();
      const code = err instanceof CodecError ? err.code : 'unknown';
      io.ctx.log.debug({ peer: io.peerHex, code }, 'failed to decode message');
      return new P2PError('DecodeFailed', undefined, { cause: err });
    }
    if (!this.open) {
      if (payload.type !== 'greeting') {
        io.invalid();
        return new P2PError('MissingGreeting', `first message was ${payload.type}, not a greeting`);
      }
      if (!payload.info.publicKey.equals(io.peer)) {
        io.invalid();
        return new P2PError('GreetingMismatch', 'greeting key is not the handshake key');
      }
      const failure = this.#validate(io, [payload.info]);
      if (failure !== undefined) return failure;
      this.open = true;
      tracker.peers([payload.info]);
      return null;
    }
    switch (payload.type) {
      case 'data':
        return payload;
      case 'greeting':
        io.invalid();
        return new P2PError('DuplicateGreeting', 'a second greeting');
      case 'bitVec': {
        const bitVec = { index: payload.index, bits: payload.bits };
        if (this.#bitVecGate === undefined) {
          // The first BitVec of a connection is exempt from the gossip limit.
          this.#bitVecGate = io.gate('bit_vec', this.#shared.gossipQuota);
          this.#bitVecGate.received.inc();
          tracker.bitVec(this.#peer, bitVec);
          return null;
        }
        return whenAdmitted(io.throttle(this.#bitVecGate), () => {
          tracker.bitVec(this.#peer, bitVec);
          return null;
        });
      }
      case 'peers': {
        const peers = payload.peers;
        const deliver = (): Received => {
          const failure = this.#validate(io, peers);
          if (failure !== undefined) return failure;
          tracker.peers(peers);
          return null;
        };
        if (this.#peersGate === undefined) {
          this.#peersGate = io.gate('peers', this.#shared.gossipQuota);
          this.#peersGate.received.inc();
          return deliver();
        }
        return whenAdmitted(io.throttle(this.#peersGate), deliver);
      }
    }
  }

  #validate(io: PeerIo, infos: readonly Info[]): P2PError | undefined {
    this.#verifications ??= bindCounter(this.#shared.verifications, { peer: io.peerHex });
    try {
      this.#shared.verifier.validate(io.ctx.clock, infos, this.#verifications);
      return undefined;
    } catch (err) {
      io.invalid();
      const reason = err instanceof P2PError ? err : new P2PError('DecodeFailed', String(err));
      io.ctx.log.debug({ peer: io.peerHex, code: reason.code }, 'invalid peer record');
      return reason;
    }
  }
}

/** The tracker's view of a peer's control mailbox: gossip frames encoded and counted here. */
class Control implements PeerControl {
  readonly #mailbox: Mailbox;
  readonly #bitVecSent: BoundCounter;
  readonly #peersSent: BoundCounter;

  constructor(mailbox: Mailbox, metrics: PeerMetrics, peer: string) {
    this.#mailbox = mailbox;
    this.#bitVecSent = bindCounter(metrics.sent, peerLabels(peer, 'bit_vec'));
    this.#peersSent = bindCounter(metrics.sent, peerLabels(peer, 'peers'));
  }

  kill(reason?: string): void {
    this.#mailbox.kill(reason);
  }

  bitVec(bitVec: BitVec): void {
    if (this.#mailbox.send(encodeBitVec(bitVec.index, bitVec.bits))) this.#bitVecSent.inc();
  }

  peers(infos: readonly InfoLike[]): void {
    // The tracker only holds records decoded by peer actors, and our own: all `Info`s already.
    const records = infos.map((i) => (i instanceof Info ? i : Info.from(i)));
    if (this.#mailbox.send(encodePeers(records))) this.#peersSent.inc();
  }
}

/**
 * Discovery's part of the shared spawner: a gossip peer actor per connection; the connection is
 * reported to the tracker, which answers with our own Info, or with nothing if the peer is no
 * longer eligible (the spawner then closes it without running the peer).
 *
 * @param verifications - counter `info_verifications{peer}`: record signatures verified, by
 *   the peer that sent the records (label: its key in hex; connected peers only).
 */
export function peerFlavour(
  settings: PeerSettings,
  channels: InboundRoutes,
  tracker: GossipTracker,
  myself: Info,
  verifier: InfoVerifier,
  verifications: Counter,
): PeerFlavour {
  checkPositive('gossipBitVecFrequencyMs', settings.gossipBitVecFrequencyMs);
  const shared: Shared = {
    tracker,
    verifier,
    verifications,
    greeting: encodeGreeting(myself),
    gossipQuota: Quota.withPeriod(Math.max(Math.floor(settings.gossipBitVecFrequencyMs / 2), 1)),
    settings,
  };
  // The spawner hands every peer the same counters; the control adapters count on them too.
  let sent: PeerMetrics | undefined;
  return {
    create: (peer, { metrics, relayMetrics }) => {
      sent = metrics;
      return Harness.create(
        {
          mailboxSize: settings.mailboxSize,
          sendBatchSize: settings.sendBatchSize,
          channels,
          metrics,
          relayMetrics,
        },
        new GossipProtocol(shared, peer),
      );
    },
    connect: async (peer, mailbox, dialer, reservation) => {
      if (sent === undefined) return false;
      const control = new Control(mailbox, sent, peer.toHex());
      const info = await tracker.connect(peer, control, dialer, reservation.metadata?.generation);
      return info !== undefined;
    },
  };
}
