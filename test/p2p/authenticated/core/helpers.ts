/**
 * Shared fixtures for the p2p core tests: deterministic runs, test keys, a handshaked stream pair
 * on the in-memory network, and small fakes.
 */

import { ed25519 } from '../../../../src/crypto/index.js';
import type { InboundChannel } from '../../../../src/p2p/authenticated/channels.js';
import type {
  PeerConnection,
  StreamSender,
} from '../../../../src/p2p/authenticated/lookup/peer/index.js';
import { Quota } from '../../../../src/quota/index.js';
import type { Context } from '../../../../src/runtime/context.js';
import {
  type DeterministicRuntimeOptions,
  deterministicRuntime,
} from '../../../../src/runtime/index.js';
import { Config, dial, listen } from '../../../../src/stream/index.js';

/** Runs `fn` in a deterministic runtime and returns its result. */
export async function run<T>(
  fn: (ctx: Context) => Promise<T>,
  options: Partial<DeterministicRuntimeOptions> = {},
): Promise<T> {
  return (await deterministicRuntime({ seed: 1, ...options }).run(fn)).result;
}

/** Runs `fn` twice with the same seed and returns both digests and results. */
export async function runTwice<T>(
  fn: (ctx: Context) => Promise<T>,
  seed = 7,
): Promise<[{ result: T; digest: string }, { result: T; digest: string }]> {
  const a = await deterministicRuntime({ seed }).run(fn);
  const b = await deterministicRuntime({ seed }).run(fn);
  return [a, b];
}

/** commonware's deterministic test key `n`. */
export function signer(n: number): ed25519.PrivateKey {
  return ed25519.PrivateKey.fromSeed(BigInt(n));
}

/** The public key of test key `n`. */
export function pk(n: number): ed25519.PublicKey {
  return signer(n).publicKey;
}

const te = new TextEncoder();
/** UTF-8 bytes. */
export function utf8(s: string): Uint8Array {
  return te.encode(s);
}
/** UTF-8 decode. */
export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

const STREAM = {
  namespace: utf8('core-test_STREAM'),
  maxMessageSize: 1 << 16,
  synchronyBoundMs: 5_000,
  maxHandshakeAgeMs: 10_000,
  handshakeTimeoutMs: 5_000,
} as const;

/** A {@link StreamSender} wrapper that records every `sendMany` batch. */
export class CountingSender implements StreamSender {
  readonly batches: Uint8Array[][] = [];
  readonly times: number[] = [];
  readonly #inner: StreamSender;
  readonly #ctx: Context;
  constructor(ctx: Context, inner: StreamSender) {
    this.#ctx = ctx;
    this.#inner = inner;
  }
  sendMany(messages: readonly Uint8Array[]): Promise<void> {
    this.batches.push([...messages]);
    this.times.push(this.#ctx.clock.now());
    return this.#inner.sendMany(messages);
  }
  /** Every frame sent, flattened. */
  get frames(): Uint8Array[] {
    return this.batches.flat();
  }
}

/**
 * Two ends of a real handshaked (encrypted) stream over the deterministic in-memory network:
 * `a` is test key `aKey` talking to `bKey`, `b` the reverse. `a.sender` counts `sendMany` calls.
 */
export async function streamPair(
  ctx: Context,
  aKey = 1,
  bKey = 2,
  port = 4000,
): Promise<{ a: PeerConnection & { sender: CountingSender }; b: PeerConnection }> {
  const listener = await ctx.network.bind({ ip: '127.0.0.1', port });
  const accepted = listener.accept();
  const dialed = await ctx.network.dial(listener.address);
  const inbound = await accepted;
  listener.close();
  const [sa, sb] = await Promise.all([
    dial(ctx, new Config({ ...STREAM, signer: signer(aKey) }), dialed, pk(bKey)),
    listen(ctx, new Config({ ...STREAM, signer: signer(bKey) }), inbound, () => true),
  ]);
  return {
    a: {
      peer: sa.peer,
      sender: new CountingSender(ctx, sa.sender),
      receiver: sa.receiver,
      connection: dialed,
    },
    b: { peer: sb.peer, sender: sb.sender, receiver: sb.receiver, connection: inbound },
  };
}

/** A recording {@link InboundChannel} with an optional capacity. */
export class FakeInbound implements InboundChannel {
  readonly channel: number;
  readonly quota: Quota;
  readonly delivered: { from: string; message: string; at: number }[] = [];
  readonly #ctx: Context;
  constructor(ctx: Context, channel: number, quota: Quota) {
    this.#ctx = ctx;
    this.channel = channel;
    this.quota = quota;
  }
  deliver(peer: ed25519.PublicKey, message: Uint8Array): boolean {
    this.delivered.push({ from: peer.toHex(), message: text(message), at: this.#ctx.clock.now() });
    return true;
  }
}

/** A routes table over {@link FakeInbound}s. */
export function routes(...channels: FakeInbound[]): {
  inbound(c: number): InboundChannel | undefined;
  readonly maxMessageSize: number;
} {
  const map = new Map(channels.map((c) => [c.channel, c]));
  return { inbound: (c) => map.get(c), maxMessageSize: 1 << 20 };
}

export { Quota };

/**
 * An in-memory fake of an authenticated connection for focused peer-actor tests: frames pushed
 * with `push` are returned by `receiver.recv()`; `close()` fails pending and later receives.
 */
export class FakeConn {
  readonly peer: ed25519.PublicKey;
  readonly sent: Uint8Array[][] = [];
  closed = false;
  #frames: Uint8Array[] = [];
  #waiter: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | undefined;

  readonly #closedPromise: Promise<never>;
  #rejectClosed!: (e: Error) => void;

  constructor(peer: ed25519.PublicKey) {
    this.peer = peer;
    this.#closedPromise = new Promise<never>((_, reject) => {
      this.#rejectClosed = reject;
    });
    this.#closedPromise.catch(() => {});
  }

  push(frame: Uint8Array): void {
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w.resolve(frame);
    } else this.#frames.push(frame);
  }

  /** While set, `sendMany` records the batch and then waits for this promise. */
  gate: Promise<void> | undefined;

  readonly sender = {
    sendMany: async (messages: readonly Uint8Array[]): Promise<void> => {
      if (this.closed) throw new Error('closed');
      this.sent.push([...messages]);
      // Like a real connection, closing fails a write that is stuck.
      if (this.gate !== undefined) await Promise.race([this.gate, this.#closedPromise]);
    },
  };

  readonly receiver = {
    recv: (): Promise<Uint8Array> => {
      if (this.closed) return Promise.reject(new Error('closed'));
      const f = this.#frames.shift();
      if (f !== undefined) return Promise.resolve(f);
      return new Promise((resolve, reject) => {
        this.#waiter = { resolve, reject };
      });
    },
  };

  readonly connection = {
    close: (): void => {
      if (this.closed) return;
      this.closed = true;
      this.#rejectClosed(new Error('closed'));
      this.#waiter?.reject(new Error('closed'));
      this.#waiter = undefined;
    },
  };
}
