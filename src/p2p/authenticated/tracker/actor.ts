/**
 * The loop and the handlers both tracker actors share (commonware `tracker/actor.rs` of
 * `discovery` and `lookup`).
 *
 * {@link ActorBase} owns the inbox, the flavour's directory (through {@link ActorDirectory}),
 * the control handles of connected peers and the peer-set subscribers. Its loop is biased: a
 * due block expiry is handled first, then queued messages in order. It handles every
 * {@link SharedMessage} itself and hands the rest to the flavour, which also hears about
 * accepted registrations, blocks and expiries through hooks.
 *
 * A registration can name tens of thousands of peers, so the directory applies it in steps
 * ({@link Steps}); the loop gives the event loop a turn between them and takes no other message
 * until the registration is done, so messages are still handled in the order they were sent.
 *
 * A bookkeeping slip is logged and counted in the `bookkeeping_errors{kind}` counter, never
 * thrown out of the loop: `release_unknown` (a release for a key without a record),
 * `release_inert` (a release for a record holding no reservation) and `handler` (any error a
 * handler throws; the message's responder, if any, is then settled with `undefined`). A tracker
 * bug must not take the whole network down, and the state it guards (one reservation per peer)
 * is left as it was.
 *
 * @module
 */

import { closeResponderOf, type Inbox, type Responder, select } from '../../../actor/index.js';
import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Context, Counter, Handle, Logger } from '../../../runtime/context.js';
import { P2PError } from '../../errors.js';
import type { ConnectionEvents } from '../../events.js';
import { PeerMap } from '../../peer-map.js';
import type { PeerSetUpdate, TrackedPeers } from '../../types.js';
import { type Killable, SHARED_TYPES, type SharedMessage, type Subscriber } from './ingress.js';
import type { Metadata } from './metadata.js';
import type { TrackerStatus } from './status.js';
import { PAUSE, type Steps } from './steps.js';
import type { Dialable, DialReservation, Inbound, ReleaseResult } from './types.js';

/**
 * Why a tracker ended a connection (the `reason` label of `kills`): `blocked`; `superseded` (one
 * of two simultaneous sessions); `untracked` (the peer left every tracked set, or lost its
 * eligibility); `address_changed` (lookup: its registered address changed);
 * `invalid_bit_vec` (discovery: a BitVec whose length is not the set's).
 */
export type KillReason =
  | 'blocked'
  | 'superseded'
  | 'untracked'
  | 'address_changed'
  | 'invalid_bit_vec';

/** What the shared handlers need of a flavour's directory. `P` is a registration's payload. */
export interface ActorDirectory<P> {
  /**
   * Checks a registration's index and returns the steps that apply it (their result: the
   * peers to kill), or `undefined` if `index` does not exceed every retained index. See
   * `DirectoryBase.beginTrack`.
   *
   * @throws P2PError `InvalidPeerSet` for an invalid index; the steps throw it for an oversized
   *   set, before any change.
   */
  beginTrack(index: number, peers: P): Steps<PublicKey[]> | undefined;
  latestIndex(): number | undefined;
  latestUpdateSteps(): Steps<PeerSetUpdate | undefined>;
  peerSet(index: number): TrackedPeers | undefined;
  block(key: PublicKey, now: number): boolean;
  unblockExpired(now: number): PublicKey[];
  nextUnblockAt(): number | undefined;
  dialable(now: number): Dialable;
  dialableSteps(now: number): Steps<Dialable>;
  dial(key: PublicKey, now: number): DialReservation | undefined;
  acceptable(key: PublicKey, sourceIp: string, now: number): boolean;
  listen(key: PublicKey, sourceIp: string, now: number): Inbound | undefined;
  release(metadata: Metadata, now?: number): ReleaseResult;
  status(offset: number, limit: number, now: number): Steps<TrackerStatus>;
}

/** Most messages handled per wake-up before yielding to other tasks. */
const BATCH = 256;

/**
 * Clock time (ms) a registration's steps may run before the loop gives the event loop a turn.
 * A step is about a millisecond (a longer one is announced by a `PAUSE` and starts a turn of its
 * own), so no turn much exceeds this plus one step. Short, because a young-generation collection
 * may land in any turn and adds to it (a registration's members no longer leave a record each
 * for it to copy: see `record-table.ts`). The yield is a zero sleep, one `setImmediate` on the
 * Node runtime, so short turns cost little in total time (BENCHMARKS.md, "Helper turn").
 */
const TURN_MS = 2;

/** Steps run in one turn at most, whatever the clock says (a virtual clock does not move). */
const TURN_STEPS = 8;

/** A promise that never settles: the timer arm when nothing is blocked. */
const NEVER: Promise<never> = new Promise<never>(() => {});

/** Abort reason for the per-iteration timers (cheap to build, never surfaced). */
const DONE = Symbol('tracker iteration done');

/**
 * A tracker actor's shared part. `M` is the flavour's message union (a superset of
 * {@link SharedMessage}), `P` a registration's payload, `C` a connected peer's control handle.
 */
export abstract class ActorBase<M extends { readonly type: string }, P, C extends Killable> {
  // ---------- Message-Passing ----------
  readonly #inbox: Inbox<M>;

  // ---------- State ----------
  readonly #directory: ActorDirectory<P>;
  /** Control handles of connected peers, set on connect, cleared on release, kill or block. */
  readonly #controls = new PeerMap<C, PublicKey>();
  readonly #subscribers: Subscriber[] = [];
  #slips: Counter | undefined;
  #kills: Counter | undefined;
  #events: ConnectionEvents | undefined;
  #started = false;

  protected constructor(inbox: Inbox<M>, directory: ActorDirectory<P>) {
    this.#inbox = inbox;
    this.#directory = directory;
  }

  /**
   * Spawns the tracker loop (task `tracker`) under `parent`. Start once. Blocks and their
   * expiries are reported to `events` (`'blocked'`, `'unblocked'`).
   */
  start(parent: Context, events?: ConnectionEvents): Handle<void> {
    if (this.#started) throw new TypeError('the tracker is already started');
    this.#started = true;
    this.#events = events;
    return parent.spawn('tracker', (ctx) => this.#run(ctx));
  }

  // ---------- Hooks ----------

  /** Called once when the loop starts, before any message. */
  protected onStart(_now: number): void {}

  /**
   * Steps run after a registration was applied and its kills sent, before subscribers hear
   * (they may be as long as the directory is large, hence steps).
   */
  protected *trackedSteps(_now: number): Steps<void> {}

  /** Called after a block (`added`: a new block entry was made) and the kill. */
  protected onBlocked(_peer: PublicKey, _added: boolean, _now: number): void {}

  /** Called after expired blocks were removed (`unblocked` is never empty). */
  protected onUnblocked(_unblocked: PublicKey[], _now: number): void {}

  /** Handles a message that is not a {@link SharedMessage}. Synchronous. */
  protected abstract handle(m: Exclude<M, SharedMessage<P>>, now: number, log: Logger): void;

  // ---------- Helpers for the flavour ----------

  /** Remembers `control` as `key`'s live connection. */
  protected setControl(key: PublicKey, control: C): void {
    this.#controls.set(key, control);
  }

  /** `key`'s live connection's control handle, if any. */
  protected control(key: PublicKey): C | undefined {
    return this.#controls.get(key);
  }

  /**
   * Ends `key`'s connection, if it has one, and forgets its control handle; counted in
   * `kills{reason}` (a bounded label: {@link KillReason}), `why` logged.
   */
  protected kill(key: PublicKey, log: Logger, why: string, reason: KillReason): void {
    const control = this.#controls.get(key);
    if (control === undefined) return;
    this.#controls.delete(key);
    this.#kills?.inc({ reason });
    log.debug({ peer: key.toHex(), why, reason }, 'killing peer');
    control.kill();
  }

  /** Logs and counts a bookkeeping slip of kind `kind` (never fatal). */
  protected slip(kind: string, log: Logger, details: object): void {
    this.#slips?.inc({ kind });
    log.warn({ kind, ...details }, 'tracker bookkeeping slip');
  }

  // ---------- Loop ----------

  async #run(ctx: Context): Promise<void> {
    const inbox = this.#inbox;
    const clock = ctx.clock;
    const log = ctx.log;
    const directory = this.#directory;
    this.#slips = ctx.metrics.counter(
      'bookkeeping_errors',
      'Tracker bookkeeping slips (logged and ignored)',
      ['kind'],
    );
    this.#kills = ctx.metrics.counter('kills', 'Connections the tracker ended, by reason', [
      'reason',
    ]);
    this.onStart(clock.now());
    try {
      for (;;) {
        const next = directory.nextUnblockAt();
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
          const unblocked = directory.unblockExpired(now);
          if (unblocked.length > 0) {
            log.debug({ peers: unblocked.map((k) => k.toHex()) }, 'unblocked peers');
            for (const k of unblocked) this.#events?.emit('unblocked', k, now);
            this.onUnblocked(unblocked, now);
          }
        }
        if (inbox.isClosed) return;
        for (let i = 0; i < BATCH; i++) {
          // One at a time: a message whose work is split into steps holds back the next ones.
          const m = inbox.tryRecv();
          if (m === undefined) break;
          const steps = this.#dispatch(m, clock.now(), log);
          if (steps !== undefined && !(await this.#drive(steps, ctx, log))) return;
        }
      }
    } finally {
      inbox.close();
      for (const s of this.#subscribers) s.end();
      this.#subscribers.length = 0;
      this.#controls.clear();
      log.debug({}, 'tracker stopped');
    }
  }

  /** Handles `m`; returns the steps still to run if its work is split (a registration). */
  #dispatch(m: M, now: number, log: Logger): Steps<void> | undefined {
    try {
      if (SHARED_TYPES.has(m.type))
        return this.#handleShared(m as unknown as SharedMessage<P>, now, log);
      this.handle(m as Exclude<M, SharedMessage<P>>, now, log);
    } catch (err) {
      // The actor's state machine refused a transition: keep running, but make it visible.
      this.slip('handler', log, { type: m.type, err: String(err) });
      closeResponderOf(m);
    }
    return undefined;
  }

  /**
   * Runs `steps`, giving the event loop a turn (a zero sleep on the context's clock) whenever
   * about {@link TURN_MS} of clock time or {@link TURN_STEPS} steps have passed since the last
   * one, and before a step announced long ({@link PAUSE}). Returns false if the tracker was
   * stopped meanwhile.
   */
  async #drive(steps: Steps<void>, ctx: Context, log: Logger): Promise<boolean> {
    const clock = ctx.clock;
    let turn = clock.now();
    let done = 0;
    for (;;) {
      let pause = false;
      try {
        const r = steps.next();
        if (r.done === true) return true;
        pause = r.value === PAUSE;
      } catch (err) {
        // A registration's size is checked in its first steps, before any change.
        if (err instanceof P2PError && err.code === 'InvalidPeerSet') {
          log.warn({ err: String(err) }, 'invalid peer set ignored');
        } else {
          this.slip('handler', log, { type: 'register', err: String(err) });
        }
        return true;
      }
      if (!pause && ++done < TURN_STEPS && clock.now() - turn < TURN_MS) continue;
      try {
        await clock.sleep(0, ctx.signal);
      } catch {
        return false;
      }
      turn = clock.now();
      done = 0;
    }
  }

  /**
   * Handles one shared message at time `now`. Exhaustive; synchronous except for a registration
   * and a subscription, whose remaining work is returned as steps.
   */
  #handleShared(m: SharedMessage<P>, now: number, log: Logger): Steps<void> | undefined {
    const directory = this.#directory;
    switch (m.type) {
      case 'register': {
        let job: Steps<PublicKey[]> | undefined;
        try {
          job = directory.beginTrack(m.index, m.peers);
        } catch (err) {
          // The oracle validates first; this guards the actor against a bypassing caller.
          log.warn({ index: m.index, err: String(err) }, 'invalid peer set ignored');
          return;
        }
        if (job === undefined) {
          log.warn(
            { index: m.index, latest: directory.latestIndex() },
            'peer set index must monotonically increase; ignored',
          );
          return;
        }
        return this.#registerSteps(job, now, log);
      }
      case 'peerSet': {
        const set = directory.peerSet(m.index);
        if (set === undefined) m.responder.close();
        else m.responder.send(set);
        return;
      }
      case 'subscribe':
        return this.#subscribeSteps(m.subscriber);
      case 'block': {
        const added = directory.block(m.peer, now);
        // Kill even when already blocked: a connection must not survive a block.
        this.kill(m.peer, log, 'blocked', 'blocked');
        if (added) this.#events?.emit('blocked', m.peer, now);
        this.onBlocked(m.peer, added, now);
        return;
      }
      case 'dialable':
        return this.#dialableSteps(m.responder, now);
      case 'status':
        return this.#statusSteps(m.offset, m.limit, m.responder, now);
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
        if (r === undefined) {
          m.responder.close();
          return;
        }
        // The inbound session won the slot from a live connection of the other direction.
        if (r.supersedes)
          this.kill(m.peer, log, 'superseded by a simultaneous inbound session', 'superseded');
        if (!m.responder.send(r.reservation)) r.reservation.release();
        return;
      }
      case 'release': {
        const key = m.metadata.publicKey;
        const result = directory.release(m.metadata, now);
        // A superseded reservation's connection was already killed and forgotten; the control
        // now held is the new connection's.
        if (result === 'superseded') return;
        this.#controls.delete(key);
        if (result !== 'released') {
          this.slip(`release_${result}`, log, { peer: key.toHex(), holder: m.metadata.kind });
        }
        return;
      }
      default:
        m satisfies never;
        return undefined;
    }
  }

  *#registerSteps(job: Steps<PublicKey[]>, now: number, log: Logger): Steps<void> {
    const kill = yield* job;
    for (const key of kill)
      this.kill(key, log, 'no longer tracked or address changed', 'untracked');
    yield* this.trackedSteps(now);
    // The union of every retained set is a merge as long as the sets: only for listeners.
    if (this.#subscribers.length === 0) return;
    const update = yield* this.#directory.latestUpdateSteps();
    if (update !== undefined) this.#publish(update);
  }

  /** Answers the dialer once every record was visited (in steps: the directory may be large). */
  *#dialableSteps(responder: Responder<Dialable>, now: number): Steps<void> {
    responder.send(yield* this.#directory.dialableSteps(now));
  }

  /** Answers a status request (in steps: a page may start deep into a large directory). */
  *#statusSteps(
    offset: number,
    limit: number,
    responder: Responder<TrackerStatus>,
    now: number,
  ): Steps<void> {
    responder.send(yield* this.#directory.status(offset, limit, now));
  }

  *#subscribeSteps(subscriber: Subscriber): Steps<void> {
    const update = yield* this.#directory.latestUpdateSteps();
    if (update !== undefined && !subscriber.push(update)) return;
    this.#subscribers.push(subscriber);
  }

  #publish(update: PeerSetUpdate): void {
    let live = 0;
    for (const s of this.#subscribers) if (s.push(update)) this.#subscribers[live++] = s;
    this.#subscribers.length = live;
  }
}
