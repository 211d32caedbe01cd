import { type Inbox, type RingSender, ring } from '../../../../actor/index.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import type { Logger } from '../../../../runtime/context.js';
import type { AddressableTrackedPeers } from '../../../types.js';
import { ActorBase } from '../../tracker/actor.js';
import { type SharedMessage, trackerMailbox } from '../../tracker/ingress.js';
import type { DirectoryMetrics } from '../../tracker/metrics.js';
import type { JitterRng } from '../../tracker/record.js';
import type { Steps } from '../../tracker/steps.js';
import { Directory, type DirectoryConfig, type ListenerAllowList } from './directory.js';
import { Mailbox, type Message, type PeerControl } from './ingress.js';

/** Configuration of the tracker actor. */
export interface Config extends DirectoryConfig {
  /** Our own key (never dialed, never accepted). */
  readonly myself: PublicKey;
  /** Ready-queue capacity of the tracker mailbox (overflow is retained: the mailbox is reliable). */
  readonly mailboxSize: number;
}

/** What the tracker takes from its creator: randomness for dial jitter, and metrics. */
export interface Dependencies {
  readonly rng: JitterRng;
  /** Directory metrics; no-op if omitted. */
  readonly metrics?: DirectoryMetrics;
}

/**
 * The lookup tracker (upstream `lookup/actors/tracker/actor.rs`): the only owner of the
 * {@link Directory}. Everyone else talks to it through its {@link Mailbox}.
 *
 * The loop and the shared handlers are {@link ActorBase}'s. Lookup adds the listener
 * allow-list, pushed whenever the set of allowed source IPs may have changed (at start, after a
 * registration, a new block, an expiry or an address overwrite), and kills a connection whose
 * peer changed address.
 */
export class Actor extends ActorBase<Message, AddressableTrackedPeers, PeerControl> {
  // ---------- Message-Passing ----------
  readonly #allowList: RingSender<ListenerAllowList>;

  // ---------- State ----------
  readonly #directory: Directory;

  private constructor(
    inbox: Inbox<Message>,
    allowList: RingSender<ListenerAllowList>,
    directory: Directory,
  ) {
    super(inbox, directory);
    this.#allowList = allowList;
    this.#directory = directory;
  }

  /**
   * Creates the tracker and its mailbox. Messages sent before `start` are queued (the
   * mailbox is reliable), so the oracle works before the network starts.
   *
   * @throws P2PError `InvalidConfig` if `trackedPeerSets` or `maxPeersPerSet` is not positive;
   *   RangeError if `mailboxSize` is not a positive safe integer.
   */
  static create(config: Config, deps: Dependencies): [Actor, Mailbox] {
    const [sender, inbox] = trackerMailbox<Message>(config.mailboxSize, deps.metrics);
    const [allowTx, allowRx] = ring<ListenerAllowList>(1);
    const mb = new Mailbox(sender, allowRx);
    const directory = new Directory(config.myself, config, {
      rng: deps.rng,
      // A released reservation becomes a message, so the directory is only touched by the loop.
      releaser: (metadata) => {
        mb.release(metadata);
      },
      ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
    });
    return [new Actor(inbox, allowTx, directory), mb];
  }

  /**
   * Throws unless `peers` fits `maxPeersPerSet` (counting ourselves). Pure over immutable
   * configuration, so the oracle calls it synchronously to reject a bad registration at the call.
   *
   * @throws P2PError `InvalidPeerSet`.
   */
  checkSize(peers: AddressableTrackedPeers): void {
    this.#directory.checkSize(peers);
  }

  // The listener starts with an empty allow-list; send the real one (registrations may have
  // been queued before the start, and each will push again).
  protected override onStart(now: number): void {
    this.#pushAllowList(now);
  }

  protected override *trackedSteps(now: number): Steps<void> {
    this.#allowList.send(yield* this.#directory.listenerAllowListSteps(now));
  }

  protected override onBlocked(_peer: PublicKey, added: boolean, now: number): void {
    if (added) this.#pushAllowList(now);
  }

  protected override onUnblocked(_unblocked: PublicKey[], now: number): void {
    this.#pushAllowList(now);
  }

  /** Handles lookup's own messages at time `now`. Synchronous and exhaustive. */
  protected handle(
    m: Exclude<Message, SharedMessage<AddressableTrackedPeers>>,
    now: number,
    log: Logger,
  ): void {
    switch (m.type) {
      case 'overwrite': {
        const { updated, kill } = this.#directory.overwrite(m.peers);
        for (const key of kill) this.kill(key, log, 'address overwritten', 'address_changed');
        if (updated.length > 0) this.#pushAllowList(now);
        return;
      }
      case 'connect': {
        const result = this.#directory.connect(m.peer, now, m.dialer, m.generation);
        if (result === 'refused') {
          log.debug({ peer: m.peer.toHex() }, 'killing ineligible, stale or superseded connection');
          m.control.kill();
          m.responder?.send(false);
          return;
        }
        if (result === 'superseded') {
          this.kill(m.peer, log, 'superseded by a simultaneous outbound session', 'superseded');
        }
        this.setControl(m.peer, m.control);
        m.responder?.send(true);
        return;
      }
      default:
        m satisfies never;
    }
  }

  #pushAllowList(now: number): void {
    this.#allowList.send(this.#directory.listenerAllowList(now));
  }
}
