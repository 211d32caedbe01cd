/**
 * Authenticated, encrypted streams over any byte `Connection` (a port of
 * `commonware-stream::encrypted`).
 *
 * # Design
 *
 * Two peers that know each other's static ed25519 key run a three-message handshake, then
 * exchange ChaCha20-Poly1305 frames:
 *
 * ```text
 * Dialer                                          Listener
 *   | -- frame A: dialer public key --------------> |  bouncer(key)? else close
 *   | -- Syn: time, dialer ephemeral, signature --> |  check time, verify
 *   | <-- SynAck: time, listener ephemeral,         |
 *   |             signature, confirmation --------- |
 *   | -- Ack: confirmation -----------------------> |
 *   | <========== encrypted frames ===============> |
 * ```
 *
 * Every message is framed as `varint_u32(len) || payload`. Both sides fold the namespace, the
 * timestamps, both static keys, both ephemeral keys and the X25519 shared secret into a BLAKE3
 * transcript; each signature covers the transcript so far, and the two key-confirmation tags and
 * two directional AEAD keys are drawn from the final transcript. Nonces are per-direction 96-bit
 * counters (little-endian), never transmitted.
 *
 * After the handshake, {@link Sender.sendMany} seals each message as its own frame directly into
 * chunk buffers of at most 128 KiB and writes each chunk with one sink call, and
 * {@link Receiver.recv} takes every small frame already buffered with one read, opening them one
 * per call ({@link Receiver.poll} is the same without a promise: a reader called back by the
 * runtime's `Stream.read`). The wire format is described byte by byte in PROTOCOL.md (The
 * encrypted stream protocol).
 *
 * # Security
 *
 * ## Provided
 *
 * - Mutual authentication: each side proves possession of its static key by signing the transcript.
 * - Forward secrecy: traffic keys come from ephemeral X25519 keys discarded after the handshake.
 * - Session uniqueness: the SynAck is bound to the Syn it answers, and the Ack to the whole
 *   transcript, so a replayed or spliced message never completes a handshake.
 * - Namespace and listener binding: a Syn signed for another application or another listener does
 *   not verify.
 * - Replay window: handshake timestamps outside `[now - maxHandshakeAgeMs, now + synchronyBoundMs)`
 *   are rejected; a Syn replayed inside the window earns a SynAck but cannot produce the Ack.
 * - Cheap rejection: the listener asks the bouncer about the claimed key before any cryptography,
 *   and every handshake frame has an exact size limit.
 * - Bounded handshakes: the whole handshake must finish within `handshakeTimeoutMs`.
 * - Integrity and confidentiality of every frame; tampering, replay, reordering or loss of a frame
 *   makes the stream fail (and close) at that frame, and nothing after it is delivered.
 * - Low-order X25519 keys are rejected (non-contributory exchange).
 * - No allocation is driven by an unchecked length: prefixes are validated (canonical varint-u32,
 *   at most the configured limit) before any buffer is allocated.
 *
 * ## Not provided
 *
 * - Anonymity: both static keys travel in the clear (frame A) or are implied by the dial.
 * - Traffic-analysis resistance: no padding, frame lengths are visible.
 * - Future secrecy after the compromise of a static key; 0-RTT data.
 * - Compression (deliberately: BREACH/CRIME).
 * - Denial-of-service protection beyond the above: rate limits and concurrency caps belong to the
 *   caller (p2p).
 *
 * ## Requirements
 *
 * - A namespace unique to the application and identical on every peer.
 * - Peer clocks synchronised within `synchronyBoundMs`.
 * - A reconnect when a direction reaches 2^96 messages (`MessageLimitReached`).
 *
 * # Example
 *
 * ```ts
 * import { ed25519 } from 'authp2p/crypto';
 * import { deterministicRuntime } from 'authp2p/runtime';
 * import { Config, dial, listen } from 'authp2p/stream';
 *
 * const ns = new TextEncoder().encode('my-app_STREAM');
 * const settings = { namespace: ns, maxMessageSize: 1 << 20, synchronyBoundMs: 5_000,
 *                    maxHandshakeAgeMs: 10_000, handshakeTimeoutMs: 5_000 };
 * const alice = ed25519.PrivateKey.fromSeed(1n);
 * const bob = ed25519.PrivateKey.fromSeed(2n);
 * await deterministicRuntime({ seed: 1 }).run(async (ctx) => {
 *   const server = await ctx.network.bind({ ip: '127.0.0.1', port: 3000 });
 *   const accepted = (async () =>
 *     listen(ctx, new Config({ signer: bob, ...settings }), await server.accept(), () => true))();
 *   const conn = await ctx.network.dial(server.address);
 *   const client = await dial(ctx, new Config({ signer: alice, ...settings }), conn, bob.publicKey);
 *   const session = await accepted;
 *   await client.sender.send(new TextEncoder().encode('hello'));
 *   console.log(new TextDecoder().decode(await session.receiver.recv())); // 'hello'
 *   conn.close();
 *   server.close();
 * });
 * ```
 *
 * @module authp2p/stream
 */

export { Config, type ConfigFields, MAX_MESSAGE_SIZE, type Signer, TAG_SIZE } from './config.js';
export { StreamError, type StreamErrorCode } from './errors.js';
export { type Bouncer, dial, listen, type Session } from './handshake.js';
export {
  ACK_SIZE,
  PUBLIC_KEY_SIZE,
  SIGNATURE_SIZE,
  SYN_ACK_SIZE,
  SYN_SIZE,
} from './messages.js';
export { Receiver } from './receiver.js';
export { CHUNK_SIZE, Sender, type Turns } from './transport.js';
