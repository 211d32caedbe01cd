/**
 * The simulated network's actor (commonware `simulated/network.rs`): it owns the topology, the
 * peer sets, every registration's channels and the transmitter, takes the sends of every peer
 * from one bounded queue, and delivers each message into its recipient's channel at its
 * arrival time on the runtime's clock.
 *
 * @module
 */

import type { RingInbox, RingSender } from '../../actor/index.js';
import {
  type Inbox,
  type Sender as MailboxSender,
  mailbox,
  ring,
  select,
  unreliable,
} from '../../actor/index.js';
import { Reader } from '../../codec/index.js';
import type { Quota } from '../../quota/index.js';
import type { Context, Handle } from '../../runtime/context.js';
import { Channels, type Receiver, type Sender } from '../authenticated/channels.js';
import { readDataBody } from '../authenticated/data.js';
import { P2PError } from '../errors.js';
import { type Config, type Settings, settings } from './config.js';
import { Endpoint, type Send } from './ingress.js';
import { sampleLatency, sampleSuccess } from './link.js';
import { PeerSets } from './manager.js';
import { SimMetrics } from './metrics.js';
import { Oracle } from './oracle.js';
import { type Peer, type SimEnvelope, SnapshotFeed, Topology } from './peers.js';
import { Timeline, Transmitter } from './transmitter.js';

/** Sends handled per turn of the actor before it looks at the clock again. */
const BATCH = 4096;

/** The reason given to a timer cancelled by the actor. */
const RESCHEDULE = Symbol('reschedule');

/** Everything the network and its oracle share. @internal */
export class Simulation {
  readonly context: Context;
  readonly settings: Settings;
  readonly topology: Topology;
  readonly sets: PeerSets;
  readonly metrics: SimMetrics;
  readonly #queue: MailboxSender<Send>;
  readonly #inbox: Inbox<Send>;
  readonly #kick: RingSender<true>;
  readonly #kicks: RingInbox<true>;
  readonly #timeline = new Timeline<SimEnvelope, Peer>();
  readonly #transmitter: Transmitter<Peer>;
  #inFlight = 0;
  #started = false;
  #closed = false;

  constructor(context: Context, config: Config) {
    this.context = context;
    this.settings = settings(config);
    this.topology = new Topology(this.settings.disconnectOnBlock, () => context.clock.now());
    this.sets = new PeerSets(
      this.settings.trackedPeerSets,
      this.topology,
      context.log.child({ actor: 'oracle' }),
      () => this.closed,
      () => this.flush(),
    );
    this.metrics = new SimMetrics(context.metrics);
    [this.#queue, this.#inbox] = mailbox<Send>(this.settings.mailboxSize, unreliable());
    [this.#kick, this.#kicks] = ring<true>(1);
    this.#transmitter = new Transmitter<Peer>({
      arrive: (t, envelope, recipient) => this.#timeline.push(t, envelope, recipient),
      lost: () => {
        this.#inFlight--;
        this.metrics.dropped('lost');
      },
    });
    if (context.signal.aborted) this.#close();
    else context.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  readonly #onAbort = (): void => this.#close();

  /** True once the network stopped (or its context did). */
  get closed(): boolean {
    return this.#closed || this.context.signal.aborted;
  }

  /** Messages transmitting or waiting for their arrival. */
  get inFlight(): number {
    return this.#inFlight;
  }

  // ---------- Used by controls ----------

  /**
   * Registers `channel` for `peer`, replacing (and closing) an earlier registration of it.
   *
   * @throws P2PError `NetworkClosed` after the network stopped; `InvalidChannel` for a bad
   *   channel number.
   */
  register(peer: Peer, channel: number, quota: Quota): [Sender, Receiver] {
    if (this.closed) throw new P2PError('NetworkClosed');
    const channels = new Channels(this.context, {
      maxMessageSize: this.settings.maxSize,
      retainedPeers: this.settings.maxPeersPerSet * this.settings.trackedPeerSets,
    });
    const pair = channels.register(channel, quota);
    channels.start(
      new Endpoint(
        peer,
        this.topology,
        channel,
        this.#queue,
        () => new SnapshotFeed(peer, this.topology, () => !this.closed),
      ),
    );
    const mine = peer.registrations;
    const old = mine.get(channel);
    if (old !== undefined) {
      this.context.log.warn({ peer: peer.hex, channel }, 'overwriting existing channel');
      old.channels.close();
    }
    const inbound = channels.inbound(channel);
    if (inbound === undefined) throw new P2PError('InvalidChannel');
    mine.set(channel, {
      channels,
      deliver: (from, message) => inbound.deliver(from, message),
      sent: this.metrics.sent(peer.hex, channel),
      received: this.metrics.received(peer.hex, channel),
    });
    return pair;
  }

  /**
   * Handles every queued send now, so that a topology change made after a send does not apply
   * to it: oracle calls and sends take effect in call order.
   */
  flush(): void {
    if (this.closed || this.#inbox.size === 0) return;
    const now = this.context.clock.now();
    for (let b = this.#inbox.drain(BATCH); b.length > 0; b = this.#inbox.drain(BATCH)) {
      this.#handle(now, b);
    }
    this.#kick.send(true);
  }

  /** Wakes the actor to re-plan (caps changed). */
  recap(): void {
    this.#transmitter.recap(this.context.clock.now());
    this.#kick.send(true);
  }

  // ---------- Lifecycle ----------

  /**
   * Starts the actor. @throws P2PError `InvalidConfig` if already started, `NetworkClosed` if
   * stopped.
   */
  start(): Handle<void> {
    if (this.#started) throw new P2PError('InvalidConfig', 'the network is already started');
    if (this.closed) throw new P2PError('NetworkClosed');
    this.#started = true;
    return this.context.spawn('simulated', (ctx) => this.#run(ctx));
  }

  async #run(ctx: Context): Promise<void> {
    const clock = ctx.clock;
    let timer = new AbortController();
    let sleepAt = Number.POSITIVE_INFINITY;
    let sleep: Promise<void> | undefined;
    try {
      for (;;) {
        const now = clock.now();
        this.flush();
        this.#kicks.drain();
        const nextFlow = this.#transmitter.settle(now);
        this.#deliver(now);
        const nextArrival = this.#timeline.next();
        const target = Math.min(
          nextFlow ?? Number.POSITIVE_INFINITY,
          nextArrival ?? Number.POSITIVE_INFINITY,
        );
        if (target !== sleepAt) {
          timer.abort(RESCHEDULE);
          timer = new AbortController();
          sleepAt = target;
          sleep = Number.isFinite(target) ? clock.sleepUntil(target, timer.signal) : undefined;
        }
        const arms: Promise<unknown>[] = [this.#inbox.ready(), this.#kicks.ready()];
        if (sleep !== undefined) arms.push(sleep);
        const arm = await select(ctx.signal, ...arms);
        if (arm === -1) return;
        if (arm === 2) sleepAt = Number.NaN; // fired: make a new one next turn
      }
    } finally {
      timer.abort(RESCHEDULE);
      this.#close();
    }
  }

  /** Handles a batch of sends: high priority first, then low, each in arrival order. */
  #handle(now: number, batch: readonly Send[]): void {
    for (const s of batch) if (s.priority) this.#send(now, s);
    for (const s of batch) if (!s.priority) this.#send(now, s);
  }

  #send(now: number, s: Send): void {
    const origin = s.origin;
    const reg = origin.registrations.get(s.channel);
    const r = new Reader(s.encoded);
    r.skip(1);
    const { message } = readDataBody(r, { max: this.settings.maxSize });
    const topology = this.topology;
    const rng = this.context.rng;
    const max = this.settings.maxInFlight;
    const envelope: SimEnvelope = { origin, channel: s.channel, message };
    const transmitter = this.#transmitter;
    for (const pk of s.recipients) {
      const to = topology.get(pk);
      const link = to === undefined ? undefined : origin.links.get(to);
      if (to === undefined || link === undefined || !topology.canTalk(origin, to)) {
        this.metrics.dropped('unreachable');
        continue;
      }
      if (this.#inFlight >= max) {
        this.metrics.dropped('overloaded');
        continue;
      }
      const latency = sampleLatency(link, rng);
      const success = sampleSuccess(link, rng);
      this.#inFlight++;
      reg?.sent.inc();
      transmitter.send(now, origin.pair(to), envelope, to, latency, success);
    }
  }

  /** Delivers everything due by `now`, in arrival order. */
  #deliver(now: number): void {
    const topology = this.topology;
    for (
      let due = this.#timeline.takeDue(now);
      due !== undefined;
      due = this.#timeline.takeDue(now)
    ) {
      this.#inFlight -= due.length / 2;
      for (let i = 0; i < due.length; i += 2) {
        const e = due[i] as SimEnvelope;
        const recipient = due[i + 1] as Peer;
        const reg = recipient.registrations.get(e.channel);
        if (reg === undefined || !topology.canTalk(e.origin, recipient)) {
          this.metrics.dropped('unreachable');
          continue;
        }
        if (reg.deliver(e.origin.publicKey, e.message)) reg.received.inc();
        else this.metrics.dropped('overloaded');
      }
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.context.signal.removeEventListener('abort', this.#onAbort);
    this.#inbox.close();
    this.#kicks.close();
    for (const p of this.topology.all()) {
      for (const reg of p.registrations.values()) {
        reg.channels.close();
      }
    }
    if (this.#inFlight > 0) this.metrics.dropped('closed', this.#inFlight);
    this.#inFlight = 0;
    this.#timeline.clear();
    this.#transmitter.clear();
    this.topology.close();
    this.sets.close();
  }
}

/**
 * A simulated network. Create it with {@link Network.create} (which also returns its
 * {@link Oracle}), then {@link Network.start} it; peers, links, peer sets and channels are all
 * set up through the oracle, before or after the start.
 */
export class Network {
  readonly #sim: Simulation;

  /** @internal */
  constructor(sim: Simulation) {
    this.#sim = sim;
  }

  /**
   * Creates a network running under `context` (its task is `context`'s child `simulated`, its
   * metrics `messages_sent`, `messages_received`, `messages_dropped` under `context`'s prefix)
   * and its oracle.
   *
   * @throws P2PError `InvalidConfig` naming the first bad field of `config`.
   */
  static create(context: Context, config: Config): [Network, Oracle] {
    const sim = new Simulation(context, config);
    return [new Network(sim), new Oracle(sim)];
  }

  /**
   * Starts delivering messages. `handle.stop()` stops the network: every receiver then rejects
   * with `NetworkClosed`, senders return `[]`, every `events()` stream ends and the oracle's
   * link calls reject with `NetworkClosed`; `handle.done` resolves once the task has ended.
   *
   * @throws P2PError `InvalidConfig` if called twice, `NetworkClosed` after the context stopped.
   */
  start(): Handle<void> {
    return this.#sim.start();
  }
}
