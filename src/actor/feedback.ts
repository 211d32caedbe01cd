/**
 * What a non-blocking submission (`Sender.enqueue`) did with a message.
 *
 * - `'ok'`: accepted into the bounded ready queue (within capacity).
 * - `'backoff'`: the ready queue was full and the overflow policy retained the message; it will
 *   be delivered, but the producer should slow down.
 * - `'dropped'`: the ready queue was full and the overflow policy rejected the message; it will
 *   never be delivered (any responder it carried has been settled with `undefined`).
 * - `'closed'`: the receiving side is closed; the message was discarded.
 *
 * `'dropped'` mirrors upstream `commonware_actor::Feedback::Dropped`: without it a caller could
 * not tell a retained message from a rejected one.
 */
export type Feedback = 'ok' | 'backoff' | 'dropped' | 'closed';
