/**
 * Actor primitives: the message-passing building blocks every long-lived component (tracker,
 * router, spawner, peer, dialer, listener) is written with.
 *
 * The model follows `commonware_actor` (STYLE 2.5). An actor owns an {@link Inbox} and runs one
 * loop; everyone else holds a {@link Sender} (usually wrapped in a typed `Mailbox` class).
 * Sending never awaits: {@link Sender.enqueue} returns {@link Feedback} at once, so two actors
 * that message each other (tracker and peer) cannot deadlock, and backpressure is a value the
 * producer must look at (`'backoff'`, `'dropped'`) rather than a stalled `await`.
 *
 * A mailbox is a bounded ready queue (a ring buffer) plus an overflow queue. While the ready
 * queue has room and nothing waits in overflow, messages go straight in (`'ok'`). Otherwise the
 * mailbox's {@link OverflowPolicy} decides per message: {@link reliable} keeps everything (the
 * tracker), {@link unreliable} rejects (hard bound), {@link dropNewest}/{@link dropOldest} bound
 * the overflow, {@link byMessage} mixes by variant (a `kill` that clears everything queued).
 * Overflow moves into the ready queue, in order, as the actor takes messages.
 *
 * Request/response uses a {@link Responder} carried in the message's `responder` field
 * ({@link Sender.request} builds it). Every responder is settled exactly once: by the actor
 * (`send`/`close`) or, for messages the mailbox discards (rejected, evicted by a policy, or
 * queued at {@link Inbox.close}), by the mailbox with `undefined`: the stand-in for Rust dropping
 * a oneshot.
 *
 * Waiting is split from taking: {@link Inbox.ready} is a non-consuming readiness promise, safe to
 * race with {@link select} against timers and shutdown; messages are then taken synchronously
 * with `tryRecv`/`drain`. A {@link ring} channel keeps only the newest items (latest wins).
 *
 * @module authp2p/actor
 */

export type { Wake } from '../runtime/wake.js';
export type { Feedback } from './feedback.js';
export {
  byMessage,
  dropNewest,
  dropOldest,
  type Inbox,
  type MailboxOptions,
  mailbox,
  type OverflowPolicy,
  reliable,
  type Sender,
  unreliable,
  type WatchedInbox,
} from './mailbox.js';
export { closeResponderOf, hasResponder, Responder, responder } from './responder.js';
export { type RingInbox, type RingSender, ring } from './ring.js';
export { select } from './select.js';
