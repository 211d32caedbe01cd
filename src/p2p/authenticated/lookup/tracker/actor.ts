import {
  type Inbox,
  mailbox,
  type RingSender,
  reliable,
  ring,
  select,
} from '../../../../actor/index.js';
import type { PublicKey } from '../../../../crypto/ed25519.js';
import type { Context, Handle, Logger } from '../../../../runtime/context.js';
import { PeerMap } from '../../../peer-map.js';
import type { AddressableTrackedPeers } from '../../../types.js';
import {
  Directory,
  type DirectoryConfig,
  type DirectoryMetrics,
  type ListenerAllowList,
} from './directory.js';
import { Mailbox, type Message, type PeerControl, type Subscriber } from './ingress.js';
import type { JitterRng } from './record.js';

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

/** Most messages handled per wake-up before yielding to other tasks. */
const BATCH = 256;

/** A promise that never settles: the timer arm when nothing is blocked. */
const NEVER: Promise<never> = new Promise<never>(() => {});

/** Abort reason for the per-iteration timers (cheap to build, never surfaced). */
const DONE = Symbol('tracker iteration done');

/**
 * The lookup tracker (upstream `lookup/actors/tracker/actor.rs`): the only owner of the
 * {@link Directory}. Everyone else talks to it through its {@link Mailbox}.
 *
 * Its loop is biased: a due block expiry is handled first (unblock, then push the listener
 * allow-list), then queued messages in order. Every handler is synchronous over the directory.
 * It holds each connected peer's control handle so that it can end a connection when the peer
 * is blocked, leaves every retained set, or changes address; and it pushes the set of allowed
 * source IPs to the listener whenever that set may have changed.
 */
export class Actor {
  // ---------- Message-Passing ----------
  readonly #inbox: Inbox<Message>;
  readonly #allowList: RingSender<ListenerAllowList>;

  // ---------- State ----------
  readonly #directory: Directory;
  /** Control handles of connected peers, set on connect, cleared on release, kill or block. */
  readonly #controls = new PeerMap<PeerControl, PublicKey>();
  readonly #subscribers: Subscriber[] = [];
  #started = false;

  private constructor(
    inbox: Inbox<Message>,
    allowList: RingSender<ListenerAllowList>,
    directory: Directory,
  ) {
    this.#inbox = inbox;
    this.#allowList = allowList;
    this.#directory = directory;
  }

  /**
   * Creates the tracker and its mailbox. Messages sent before {@link start} are queued (the
   * mailbox is reliable), so the oracle works before the network starts.
   *
   * @throws P2PError `InvalidConfig` if `trackedPeerSets` or `maxPeersPerSet` is not positive;
   *   RangeError if `mailboxSize` is not a positive safe integer.
   */
  static create(config: Config, deps: Dependencies): [Actor, Mailbox] {
    const [sender, inbox] = mailbox<Message>(config.mailboxSize, reliable());
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

  /** Spawns the tracker loop (task `tracker`) under `parent`. Start once. */
  start(parent: Context): Handle<void> {
    if (this.#started) throw new TypeError('the tracker is already started');
    this.#started = true;
    return parent.spawn('tracker', (ctx) => this.#run(ctx));
  }

  async #run(ctx: Context): Promise<void> {
    const inbox = this.#inbox;
    const clock = ctx.clock;
    const log = ctx.log;
    // The listener starts with an empty allow-list; send the real one (registrations may have
    // been queued before the start, and each will push again).
    this.#pushAllowList(clock.now());
    try {
      for (;;) {
        const next = this.#directory.nextUnblockAt();
        const iteration = new AbortController();
        const arm = await select(
          ctx.signal,
          next === undefined ? NEVER : clock.sleepUntil(next, iteration.signal),
          inbox.ready(iteration.signal),
        );
        iteration.abort(DONE);
        if (arm === -1) return;
        const now = clock.now();
        if (next !== undefined && now >= next) {
          const unblocked = this.#directory.unblockExpired(now);
          if (unblocked.length > 0) {
            log.debug({ peers: unblocked.map((k) => k.toHex()) }, 'unblocked peers');
            this.#pushAllowList(now);
          }
        }
        if (inbox.isClosed) return;
        for (const m of inbox.drain(BATCH)) this.#handle(m, clock.now(), log);
      }
    } finally {
      inbox.close();
      for (const s of this.#subscribers) s.end();
      this.#subscribers.length = 0;
      this.#controls.clear();
      log.debug({}, 'tracker stopped');
    }
  }

  /** Handles one message at time `now`. Synchronous and exhaustive. */
  #handle(m: Message, now: number, log: Logger): void {
    const directory = this.#directory;
    switch (m.type) {
      case 'register': {
        let kill: PublicKey[] | undefined;
        try {
          kill = directory.track(m.index, m.peers);
        } catch (err) {
          // The oracle validates first; this guards the actor against a bypassing caller.
          log.warn({ index: m.index, err: String(err) }, 'invalid peer set ignored');
          return;
        }
        if (kill === undefined) {
          log.warn(
            { index: m.index, latest: directory.latestIndex() },
            'peer set index must monotonically increase; ignored',
          );
          return;
        }
        for (const key of kill) this.#kill(key, log, 'no longer tracked or address changed');
        this.#pushAllowList(now);
        const update = directory.latestUpdate();
        if (update !== undefined) this.#publish(update);
        return;
      }
      case 'overwrite': {
        const { updated, kill } = directory.overwrite(m.peers);
        for (const key of kill) this.#kill(key, log, 'address overwritten');
        if (updated.length > 0) this.#pushAllowList(now);
        return;
      }
      case 'peerSet': {
        const set = directory.peerSet(m.index);
        if (set === undefined) m.responder.close();
        else m.responder.send(set);
        return;
      }
      case 'subscribe': {
        const update = directory.latestUpdate();
        if (update !== undefined && !m.subscriber.push(update)) return;
        this.#subscribers.push(m.subscriber);
        return;
      }
      case 'block': {
        const added = directory.block(m.peer, now);
        // Kill even when already blocked: a connection must not survive a block.
        this.#kill(m.peer, log, 'blocked');
        if (added) this.#pushAllowList(now);
        return;
      }
      case 'connect': {
        if (!directory.connect(m.peer, now)) {
          log.debug({ peer: m.peer.toHex() }, 'killing ineligible or stale connection');
          m.control.kill();
          return;
        }
        this.#controls.set(m.peer, m.control);
        return;
      }
      case 'dialable':
        m.responder.send(directory.dialable(now));
        return;
      case 'dial': {
        const r = directory.dial(m.peer, now);
        if (r === undefined) m.responder.close();
        else if (!m.responder.send(r)) r.reservation.release();
        return;
      }
      case 'acceptable':
        m.responder.send(directory.acceptable(m.peer, m.sourceIp, now));
        return;
      case 'listen': {
        const r = directory.listen(m.peer, m.sourceIp, now);
        if (r === undefined) m.responder.close();
        else if (!m.responder.send(r)) r.release();
        return;
      }
      case 'release':
        this.#controls.delete(m.metadata.publicKey);
        directory.release(m.metadata);
        return;
      default:
        m satisfies never;
    }
  }

  /** Ends `key`'s connection, if it has one, and forgets its control handle. */
  #kill(key: PublicKey, log: Logger, why: string): void {
    const control = this.#controls.get(key);
    if (control === undefined) return;
    this.#controls.delete(key);
    log.debug({ peer: key.toHex(), why }, 'killing peer');
    control.kill();
  }

  #pushAllowList(now: number): void {
    this.#allowList.send(this.#directory.listenerAllowList(now));
  }

  #publish(update: NonNullable<ReturnType<Directory['latestUpdate']>>): void {
    let live = 0;
    for (const s of this.#subscribers) if (s.push(update)) this.#subscribers[live++] = s;
    this.#subscribers.length = live;
  }
}
