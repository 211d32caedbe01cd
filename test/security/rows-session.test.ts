/**
 * Rows 9, 10, 12 and 13 of the reference's security table (`../shared/reference/security.md`
 * section 2) at the network level: whole lookup and discovery networks on the deterministic
 * runtime (virtual time, in-memory network), every scenario run twice with one seed (`twice`).
 *
 * Rows 9 and 10 put a man in the middle on the in-memory network: a relay that each peer has as
 * the other's address (lookup: registered; discovery: bootstrapper and signed record), which
 * dials the real peer from the other relay's IP and forwards whole frames, handing each to a
 * tampering rule first. Rows 12 and 13 cite the network-level tests that already pin them for
 * both flavours and add what was missing.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ed25519 } from '../../src/crypto/index.js';
import type { Receiver, Sender } from '../../src/p2p/authenticated/channels.js';
import type { SharedConfig as SharedStreamConfig } from '../../src/p2p/authenticated/config.js';
import { Config as DiscoveryConfig } from '../../src/p2p/authenticated/discovery/config.js';
import { maxGossipFrame } from '../../src/p2p/authenticated/discovery/types.js';
import { Config as LookupConfig } from '../../src/p2p/authenticated/lookup/config.js';
import { streamConfig } from '../../src/p2p/authenticated/network.js';
import type { ConnectionEvent } from '../../src/p2p/events.js';
import { Recipients } from '../../src/p2p/types.js';
import { Quota } from '../../src/quota/index.js';
import type { Connection, Context, Handle, Stream } from '../../src/runtime/context.js';
import { runningTasks, simulatedNetwork } from '../../src/runtime/index.js';
import { listen } from '../../src/stream/index.js';
import * as discovery from '../p2p/authenticated/discovery/network/helpers.js';
import * as lookup from '../p2p/authenticated/lookup/network/helpers.js';
import { twice } from '../p2p/authenticated/scenarios.js';

const until = lookup.until;
const COOLDOWN_MS = 1_000;
type Flavour = 'lookup' | 'discovery';
const FLAVOURS: readonly Flavour[] = ['lookup', 'discovery'];

/** What a scenario uses of a peer of either flavour. */
interface AnyPeer {
  readonly pk: ed25519.PublicKey;
  readonly hex: string;
  readonly sender: Sender;
  readonly receiver: Receiver;
  readonly handle: Handle<void>;
  readonly network: {
    connected(): ed25519.PublicKey[];
    events(): AsyncIterableIterator<ConnectionEvent>;
  };
  readonly ctx: Context;
}

const linked = (a: AnyPeer, b: AnyPeer) => a.network.connected().some((k) => k.equals(b.pk));

const metric = lookup.counter;

// --- the man in the middle -------------------------------------------------------------------

/**
 * `up`: dialer to listener (its key, Syn, Ack, then encrypted); `down`: listener to dialer
 * (SynAck, then encrypted).
 */
type Dir = 'up' | 'down';
/** Plaintext handshake frames before the encrypted ones, per direction. */
const HANDSHAKE: Record<Dir, number> = { up: 3, down: 1 };
/** Given one whole frame (prefix and body), the frames to forward instead (none drops it). */
type Tamper = (dir: Dir, conn: number, index: number, frame: Uint8Array) => Uint8Array[];

/** Reads one length-prefixed frame, prefix included. */
async function readFrame(stream: Stream): Promise<Uint8Array> {
  const prefix: number[] = [];
  let len = 0;
  for (let shift = 1; ; shift *= 128) {
    const b = (await stream.recv(1))[0]!;
    prefix.push(b);
    len += (b & 0x7f) * shift;
    if ((b & 0x80) === 0) break;
    assert.ok(prefix.length < 5, 'relay: varint too long');
  }
  const body = len > 0 ? await stream.recv(len) : new Uint8Array(0);
  const frame = new Uint8Array(prefix.length + len);
  frame.set(prefix);
  frame.set(body, prefix.length);
  return frame;
}

interface Relay {
  readonly address: string;
  /** Connections accepted so far. */
  connections: number;
  /** Frames forwarded per direction. */
  readonly frames: Record<Dir, number>;
  stop(): Promise<void>;
}

/**
 * Listens at `ip:3000`; every accepted connection is paired with a dial to `target` leaving from
 * `fromIp`, and frames flow through `tamper` both ways. Closing either side closes both.
 */
function relay(ctx: Context, ip: string, target: string, fromIp: string, tamper: Tamper): Relay {
  const net = simulatedNetwork(ctx);
  const [tIp, tPort] = target.split(':') as [string, string];
  const open = new Set<Connection>();
  const state: Relay = {
    address: `${ip}:3000`,
    connections: 0,
    frames: { up: 0, down: 0 },
    stop: async () => {
      task.stop();
      for (const c of open) c.close();
      await task.done.catch(() => undefined);
    },
  };
  const pump = async (dir: Dir, id: number, from: Connection, to: Connection) => {
    try {
      for (let index = 0; ; index++) {
        const frame = await readFrame(from.stream);
        state.frames[dir]++;
        for (const out of tamper(dir, id, index, frame)) await to.sink.send(out);
      }
    } catch {
      from.close();
      to.close();
    }
  };
  const tag = ip.replaceAll('.', '_');
  const task = ctx.spawn(`relay_${tag}`, async (c) => {
    const listener = await net.host(ip).bind({ ip, port: 3000 });
    c.signal.addEventListener('abort', () => listener.close());
    for (;;) {
      let client: Connection;
      try {
        client = await listener.accept(c.signal);
      } catch {
        return;
      }
      const id = state.connections++;
      open.add(client);
      c.spawn(`relay_${tag}_${id}`, async () => {
        let server: Connection;
        try {
          server = await net.host(fromIp).dial({ ip: tIp, port: Number(tPort) });
        } catch {
          client.close();
          return;
        }
        open.add(server);
        await Promise.all([pump('up', id, client, server), pump('down', id, server, client)]);
        open.delete(client);
        open.delete(server);
      });
    }
  });
  return state;
}

/** Two peers of `flavour` whose every connection crosses a relay with `tamper`. */
async function pair(ctx: Context, flavour: Flavour, tamper: Tamper, overrides = {}) {
  const [ipA, ipB] = [lookup.ipOf(1), lookup.ipOf(2)];
  // The relay in front of B dials from the other relay's IP (what B knows A by), and back.
  const toB = relay(ctx, '10.0.9.1', `${ipB}:3000`, '10.0.9.2', tamper);
  const toA = relay(ctx, '10.0.9.2', `${ipA}:3000`, '10.0.9.1', tamper);
  const common = { peerConnectionCooldownMs: COOLDOWN_MS, dialFrequencyMs: 100, ...overrides };
  let a: AnyPeer;
  let b: AnyPeer;
  if (flavour === 'lookup') {
    const pa = lookup.startPeer(ctx, 1, { overrides: common });
    const pb = lookup.startPeer(ctx, 2, { overrides: common });
    pa.oracle.register(0, [
      [pa.pk, pa.address],
      [pb.pk, toB.address],
    ]);
    pb.oracle.register(0, [
      [pa.pk, toA.address],
      [pb.pk, pb.address],
    ]);
    [a, b] = [pa, pb];
  } else {
    const pa = discovery.startPeer(ctx, 1, {
      overrides: {
        ...common,
        dialable: toA.address,
        bootstrappers: [[lookup.signer(2).publicKey, toB.address]],
      },
    });
    const pb = discovery.startPeer(ctx, 2, { overrides: { ...common, dialable: toB.address } });
    for (const p of [pa, pb]) p.oracle.register(0, [pa.pk, pb.pk]);
    [a, b] = [pa, pb];
  }
  const events = { a: [] as ConnectionEvent[], b: [] as ConnectionEvent[] };
  const readers = (
    [
      [a, events.a],
      [b, events.b],
    ] as const
  ).map(([p, into]) =>
    ctx.spawn('events', async () => {
      for await (const e of p.network.events()) into.push(e);
    }),
  );
  const stop = async () => {
    for (const p of [a, b]) p.handle.stop();
    await Promise.all([a, b].map((p) => p.handle.done.catch(() => undefined)));
    await Promise.all([toA.stop(), toB.stop()]);
    for (const r of readers) r.stop();
  };
  return { a, b, relays: [toA, toB], events, stop };
}

const disconnects = (events: readonly ConnectionEvent[]) =>
  events.filter((e) => e.kind === 'disconnected');

// --- row 9 -----------------------------------------------------------------------------------

/** Message `seq` from peer `from`: 4 bytes of seq then 12 bytes derived from both. */
function numbered(from: number, seq: number): Uint8Array {
  const m = new Uint8Array(16);
  new DataView(m.buffer).setUint32(0, seq);
  for (let i = 4; i < 16; i++) m[i] = (seq * 31 + from * 7 + i) & 0xff;
  return m;
}

type Fault = 'flip' | 'replay' | 'reorder' | 'drop';

describe('row 9: a tampered encrypted frame between two connected peers', () => {
  // Bites (checked): with the AEAD check and the poisoning removed in the built JS
  // (build/src/crypto/cipher.js `open`: on a failed tag `return ciphertextAndTag.subarray(0,
  // ciphertextAndTag.length - 16)` instead of poisoning and throwing), every fault is read as a
  // frame and the connection closes later for another reason (`DecodeFailed` on the reading side),
  // so the reasons assertion fails for all 8 cases.
  for (const flavour of FLAVOURS) {
    for (const fault of ['flip', 'replay', 'reorder', 'drop'] as const satisfies Fault[]) {
      test(`${flavour}: ${fault} closes that connection, the peers reconnect after the cooldown, nothing delivered twice or corrupted`, async () => {
        const result = await twice(9, async (ctx) => {
          let armed = false;
          let done = 0;
          let held: Uint8Array | undefined;
          const tamper: Tamper = (dir, _conn, index, frame) => {
            if (held !== undefined && dir === 'up') {
              const first = held;
              held = undefined;
              return [frame, first];
            }
            if (!armed || dir !== 'up' || index < HANDSHAKE[dir]) return [frame];
            armed = false;
            done++;
            switch (fault) {
              case 'flip': {
                const f = frame.slice();
                f[f.length - 20]! ^= 0x01;
                return [f];
              }
              case 'replay':
                return [frame, frame];
              case 'reorder':
                held = frame;
                return [];
              case 'drop':
                return [];
            }
          };
          const { a, b, relays, events, stop } = await pair(ctx, flavour, tamper);
          await until(ctx, () => linked(a, b) && linked(b, a), 'connected');
          // Both send numbered messages to each other every 20 ms; both check what arrives.
          const got = { a: [] as number[], b: [] as number[] };
          const tasks = (
            [
              [a, b, 1, got.b],
              [b, a, 2, got.a],
            ] as const
          ).flatMap(([from, to, n, into]) => [
            ctx.spawn(`send${n}`, async (c) => {
              for (let seq = 0; !c.signal.aborted; seq++) {
                from.sender.send(Recipients.one(to.pk), numbered(n, seq), false);
                await c.clock.sleep(20, c.signal).catch(() => undefined);
              }
            }),
            ctx.spawn(`recv${n}`, async () => {
              for (;;) {
                const [who, msg] = await to.receiver.recv();
                assert.ok(who.equals(from.pk));
                const seq = new DataView(msg.buffer, msg.byteOffset).getUint32(0);
                assert.deepEqual(msg, numbered(n, seq), 'delivered intact');
                into.push(seq);
              }
            }),
          ]);
          await until(ctx, () => got.a.length >= 10 && got.b.length >= 10, 'traffic flows');
          const before = relays[0]!.connections + relays[1]!.connections;
          armed = true;
          await until(ctx, () => done === 1 && held === undefined, 'tampered');
          const tamperedAt = ctx.clock.now();
          await until(
            ctx,
            () => disconnects(events.a).length > 0 && disconnects(events.b).length > 0,
            'the connection closed on both sides',
          );
          const closedAt = ctx.clock.now();
          await until(ctx, () => linked(a, b) && linked(b, a), 'reconnected');
          const reconnectedAt = ctx.clock.now();
          const [na, nb] = [got.a.length, got.b.length];
          await until(
            ctx,
            () => got.a.length >= na + 10 && got.b.length >= nb + 10,
            'traffic flows again',
          );
          for (const t of tasks) t.stop();
          await stop();
          // Once each, in order: nothing replayed, nothing duplicated across the reconnection.
          for (const seqs of [got.a, got.b]) {
            for (let i = 1; i < seqs.length; i++)
              assert.ok(seqs[i]! > seqs[i - 1]!, 'in order, once');
          }
          const after = relays[0]!.connections + relays[1]!.connections;
          assert.ok(after > before, 'a new connection was made');
          assert.ok(closedAt - tamperedAt < 500, 'closed at once');
          assert.ok(
            reconnectedAt - closedAt >= COOLDOWN_MS / 2,
            `reconnected after the cooldown (${reconnectedAt - closedAt} ms)`,
          );
          // A typed failure on the side that read the frame (the other sees its peer go away);
          // one connection closed, once.
          const reasons = [...disconnects(events.a), ...disconnects(events.b)].map((e) => e.reason);
          assert.deepEqual(reasons, ['ReceiveFailed', 'ReceiveFailed']);
          return { reasons, reconnectMs: reconnectedAt - closedAt };
        });
        assert.equal(result.reasons.length, 2);
      });
    }
  }
});

// --- row 10 ----------------------------------------------------------------------------------

type Mitm = 'key' | 'syn' | 'synack' | 'ack' | 'stale-syn';

describe('row 10: a man in the middle of the handshake never gets a session', () => {
  // Bites (checked, in the built JS build/src/stream/handshake.js, both flavours): with the
  // listener's `Ack confirmation mismatch` check removed, 'ack' fails (the listener takes a
  // session, both ends linked); with the dialer's SynAck confirmation and SynAck signature
  // checks removed as well, 'synack' and 'stale-syn' fail (the SynAck signature binds the
  // dialer's own Syn); with the listener's Syn signature check removed too, 'syn' fails. A
  // rewritten dialer key names an untracked key and is refused before any cryptography (row 8).
  for (const flavour of FLAVOURS) {
    for (const mode of ['key', 'syn', 'synack', 'ack', 'stale-syn'] as const satisfies Mitm[]) {
      test(`${flavour}: ${mode === 'stale-syn' ? "an earlier connection's Syn substituted" : `every ${mode === 'key' ? "dialer's key" : mode} rewritten`}: no session for 8 s, failures counted, a clean path connects`, async () => {
        await twice(10, async (ctx) => {
          let active = true;
          let recorded: Uint8Array | undefined;
          let rewritten = 0;
          const tamper: Tamper = (dir, conn, index, frame) => {
            if (!active) return [frame];
            const which = dir === 'down' ? 'synack' : (['key', 'syn', 'ack'][index] ?? '');
            if (mode === 'stale-syn') {
              if (which !== 'syn') return [frame];
              rewritten++;
              if (recorded === undefined) {
                recorded = frame;
                return []; // held back: the first dial never completes
              }
              return [recorded];
            }
            if (which !== mode) return [frame];
            // One byte, at a position that moves with every connection (prefix excluded).
            const f = frame.slice();
            f[1 + ((conn * 7 + 3) % (f.length - 1))]! ^= 0x80;
            rewritten++;
            return [f];
          };
          const { a, b, relays, events, stop } = await pair(ctx, flavour, tamper, {
            handshakeTimeoutMs: 1_000,
          });
          // Both keep sending; nothing may arrive, and the two never both hold a session.
          let delivered = 0;
          let both = false;
          const tasks = [
            [a, b],
            [b, a],
          ].flatMap(([from, to]) => [
            ctx.spawn('send', async (c) => {
              while (!c.signal.aborted) {
                from!.sender.send(Recipients.one(to!.pk), numbered(0, 0), false);
                both ||= linked(a, b) && linked(b, a);
                await c.clock.sleep(10, c.signal).catch(() => undefined);
              }
            }),
            ctx.spawn('recv', async () => {
              for (;;) {
                await to!.receiver.recv();
                delivered++;
              }
            }),
          ]);
          await ctx.clock.sleep(8_000);
          for (const t of tasks) t.stop();
          assert.equal(delivered, 0, 'nothing delivered through the man in the middle');
          assert.ok(!both, 'never a session on both sides');
          const connectedEvents = [...events.a, ...events.b].filter((e) => e.kind === 'connected');
          // A dialer whose Ack was rewritten holds a session until the listener closes on it.
          if (mode !== 'ack') assert.deepEqual(connectedEvents, [], 'no session at either end');
          assert.ok(rewritten >= 3, `the peers kept trying (${rewritten} rewritten)`);
          const failed = [a, b].map((p) => metric(p, 'listener', 'handshakes_failed').get());
          assert.ok(failed[0]! + failed[1]! >= 3, `listeners counted failures: ${failed}`);
          // The same path, untouched, connects: the refusals were the tampering's doing.
          active = false;
          await until(ctx, () => linked(a, b) && linked(b, a), 'connected once clean', {
            timeoutMs: 10_000,
          });
          assert.ok(relays[0]!.connections + relays[1]!.connections > rewritten / 2);
          await stop();
          return failed;
        });
      });
    }
  }
});

describe('row 10: a compromised listener key does not let its holder impersonate others to it', () => {
  // The attacker holds B's private key and sits where A expects B. It completes A's handshake
  // as B (expected: B's key is compromised), then replays A's key frame, Syn and Ack to the real
  // B: B answers, but A's Ack confirms the attacker's transcript, not B's (ephemeral-ephemeral
  // DH), so B never holds a session with "A".
  // Bites (checked): with the listener's `Ack confirmation mismatch` check removed in the built
  // JS (build/src/stream/handshake.js), B takes the replayed session (it keeps the connection
  // and sends on it) and "B closed the replayed connection" fails, in both flavours.
  for (const flavour of FLAVOURS) {
    test(`${flavour}: B refuses A's replayed handshake; only the attacker's own session with A exists`, async () => {
      await twice(11, async (ctx) => {
        const net = simulatedNetwork(ctx);
        const ipB = lookup.ipOf(2);
        const common = { peerConnectionCooldownMs: COOLDOWN_MS, dialFrequencyMs: 100 };
        let a: AnyPeer;
        let b: AnyPeer;
        let cfg: SharedStreamConfig;
        let minFrame = 0;
        if (flavour === 'lookup') {
          const pa = lookup.startPeer(ctx, 1, { overrides: common });
          const pb = lookup.startPeer(ctx, 2, { overrides: common });
          pa.oracle.register(0, [
            [pa.pk, pa.address],
            [pb.pk, '10.0.9.1:3000'],
          ]);
          // Nothing listens where B thinks A is: every path between them is the attacker's.
          pb.oracle.register(0, [
            [pa.pk, '10.0.9.2:3000'],
            [pb.pk, pb.address],
          ]);
          [a, b] = [pa, pb];
          cfg = LookupConfig.local({
            signer: lookup.signer(2),
            namespace: lookup.NAMESPACE,
            listen: `${ipB}:3000`,
            maxPeersPerSet: 32,
            maxMessageSize: 1024,
          });
        } else {
          const pa = discovery.startPeer(ctx, 1, {
            overrides: {
              ...common,
              dialable: '10.0.9.2:3000',
              bootstrappers: [[lookup.signer(2).publicKey, '10.0.9.1:3000']],
            },
          });
          const pb = discovery.startPeer(ctx, 2, { overrides: common });
          for (const p of [pa, pb]) p.oracle.register(0, [pa.pk, pb.pk]);
          [a, b] = [pa, pb];
          const dcfg = DiscoveryConfig.local({
            signer: lookup.signer(2),
            namespace: discovery.NAMESPACE,
            listen: `${ipB}:3000`,
            dialable: `${ipB}:3000`,
            bootstrappers: [],
            maxPeersPerSet: 64,
            maxMessageSize: 1024,
          });
          cfg = dcfg;
          minFrame = maxGossipFrame(dcfg.maxPeersPerSet, dcfg.peerGossipMaxCount);
        }
        const bEvents: ConnectionEvent[] = [];
        const reader = ctx.spawn('events', async () => {
          for await (const e of b.network.events()) bEvents.push(e);
        });
        // The attacker: accept A once, record what A sends, answer as B.
        const listener = await net.host('10.0.9.1').bind({ ip: '10.0.9.1', port: 3000 });
        const fromA = await listener.accept();
        const seen: Uint8Array[] = [];
        const recorded: Connection = {
          ...fromA,
          sink: fromA.sink,
          close: () => fromA.close(),
          closed: fromA.closed,
          stream: {
            recv: async (n) => {
              const got = await fromA.stream.recv(n);
              seen.push(got.slice());
              return got;
            },
            peek: (max) => fromA.stream.peek(max),
          },
        };
        const session = await listen(ctx, streamConfig(cfg, minFrame), recorded, () => true);
        assert.ok(session.peer.equals(a.pk), "the attacker, holding B's key, fools A");
        listener.close();
        // Replay A's frames to the real B, from where B expects A.
        const frames = splitFrames(concat(seen));
        assert.equal(frames.length, 3, "A's key, Syn and Ack");
        const toB = await net.host('10.0.9.2').dial({ ip: ipB, port: 3000 });
        await toB.sink.send([frames[0]!, frames[1]!]);
        await readFrame(toB.stream); // B's SynAck, for the attacker's replayed Syn
        await toB.sink.send(frames[2]!);
        const refused = await readFrame(toB.stream).then(
          () => false,
          () => true,
        );
        assert.ok(refused, 'B closed the replayed connection');
        await ctx.clock.sleep(3_000);
        assert.ok(!linked(b, a), 'B never connected to A');
        assert.deepEqual(
          bEvents.filter((e) => e.kind === 'connected'),
          [],
        );
        assert.ok(metric(b, 'listener', 'handshakes_failed').get() >= 1);
        fromA.close();
        for (const p of [a, b]) p.handle.stop();
        await Promise.all([a, b].map((p) => p.handle.done.catch(() => undefined)));
        reader.stop();
        return bEvents.length;
      });
    });
  }
});

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Splits whole length-prefixed frames (prefixes kept). */
function splitFrames(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < buf.length) {
    let len = 0;
    let i = o;
    for (let shift = 1; ; shift *= 128) {
      const b = buf[i++]!;
      len += (b & 0x7f) * shift;
      if ((b & 0x80) === 0) break;
    }
    out.push(buf.subarray(o, i + len));
    o = i + len;
  }
  return out;
}

// --- rows 12 and 13: three direct peers -----------------------------------------------------

/** Three peers of `flavour` in a full mesh on the in-memory network, channel 0 at `quota`. */
async function trio(ctx: Context, flavour: Flavour, quota: Quota): Promise<AnyPeer[]> {
  const overrides = { maxPeersPerSet: 3, trackedPeerSets: 1 };
  let peers: AnyPeer[];
  if (flavour === 'lookup') {
    const ps = [0, 1, 2].map((i) => lookup.startPeer(ctx, i, { quota, overrides }));
    for (const p of ps) p.oracle.register(0, lookup.entries(ps));
    peers = ps;
  } else {
    const boot = discovery.startPeer(ctx, 0, { quota, overrides });
    const ps = [
      boot,
      ...[1, 2].map((i) =>
        discovery.startPeer(ctx, i, { quota, overrides, bootstrappers: [boot] }),
      ),
    ];
    for (const p of ps) p.oracle.register(0, discovery.keys(ps));
    peers = ps;
  }
  await until(ctx, () => peers.every((p) => peers.every((q) => p === q || linked(p, q))), 'mesh');
  return peers;
}

describe('row 12: an application that never reads does not slow the others; drops counted', () => {
  // Already pinned at the network level: test/p2p/authenticated/{lookup,discovery}/network/
  // traffic.test.ts ("a peer behind a stalled link does not delay delivery to the others", both
  // flavours; discovery also "a peer whose application never reads", paced by a small inbound
  // quota). Added here, for both flavours: a reader that never reads under a quota it does not
  // exceed, so its channel queue (capacity R * burst = 3 * 20) fills and drops the newest, counted
  // in `channel_mailbox_dropped{channel}`, while the reading peer gets every message at once.
  // Bites (checked): with the channel queue unbounded in the built JS
  // (build/src/p2p/authenticated/channels.js: `mailbox(capacity, unreliable())` given a capacity
  // of 1e6), nothing is dropped and "every overflow counted" fails in both flavours.
  for (const flavour of FLAVOURS) {
    test(`${flavour}: the fast reader gets all 200 within 50 ms each; the deaf one drops the overflow, counted, still connected`, async () => {
      const out = await twice(12, async (ctx) => {
        const [p0, deaf, fast] = (await trio(ctx, flavour, Quota.perSecond(20))) as [
          AnyPeer,
          AnyPeer,
          AnyPeer,
        ];
        const sentAt: number[] = [];
        const latencies: number[] = [];
        const reader = ctx.spawn('fast', async () => {
          for (let k = 0; k < 200; k++) {
            const [from, msg] = await fast.receiver.recv();
            assert.ok(from.equals(p0.pk));
            const seq = new DataView(msg.buffer, msg.byteOffset).getUint32(0);
            assert.equal(seq, k, 'in order, once');
            latencies.push(ctx.clock.now() - sentAt[seq]!);
          }
        });
        // 200 broadcasts at 19 a second: within the quota, so nobody is paced.
        for (let k = 0; k < 200; k++) {
          sentAt.push(ctx.clock.now());
          assert.equal(p0.sender.send(Recipients.all(), numbered(0, k), false).length, 2);
          await ctx.clock.sleep(1000 / 19);
        }
        await reader.done;
        const dropped = metric(deaf, undefined, 'channel_mailbox_dropped', ['channel']).get({
          channel: 0,
        });
        assert.ok(Math.max(...latencies) < 50, `max latency ${Math.max(...latencies)} ms`);
        // The queue holds R * burst: lookup 3 * 20; discovery also retains its bootstrapper.
        assert.equal(dropped, 200 - (flavour === 'lookup' ? 3 : 4) * 20, 'every overflow counted');
        assert.ok(linked(p0, deaf) && linked(deaf, p0), 'slow is not dead: still connected');
        for (const p of [p0, deaf, fast]) p.handle.stop();
        await Promise.all([p0, deaf, fast].map((p) => p.handle.done.catch(() => undefined)));
        return [dropped, Math.max(...latencies)];
      });
      assert.ok(out[0]! > 0);
    });
  }
});

describe('row 13: shutdown with operations in flight', () => {
  // Already pinned at the network level: restart on a new address, block then unblock by
  // expiry, peer-set rollover (test/p2p/authenticated/lookup/network/lifecycle.test.ts;
  // discovery: lifecycle.test.ts for rollover and block expiry, gossip.test.ts for moved peers
  // found by newer records), simultaneous dials for both flavours over 20 seeds
  // (test/p2p/authenticated/nat.test.ts), random sequences of all of them
  // (test/security/model.test.ts). Added here, for both flavours: stopping every peer while
  // sends are queued, receives pending and a peer is mid-reconnect.
  // Bites (checked): with the channels' `close()` made a no-op in the built JS
  // (build/src/p2p/authenticated/channels.js), the pending receives never settle and the
  // deterministic runtime reports a deadlock, in both flavours.
  for (const flavour of FLAVOURS) {
    test(`${flavour}: stop resolves at once, pending receives reject, later sends deliver nothing, no task left`, async () => {
      await twice(13, async (ctx) => {
        const peers = (await trio(ctx, flavour, Quota.perSecond(10_000))) as [
          AnyPeer,
          AnyPeer,
          AnyPeer,
        ];
        const [p0, p1] = peers;
        // p2's connections are cut: it is reconnecting when the stop comes.
        const net = simulatedNetwork(ctx);
        for (const c of net.connections()) net.cut(c.id);
        // Pending receives everywhere, a burst of sends queued from p0 to both.
        const pending = peers.map((p) =>
          p.receiver.recv().then(
            () => 'delivered',
            (err: unknown) => (err as { code?: string }).code ?? String(err),
          ),
        );
        for (let k = 0; k < 500; k++) p0.sender.send(Recipients.all(), numbered(0, k), k % 2 === 0);
        const before = ctx.clock.now();
        for (const p of peers) p.handle.stop();
        await Promise.all(peers.map((p) => p.handle.done.catch(() => undefined)));
        assert.ok(ctx.clock.now() - before <= 1, `stopped in ${ctx.clock.now() - before} ms`);
        const outcomes = await Promise.all(pending);
        assert.deepEqual(outcomes, ['NetworkClosed', 'NetworkClosed', 'NetworkClosed']);
        assert.deepEqual(runningTasks(ctx), [''], 'only the scenario itself still runs');
        assert.deepEqual(p1.sender.send(Recipients.all(), numbered(1, 0), false), []);
        return outcomes;
      });
    });
  }
});
