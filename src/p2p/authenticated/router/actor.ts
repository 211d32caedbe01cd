import { type Inbox, mailbox, type RingSender } from '../../../actor/index.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Context, Handle } from '../../../runtime/context.js';
import type { ConnectionEvents } from '../../events.js';
import { PeerMap } from '../../peer-map.js';
import type { Recipients } from '../../types.js';
import type { Relay } from '../relay.js';
import {
  Mailbox,
  type Message,
  type PeerSnapshot,
  type RouterState,
  routerPolicy,
} from './ingress.js';

/** Router configuration. */
export interface Config {
  /**
   * Capacity of the router mailbox, in messages: `mailboxSize` plus the sum of the channels'
   * inbound capacities (upstream `network.rs`). Beyond it `content` is rejected.
   */
  readonly mailboxSize: number;
  /** Where `'connected'` and `'disconnected'` events go (the network's hub). */
  readonly events?: ConnectionEvents;
}

/** Most messages handled per wake-up before yielding to other tasks. */
const BATCH = 256;

/**
 * The router actor (upstream `router/actor.rs`): owns the table of connected peers and fans
 * every outbound payload out to their relays. Every relay send is non-blocking, so one slow peer
 * (a full relay) loses its own copy and delays no one else.
 */
export class Actor {
  // ---------- Message-Passing ----------
  readonly #context: Context;
  readonly #inbox: Inbox<Message>;
  readonly #state: RouterState;
  readonly #events: ConnectionEvents | undefined;

  // ---------- State ----------
  /** Connected peers and their relays. */
  readonly #peers = new PeerMap<Relay, PublicKey>();
  /** Subscribers to the connected-peer snapshots. */
  readonly #subscribers: RingSender<PeerSnapshot>[] = [];
  /** The keys of {@link #peers}, kept sorted (binary-search insert and remove). */
  readonly #sorted: PublicKey[] = [];
  /** The current sorted snapshot (a frozen copy of {@link #sorted}), made on every change. */
  #snapshot: PeerSnapshot = Object.freeze([]);

  private constructor(
    context: Context,
    inbox: Inbox<Message>,
    state: RouterState,
    events: ConnectionEvents | undefined,
  ) {
    this.#context = context;
    this.#inbox = inbox;
    this.#state = state;
    this.#events = events;
  }

  /**
   * Creates the router and its mailbox. Lifecycle messages sent before {@link start} are queued;
   * content sent before it is accepted and discarded.
   *
   * @throws RangeError if `config.mailboxSize` is not a positive safe integer.
   */
  static create(context: Context, config: Config): [Actor, Mailbox] {
    const backoff = context.metrics.counter(
      'router_mailbox_backoff',
      'Router lifecycle messages held in overflow because the mailbox was full',
    );
    const [sender, inbox] = mailbox<Message>(config.mailboxSize, routerPolicy, {
      onBackoff: () => backoff.inc(),
    });
    const state: RouterState = { started: false, direct: undefined };
    return [new Actor(context, inbox, state, config.events), new Mailbox(sender, state)];
  }

  /** Spawns the router loop (task `router`). It runs until the context stops. */
  start(): Handle<void> {
    this.#state.started = true;
    return this.#context.spawn('router', (ctx) => this.#run(ctx));
  }

  async #run(ctx: Context): Promise<void> {
    const inbox = this.#inbox;
    // Stopping closes the inbox, which wakes the wait below with false: one abort listener for
    // the router's life, rather than a race (or a listener) per wake, which showed on every
    // round trip. Queued messages are discarded, as when the stop was seen first.
    const signal = ctx.signal;
    const state = this.#state;
    const stop = (): void => {
      state.direct = undefined;
      inbox.close();
    };
    signal.addEventListener('abort', stop, { once: true });
    // Idle means nothing queued and no batch in hand: a payload fanned out then takes the place
    // it would have had in the queue.
    let handling = false;
    if (!signal.aborted) {
      state.direct = {
        idle: () => !handling && inbox.size === 0,
        fanOut: (recipients, encoded, priority) => this.#fanOut(recipients, encoded, priority),
      };
    }
    try {
      while (!signal.aborted && (await inbox.ready()) && !inbox.isClosed) {
        handling = true;
        try {
          for (const m of inbox.drain(BATCH)) this.#handle(m);
        } finally {
          handling = false;
        }
      }
    } finally {
      state.direct = undefined;
      signal.removeEventListener('abort', stop);
      inbox.close();
      this.#peers.clear();
      this.#sorted.length = 0;
      this.#subscribers.length = 0;
      ctx.log.debug({}, 'router stopped');
    }
  }

  #handle(m: Message): void {
    switch (m.type) {
      case 'ready': {
        const fresh = !this.#peers.has(m.peer);
        this.#peers.set(m.peer, m.relay);
        if (fresh) this.#sorted.splice(this.#position(m.peer), 0, m.peer);
        this.#changed();
        // A relay replacing a live one is not a new connection as the application sees it.
        if (fresh) this.#events?.emit('connected', m.peer, this.#context.clock.now());
        return;
      }
      case 'release': {
        const current = this.#peers.get(m.peer);
        if (current === undefined || (m.relay !== undefined && current !== m.relay)) return;
        this.#peers.delete(m.peer);
        this.#sorted.splice(this.#position(m.peer), 1);
        this.#changed();
        this.#events?.emit('disconnected', m.peer, this.#context.clock.now(), m.reason);
        return;
      }
      case 'content':
        this.#fanOut(m.recipients, m.encoded, m.priority);
        return;
      case 'subscribePeers':
        if (m.sender.send(this.#snapshot) !== 'closed') this.#subscribers.push(m.sender);
        return;
      default:
        m satisfies never;
    }
  }

  /** Sends to each connected recipient once; a full relay drops (and counts) its own copy. */
  #fanOut(recipients: Recipients, encoded: Uint8Array, priority: boolean): void {
    switch (recipients.kind) {
      case 'one':
        this.#peers.get(recipients.publicKey)?.send(encoded, priority);
        return;
      case 'some': {
        const keys = recipients.publicKeys;
        if (keys.length === 1) {
          this.#peers.get(keys[0]!)?.send(encoded, priority);
          return;
        }
        const seen = new Set<string>();
        for (const pk of keys) {
          const hex = pk.toHex();
          if (seen.has(hex)) continue;
          seen.add(hex);
          this.#peers.getByHex(hex)?.send(encoded, priority);
        }
        return;
      }
      case 'all':
        for (const relay of this.#peers.values()) relay.send(encoded, priority);
        return;
      default:
        recipients satisfies never;
    }
  }

  /** Where `peer` is (or would be inserted) in {@link #sorted}: the first key not below it. */
  #position(peer: PublicKey): number {
    const sorted = this.#sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as PublicKey).compare(peer) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Takes a new snapshot and pushes it to every live subscriber (dropping closed ones). A copy of
   * the sorted keys, not a sort: O(n) per connection change rather than O(n log n) comparisons
   * (a burst of 10,000 connections spent most of its time sorting).
   */
  #changed(): void {
    this.#snapshot = Object.freeze(this.#sorted.slice());
    let live = 0;
    for (const sub of this.#subscribers) {
      if (sub.send(this.#snapshot) !== 'closed') this.#subscribers[live++] = sub;
    }
    this.#subscribers.length = live;
  }
}
