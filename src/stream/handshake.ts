/**
 * The three-message, mutually authenticated handshake (commonware `stream/src/encrypted.rs` and
 * `cryptography/src/handshake.rs`): frame A (dialer key), Syn, SynAck, Ack.
 *
 * @module
 */

import { timingSafeEqual } from 'node:crypto';
import { cipherPair } from '../crypto/cipher.js';
import { ed25519, Transcript, x25519 } from '../crypto/index.js';
import type { Connection, Context } from '../runtime/context.js';
import { turnsOf } from '../runtime/turn.js';
import type { Config } from './config.js';
import { StreamError } from './errors.js';
import { encodeFrame, recvFrame } from './frame.js';
import {
  ACK_SIZE,
  decodeAck,
  decodeSyn,
  decodeSynAck,
  encodeSyn,
  encodeSynAck,
  encodeTimestamp,
  PUBLIC_KEY_SIZE,
  SYN_ACK_SIZE,
  SYN_SIZE,
} from './messages.js';
import { Receiver } from './receiver.js';
import { Sender } from './transport.js';

const utf8 = new TextEncoder();

/** Label forking the namespace transcript into the handshake transcript (34 bytes). */
const HANDSHAKE_LABEL = utf8.encode('_COMMONWARE_CRYPTOGRAPHY_HANDSHAKE');
const CIPHER_L2D = utf8.encode('cipher_l2d');
const CIPHER_D2L = utf8.encode('cipher_d2l');
const CONFIRMATION_L2D = utf8.encode('confirmation_l2d');
const CONFIRMATION_D2L = utf8.encode('confirmation_d2l');

/** Handshake signatures are made over a transcript summary with the empty namespace. */
const EMPTY = new Uint8Array(0);

/** AEAD key size. */
const KEY_SIZE = 32;

/**
 * Decides whether the listener continues a handshake with the dialer that claims this key. It
 * runs before any cryptographic work, on the unauthenticated claim; p2p passes the tracker's
 * `acceptable`.
 */
export type Bouncer = (peer: ed25519.PublicKey) => boolean | Promise<boolean>;

/** An authenticated, encrypted connection. */
export interface Session {
  /** The authenticated static key of the other end. */
  readonly peer: ed25519.PublicKey;
  /** Encrypts and writes to the connection. */
  readonly sender: Sender;
  /** Reads from the connection and decrypts. */
  readonly receiver: Receiver;
  /**
   * The other end's handshake timestamp (ms since the Unix epoch, by its clock): the SynAck's
   * for a dialer, the Syn's for a listener. Compared with the local clock it estimates the
   * peer's clock offset (what the synchrony bound limits).
   */
  readonly peerTimestamp: number;
}

/** Keys and confirmation tags derived from the finished transcript. */
interface Derived {
  readonly l2d: Uint8Array;
  readonly d2l: Uint8Array;
  readonly confirmL2d: Uint8Array;
  readonly confirmD2l: Uint8Array;
}

function derive(t: Transcript): Derived {
  return {
    l2d: t.noise(CIPHER_L2D).bytes(KEY_SIZE),
    d2l: t.noise(CIPHER_D2L).bytes(KEY_SIZE),
    confirmL2d: t.fork(CONFIRMATION_L2D).summarize(),
    confirmD2l: t.fork(CONFIRMATION_D2L).summarize(),
  };
}

/** `T = Transcript.new(ns).fork("_COMMONWARE_CRYPTOGRAPHY_HANDSHAKE")`. */
function handshakeTranscript(namespace: Uint8Array): Transcript {
  return Transcript.new(namespace).fork(HANDSHAKE_LABEL);
}

/**
 * The session over `connection` (its sender coalesces each turn's frames at `ctx`'s end of turn);
 * the key bytes are wiped once the ciphers hold their copies.
 */
function session(
  ctx: Context,
  connection: Connection,
  config: Config,
  peer: ed25519.PublicKey,
  sendKey: Uint8Array,
  recvKey: Uint8Array,
  peerTimestamp: bigint,
): Session {
  const [sendCipher, recvCipher] = cipherPair(sendKey, recvKey);
  const sender = new Sender(connection, sendCipher, config.maxMessageSize, turnsOf(ctx));
  const receiver = new Receiver(connection, recvCipher, config.maxMessageSize);
  sendKey.fill(0);
  recvKey.fill(0);
  return { peer, sender, receiver, peerTimestamp: Number(peerTimestamp) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function fail(message: string): StreamError {
  return new StreamError('HandshakeFailed', message);
}

/**
 * Accepts a peer timestamp only inside `[now - maxHandshakeAge, now + synchronyBound)`
 * (half-open, the lower bound saturating at 0), as upstream's `Range::contains`.
 */
function checkTimestamp(t: bigint, now: number, config: Config): void {
  const low = BigInt(Math.max(0, now - config.maxHandshakeAgeMs));
  const high = BigInt(now) + BigInt(config.synchronyBoundMs);
  if (t < low || t >= high) {
    throw new StreamError('InvalidTimestamp', `timestamp ${t} outside [${low}, ${high})`);
  }
}

/** Whole milliseconds since the epoch (a clock may report fractions; the wire carries a u64). */
function nowMs(ctx: Context): number {
  return Math.max(0, Math.floor(ctx.clock.now()));
}

function exchange(secret: x25519.EphemeralSecret, peer: Uint8Array): Uint8Array {
  try {
    return secret.exchange(peer);
  } catch (err) {
    throw new StreamError('HandshakeFailed', 'key exchange failed', { cause: err });
  }
}

async function send(connection: Connection, bytes: Uint8Array): Promise<void> {
  try {
    await connection.sink.send(bytes);
  } catch (err) {
    throw new StreamError('SendFailed', undefined, { cause: err });
  }
}

/** Reason given to the deadline timer when the handshake ends first (never surfaced). */
const DEADLINE_CANCELLED: unknown = Object.freeze({ reason: 'handshake finished' });

// One abort listener per context signal, fanned out to the handshakes running under it: a
// listener per handshake would trip Node's MaxListeners warning with more than ten in flight.
const abortWatchers = new WeakMap<AbortSignal, Set<() => void>>();

function watchAbort(signal: AbortSignal, fn: () => void): () => void {
  let watchers = abortWatchers.get(signal);
  if (watchers === undefined) {
    const set = new Set<() => void>();
    watchers = set;
    abortWatchers.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        abortWatchers.delete(signal);
        for (const f of set) f();
        set.clear();
      },
      { once: true },
    );
  }
  const set = watchers;
  set.add(fn);
  return () => {
    set.delete(fn);
  };
}

/**
 * Runs `work` under the handshake deadline and the context's signal. Whatever ends the handshake
 * early (failure, deadline, abort) closes the connection; closing it makes any pending read
 * reject, and that late rejection is observed here, so nothing is left dangling or unhandled.
 */
async function guarded(
  ctx: Context,
  config: Config,
  connection: Connection,
  role: 'dialer' | 'listener',
  work: () => Promise<Session>,
): Promise<Session> {
  if (ctx.signal.aborted) {
    connection.close();
    throw ctx.signal.reason;
  }
  const cancel = new AbortController();
  let unwatch: (() => void) | undefined;
  const interrupted = new Promise<'timeout' | 'aborted'>((resolve) => {
    ctx.clock.sleep(config.handshakeTimeoutMs, cancel.signal).then(
      () => resolve('timeout'),
      () => {},
    );
    unwatch = watchAbort(ctx.signal, () => resolve('aborted'));
  });
  try {
    const outcome = await Promise.race([work(), interrupted]);
    if (outcome === 'timeout') throw new StreamError('HandshakeTimeout');
    if (outcome === 'aborted') throw ctx.signal.reason;
    return outcome;
  } catch (err) {
    connection.close();
    const error =
      err instanceof StreamError || err === ctx.signal.reason
        ? err
        : new StreamError('HandshakeFailed', undefined, { cause: err });
    ctx.log.debug(
      {
        role,
        remote: connection.remote,
        code: error instanceof StreamError ? error.code : 'Aborted',
        detail: error instanceof Error ? error.message : String(error),
        cause:
          error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined,
      },
      'stream handshake failed',
    );
    throw error;
  } finally {
    // A fixed reason: abort() without one builds a DOMException (with a stack) per handshake.
    cancel.abort(DEADLINE_CANCELLED);
    unwatch?.();
  }
}

/**
 * Dials: authenticates the listener at the other end of `connection` as `expectedPeer` and
 * returns the encrypted session.
 *
 * Sends frame A (our public key) and the Syn in one write, checks the SynAck's timestamp,
 * signature and key confirmation, then answers with the Ack. The whole exchange is bounded by
 * `config.handshakeTimeoutMs`. On any failure the connection is closed and nothing is sent to
 * explain why.
 *
 * @throws StreamError `HandshakeFailed`, `HandshakeTimeout`, `InvalidTimestamp`, `RecvTooLarge`,
 *   `InvalidVarint`, `RecvFailed`, `SendFailed`; or `ctx.signal.reason` when the context stops.
 */
export function dial(
  ctx: Context,
  config: Config,
  connection: Connection,
  expectedPeer: ed25519.PublicKey,
): Promise<Session> {
  return guarded(ctx, config, connection, 'dialer', () =>
    dialer(ctx, config, connection, expectedPeer),
  );
}

async function dialer(
  ctx: Context,
  config: Config,
  connection: Connection,
  listenerKey: ed25519.PublicKey,
): Promise<Session> {
  const { signer } = config;
  const self = signer.publicKey.toBytes();
  const ephemeral = x25519.EphemeralSecret.generate(ctx.rng);
  const t = handshakeTranscript(config.namespace);

  // Syn: the signature covers (namespace, time, listener key, our ephemeral key), binding it to
  // this listener and this application.
  const timestamp = BigInt(nowMs(ctx));
  t.commit(encodeTimestamp(timestamp));
  t.commit(listenerKey.toBytes());
  t.commit(ephemeral.publicKey);
  const signature = signer.sign(EMPTY, t.summarize());
  t.commit(self);
  // Frame A and the Syn leave in one write (the same bytes as two frames sent apart).
  const frameA = encodeFrame(self, PUBLIC_KEY_SIZE);
  const syn = encodeFrame(
    encodeSyn({ timestamp, ephemeral: ephemeral.publicKey, signature }),
    SYN_SIZE,
  );
  const opening = new Uint8Array(frameA.length + syn.length);
  opening.set(frameA, 0);
  opening.set(syn, frameA.length);
  await send(connection, opening);

  // SynAck: the listener's timestamp, ephemeral key and signature, and its key confirmation.
  const synAck = decodeSynAck(await recvFrame(connection.stream, SYN_ACK_SIZE));
  checkTimestamp(synAck.timestamp, nowMs(ctx), config);
  t.commit(encodeTimestamp(synAck.timestamp));
  t.commit(synAck.ephemeral);
  if (!listenerKey.verify(EMPTY, t.summarize(), synAck.signature)) {
    throw fail('invalid SynAck signature');
  }
  const shared = exchange(ephemeral, synAck.ephemeral);
  t.commit(shared);
  shared.fill(0);
  const keys = derive(t);
  if (!sameBytes(keys.confirmL2d, synAck.confirmation)) throw fail('SynAck confirmation mismatch');

  await send(connection, encodeFrame(keys.confirmD2l, ACK_SIZE));
  return session(ctx, connection, config, listenerKey, keys.d2l, keys.l2d, synAck.timestamp);
}

/**
 * Listens: authenticates whoever dials in on `connection` and returns the encrypted session.
 *
 * Reads frame A (exactly one public key) and asks `bouncer` about the claimed key before doing
 * any cryptographic work; a refusal closes the connection (`PeerRejected`) without reading the
 * Syn. Then checks the Syn's timestamp and signature, replies with the SynAck, and checks the
 * Ack's key confirmation. The whole exchange is bounded by `config.handshakeTimeoutMs`.
 *
 * @throws StreamError `PeerRejected`, `HandshakeFailed`, `HandshakeTimeout`, `InvalidTimestamp`,
 *   `RecvTooLarge`, `InvalidVarint`, `RecvFailed`, `SendFailed`; or `ctx.signal.reason`.
 */
export function listen(
  ctx: Context,
  config: Config,
  connection: Connection,
  bouncer: Bouncer,
): Promise<Session> {
  return guarded(ctx, config, connection, 'listener', () =>
    listener(ctx, config, connection, bouncer),
  );
}

async function listener(
  ctx: Context,
  config: Config,
  connection: Connection,
  bouncer: Bouncer,
): Promise<Session> {
  const { signer } = config;

  // Frame A: the dialer's claimed identity; cheap rejection comes first.
  const claimed = await recvFrame(connection.stream, PUBLIC_KEY_SIZE);
  if (claimed.length !== PUBLIC_KEY_SIZE) throw fail('dialer key has the wrong size');
  let dialerKey: ed25519.PublicKey;
  try {
    dialerKey = ed25519.PublicKey.fromBytes(claimed);
  } catch (err) {
    throw new StreamError('HandshakeFailed', 'invalid dialer key', { cause: err });
  }
  if (!(await bouncer(dialerKey))) {
    throw new StreamError('PeerRejected', `peer ${dialerKey.toHex()} rejected`);
  }

  // Syn.
  const syn = decodeSyn(await recvFrame(connection.stream, SYN_SIZE));
  const now = nowMs(ctx);
  checkTimestamp(syn.timestamp, now, config);
  const t = handshakeTranscript(config.namespace);
  t.commit(encodeTimestamp(syn.timestamp));
  t.commit(signer.publicKey.toBytes());
  t.commit(syn.ephemeral);
  if (!dialerKey.verify(EMPTY, t.summarize(), syn.signature)) throw fail('invalid Syn signature');
  t.commit(claimed);

  // SynAck. The exchange runs before signing so a low-order key costs no signature.
  const ephemeral = x25519.EphemeralSecret.generate(ctx.rng);
  const shared = exchange(ephemeral, syn.ephemeral);
  const time = encodeTimestamp(BigInt(now));
  t.commit(time);
  t.commit(ephemeral.publicKey);
  const signature = signer.sign(EMPTY, t.summarize());
  t.commit(shared);
  shared.fill(0);
  const keys = derive(t);
  const synAck = encodeSynAck({
    timestamp: BigInt(now),
    ephemeral: ephemeral.publicKey,
    signature,
    confirmation: keys.confirmL2d,
  });
  await send(connection, encodeFrame(synAck, SYN_ACK_SIZE));

  // Ack: proves the dialer derived the same keys (and so holds its ephemeral secret).
  const ack = decodeAck(await recvFrame(connection.stream, ACK_SIZE));
  if (!sameBytes(keys.confirmD2l, ack)) throw fail('Ack confirmation mismatch');
  return session(ctx, connection, config, dialerKey, keys.l2d, keys.d2l, syn.timestamp);
}
