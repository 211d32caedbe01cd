/**
 * The receiving end of a channel (the `Receiver` of `Network.register`): messages from every
 * peer in arrival order, as a promise per message or an async iterator.
 *
 * @module
 */

import type { Inbox } from '../../actor/index.js';
import { P2PError } from '../errors.js';
import type { ChannelMessage } from './channels.js';

/** The result of a finished receiver iteration. */
const ITER_DONE: IteratorResult<never> = Object.freeze({ value: undefined, done: true });

/**
 * Receives on one channel: messages from every peer, in arrival order. `T` is what a message is
 * (`[from, payload]` for a network channel; the mux backup channel adds the sub-channel).
 */
export class Receiver<T = ChannelMessage> implements AsyncIterable<T> {
  /** The channel this receiver reads. */
  readonly channel: number;
  readonly #inbox: Inbox<T>;

  /** @internal Made by {@link Channels.register} (and the utilities' muxer). */
  constructor(channel: number, inbox: Inbox<T>) {
    this.channel = channel;
    this.#inbox = inbox;
  }

  /**
   * Resolves with the next `[from, message]`. `message` owns its memory: its `.buffer` holds at
   * most its own frame (the message and a header of at most 16 bytes), never another message.
   *
   * @throws P2PError `NetworkClosed` once the network has stopped; `signal.reason` if `signal`
   *   aborts first (the pending wait is removed, no message is lost).
   */
  recv(options?: { readonly signal?: AbortSignal }): Promise<T> {
    // A queued message is returned at once (even if `signal` has aborted, as before).
    const m = this.#inbox.tryRecv();
    if (m !== undefined) return Promise.resolve(m);
    return this.#recvWait(options?.signal);
  }

  async #recvWait(signal: AbortSignal | undefined): Promise<T> {
    const inbox = this.#inbox;
    for (;;) {
      const m = inbox.tryRecv();
      if (m !== undefined) return m;
      if (inbox.isClosed) throw new P2PError('NetworkClosed');
      signal?.throwIfAborted();
      await inbox.ready(signal);
    }
  }

  /**
   * Iterates messages until the network stops (then ends without throwing). Hand-rolled rather
   * than an async generator: a queued message costs one resolved promise, not a generator
   * resumption.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    const inbox = this.#inbox;
    let done = false;
    const finish = (): IteratorResult<T> => {
      done = true;
      return ITER_DONE;
    };
    const iterator: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T>> => {
        if (done) return Promise.resolve(ITER_DONE);
        const m = inbox.tryRecv();
        if (m !== undefined) return Promise.resolve({ value: m, done: false });
        return this.#recvWait(undefined).then(
          (value) => ({ value, done: false }),
          (err) => {
            if (err instanceof P2PError && err.code === 'NetworkClosed') return finish();
            done = true;
            throw err;
          },
        );
      },
      return: (): Promise<IteratorResult<T>> => Promise.resolve(finish()),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Messages waiting to be received. */
  get size(): number {
    return this.#inbox.size;
  }
}
