/**
 * Typed values over a channel (commonware `p2p/src/utils/codec.rs`): {@link wrap} pairs a
 * channel's sender and receiver with a `Codec`, so an application sends and receives
 * values rather than bytes.
 *
 * A peer that sends bytes that do not decode (under the codec's limits `cfg`) is misbehaving: the
 * wrapped receiver blocks it through the given {@link Blocker} (the oracle, or a simulated
 * network's control), counts it in {@link WrappedReceiver.invalid}, drops the message and waits
 * for the next one. Messages of that peer already queued behind it are still decoded (blocking
 * takes effect at the tracker, which closes the connection).
 *
 * @module
 */

import {
  type CfgArgs,
  type Codec,
  CodecError,
  decode,
  type Encoder,
  encode,
} from '../../codec/index.js';
import type { PublicKey } from '../../crypto/ed25519.js';
import { P2PError } from '../errors.js';
import type { Recipients } from '../types.js';
import type { Blocker, ChannelReceiver, ChannelSender } from './types.js';

/** A decoded message: the authenticated sender and the value. */
export type WrappedMessage<T> = [from: PublicKey, value: T];

/** Sends values of `T` on a channel, encoded with the codec. */
export class WrappedSender<T> {
  readonly #codec: Encoder<T>;
  readonly #sender: ChannelSender;

  /** @internal Made by {@link wrap}. */
  constructor(codec: Encoder<T>, sender: ChannelSender) {
    this.#codec = codec;
    this.#sender = sender;
  }

  /** The channel number. */
  get channel(): number {
    return this.#sender.channel;
  }

  /**
   * Encodes `value` and sends it; returns the peers it will be attempted to.
   *
   * @throws P2PError `MessageTooLarge` if the encoding exceeds the network's limit; RangeError
   *   or TypeError if `value` is not encodable.
   */
  send(recipients: Recipients, value: T, priority: boolean): PublicKey[] {
    return this.#sender.send(recipients, encode(this.#codec, value), priority);
  }
}

/** Receives values of `T` on a channel; blocks peers whose messages do not decode. */
export class WrappedReceiver<T> implements AsyncIterable<WrappedMessage<T>> {
  readonly #decode: (bytes: Uint8Array) => T;
  readonly #receiver: ChannelReceiver;
  readonly #blocker: Blocker;
  #invalid = 0;

  /** @internal Made by {@link wrap}. */
  constructor(decode: (bytes: Uint8Array) => T, receiver: ChannelReceiver, blocker: Blocker) {
    this.#decode = decode;
    this.#receiver = receiver;
    this.#blocker = blocker;
  }

  /** The channel number. */
  get channel(): number {
    return this.#receiver.channel;
  }

  /** Messages that failed to decode so far (each one blocked its sender). */
  get invalid(): number {
    return this.#invalid;
  }

  /**
   * The next message that decodes. A message that does not decode blocks its sender and is
   * skipped.
   *
   * @throws P2PError `NetworkClosed` once the network has stopped; `signal.reason` on abort.
   */
  async recv(options?: { readonly signal?: AbortSignal }): Promise<WrappedMessage<T>> {
    for (;;) {
      const [from, bytes] = await this.#receiver.recv(options);
      try {
        return [from, this.#decode(bytes)];
      } catch (err) {
        if (!(err instanceof CodecError)) throw err;
        this.#invalid++;
        this.#blocker.block(from);
      }
    }
  }

  /** Iterates decoded messages until the network stops (then ends without throwing). */
  async *[Symbol.asyncIterator](): AsyncIterator<WrappedMessage<T>> {
    for (;;) {
      try {
        yield await this.recv();
      } catch (err) {
        if (err instanceof P2PError && err.code === 'NetworkClosed') return;
        throw err;
      }
    }
  }
}

/**
 * Wraps a channel's `sender` and `receiver` with `codec`: values are encoded on send and decoded
 * (under `cfg`, the codec's limits) on receive; a peer whose message fails to decode is blocked
 * through `blocker`.
 *
 * @example
 * ```ts
 * import { bytes } from 'authp2p/codec';
 *
 * const [sender, receiver] = network.register(0, Quota.perSecond(100));
 * // Values are byte strings of at most 64 bytes; a peer sending anything else is blocked.
 * const [digests, incoming] = wrap(bytes, sender, receiver, oracle, { max: 64 });
 * digests.send(Recipients.all(), digest, false);
 * const [from, value] = await incoming.recv();
 * ```
 */
export function wrap<T, Cfg>(
  codec: Codec<T, Cfg>,
  sender: ChannelSender,
  receiver: ChannelReceiver,
  blocker: Blocker,
  ...[cfg]: CfgArgs<Cfg>
): [WrappedSender<T>, WrappedReceiver<T>] {
  const decodeOne = (b: Uint8Array): T => decode(codec, b, ...([cfg] as CfgArgs<Cfg>));
  return [new WrappedSender(codec, sender), new WrappedReceiver(decodeOne, receiver, blocker)];
}
