import type { Inbox } from '../../../../actor/index.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import type { Logger, Rng } from '../../../../runtime/context.js';
import type { Ingress } from '../../../address.js';
import type { TrackedPeers } from '../../../types.js';
import { ActorBase } from '../../tracker/actor.js';
import { type SharedMessage, trackerMailbox } from '../../tracker/ingress.js';
import type { DirectoryMetrics } from '../../tracker/metrics.js';
import { Directory, type DirectoryConfig } from './directory.js';
import type { InfoLike } from './info.js';
import { Mailbox, type Message, type PeerControl } from './ingress.js';

/** Configuration of the discovery tracker actor. */
export interface Config extends DirectoryConfig {
  /** Our own signed `Info` (made by the network at startup); its key is ours. */
  readonly myself: InfoLike;
  /** Peers to dial without any registration (persistent); entries for our own key are ignored. */
  readonly bootstrappers: readonly (readonly [PublicKey, Ingress])[];
  /** Ready-queue capacity of the tracker mailbox (overflow is retained: the mailbox is reliable). */
  readonly mailboxSize: number;
}

/** What the tracker takes from its creator: randomness (dial jitter, gossip), and metrics. */
export interface Dependencies {
  /** Dial jitter, the set a `BitVec` describes, and the subset of a capped answer. */
  readonly rng: Pick<Rng, 'int'>;
  /** Directory metrics; no-op if omitted. */
  readonly metrics?: DirectoryMetrics;
}

/**
 * The discovery tracker (upstream `discovery/actors/tracker/actor.rs`): the only owner of the
 * {@link Directory}. Everyone else talks to it through its {@link Mailbox}.
 *
 * The loop and the shared handlers are {@link ActorBase}'s. Discovery adds the gossip: on
 * `construct` it sends a connected peer a `BitVec` of a random retained set, on a peer's
 * `BitVec` it answers with the `Info`s that peer lacks (killing a peer whose bit length does not
 * match: it disagrees on the set), and it takes the `Info`s peers send. A peer that is no longer
 * eligible when it asks is killed.
 */
export class Actor extends ActorBase<Message, TrackedPeers, PeerControl> {
  readonly #directory: Directory;

  private constructor(inbox: Inbox<Message>, directory: Directory) {
    super(inbox, directory);
    this.#directory = directory;
  }

  /**
   * Creates the tracker and its mailbox. Messages sent before `start` are queued (the mailbox
   * is reliable), so the oracle works before the network starts.
   *
   * @throws P2PError `InvalidConfig` for a non-positive `trackedPeerSets`, `maxPeersPerSet`,
   *   `dialFailLimit` or `peerGossipMaxCount`; RangeError if `mailboxSize` is not a positive
   *   safe integer.
   */
  static create(config: Config, deps: Dependencies): [Actor, Mailbox] {
    const [sender, inbox] = trackerMailbox<Message>(config.mailboxSize, deps.metrics);
    const mb = new Mailbox(sender);
    const directory = new Directory(config.myself, config.bootstrappers, config, {
      ...deps,
      // A released reservation becomes a message, so the directory is only touched by the loop.
      releaser: (metadata) => void mb.release(metadata),
    });
    return [new Actor(inbox, directory), mb];
  }

  /**
   * Throws unless `peers` fits `maxPeersPerSet` (counting ourselves), for the oracle to reject
   * a bad registration at the call.
   *
   * @throws P2PError `InvalidPeerSet`.
   */
  checkSize(peers: TrackedPeers): void {
    this.#directory.checkSize(peers);
  }

  /** Handles discovery's own messages at time `now`. Synchronous and exhaustive. */
  protected handle(
    m: Exclude<Message, SharedMessage<TrackedPeers>>,
    now: number,
    log: Logger,
  ): void {
    const directory = this.#directory;
    switch (m.type) {
      case 'connect': {
        const result = directory.connect(m.peer, m.dialer, now, m.generation);
        if (result === 'refused') {
          log.debug({ peer: m.peer.toHex() }, 'refusing an ineligible or superseded connection');
          m.responder.close();
          return;
        }
        if (result === 'superseded') {
          this.kill(m.peer, log, 'superseded by a simultaneous outbound session', 'superseded');
        }
        this.setControl(m.peer, m.control);
        m.responder.send(directory.info);
        return;
      }
      case 'construct': {
        const control = this.#gossiper(m.peer, now, log);
        const bitVec = directory.bitVec();
        if (control !== undefined && bitVec !== undefined) control.bitVec(bitVec);
        return;
      }
      case 'bitVec': {
        const control = this.#gossiper(m.peer, now, log);
        if (control === undefined) return;
        const result = directory.infos(m.bitVec, now);
        if (result.kind === 'mismatch') {
          this.kill(m.peer, log, 'bit vector length does not match the set', 'invalid_bit_vec');
        } else if (result.kind === 'infos' && result.infos.length > 0) {
          control.peers(result.infos);
        }
        return;
      }
      case 'peers':
        directory.update(m.infos);
        return;
      default:
        m satisfies never;
    }
  }

  /** `peer`'s control if it is connected and still eligible; an ineligible one is killed. */
  #gossiper(peer: PublicKey, now: number, log: Logger): PeerControl | undefined {
    const control = this.control(peer);
    if (control === undefined) return undefined;
    if (!this.#directory.eligible(peer, now)) {
      this.kill(peer, log, 'no longer eligible', 'untracked');
      return undefined;
    }
    return control;
  }
}
