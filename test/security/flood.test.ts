/**
 * Security row 6 (connection floods) at the network level, on real loopback TCP, for lookup and
 * discovery: flooding sockets are bound to many source addresses of 127.0.0.0/8 (distinct IPs
 * and /24 subnets, no privileges needed) and stay silent, so every admitted one holds a handshake
 * slot for the whole run (the handshake deadline is far away) and every quota period (10 minutes)
 * is far longer than the run: the counts below cannot depend on timing or on the order in which
 * the listener accepts the sockets.
 *
 * - Per IP: one IP opens 10 sockets against a burst of 3: exactly 7 `handshake_ip_rate_limited`.
 * - Per subnet: 3 subnets of 40 IPs, one socket each, against a subnet burst of 16: exactly
 *   3 × 24 `handshake_subnet_rate_limited` (the per-IP burst never binds).
 * - Concurrency: with 51 handshakes in flight, 80 sockets from 80 fresh subnets against
 *   `maxConcurrentHandshakes` 100: exactly 31 `handshake_concurrent_rate_limited`, 100 in flight.
 * - During the flood an authorized peer dialing from a fresh address (127.0.0.1, a subnet no
 *   flooder uses) connects (inbound: the target cannot reach it), and all 100 messages it then
 *   sends arrive, in order (no wall-clock rate is asserted here; the rate under a flood is pinned
 *   on the deterministic runtime by `honest-rate.test.ts`).
 * - Afterwards sockets, servers, timers and file descriptors return to their baseline and the
 *   heap after GC to within 8 MiB of it; no unhandled rejection.
 *
 * Lookup runs with `bypassIpCheck` (its registered-IP pre-filter would otherwise drop the
 * flooders before any limiter); discovery has no pre-filter.
 *
 * How we know the test bites (checked by editing the built `listener.js` locally and running this
 * file): making the per-IP check always pass fails the `handshake_ip_rate_limited` count (0, not
 * 7); the same for the subnet check (0, not 72); removing the `maxConcurrentHandshakes` check
 * fails the concurrency count (0, not 31).
 */

import assert from 'node:assert/strict';
import * as net from 'node:net';
import { describe, test } from 'node:test';
import type { PublicKey } from '../../src/crypto/ed25519.js';
import type { Receiver, Sender } from '../../src/p2p/authenticated/channels.js';
import * as discovery from '../../src/p2p/authenticated/discovery/config.js';
import { Network as DiscoveryNetwork } from '../../src/p2p/authenticated/discovery/network.js';
import * as lookup from '../../src/p2p/authenticated/lookup/config.js';
import { Network as LookupNetwork } from '../../src/p2p/authenticated/lookup/network.js';
import { Recipients } from '../../src/p2p/types.js';
import { Quota } from '../../src/quota/index.js';
import type { Context, Handle, SocketAddr } from '../../src/runtime/context.js';
import { nodeRuntime } from '../../src/runtime/index.js';
import { memoryAfterGc } from '../helpers/memory.js';
import {
  deadline,
  EventLog,
  type EventSource,
  openFds,
  openResources,
  watchRejections,
} from '../helpers/wait.js';
import { NAMESPACE, signer } from '../p2p/authenticated/lookup/network/helpers.js';

const PERIOD_MS = 10 * 60_000;
const IP_BURST = 3;
const SUBNET_BURST = 16;
const MAX_CONCURRENT = 100;
const WAIT_MS = 20_000;
const HONEST_MESSAGES = 100;

/** The limits under test, with a handshake deadline far beyond the run. */
const LIMITS = {
  allowedHandshakeRatePerIp: Quota.withPeriod(PERIOD_MS).allowBurst(IP_BURST),
  allowedHandshakeRatePerSubnet: Quota.withPeriod(PERIOD_MS).allowBurst(SUBNET_BURST),
  maxConcurrentHandshakes: MAX_CONCURRENT,
  handshakeTimeoutMs: 120_000,
  dialFrequencyMs: 50,
  maxPeersPerSet: 8,
  maxMessageSize: 1024,
  namespace: NAMESPACE,
} as const;

/** The network under attack and the honest peer, for either flavour. */
interface Setup {
  readonly target: { readonly ctx: Context; readonly network: { handshakesInFlight: number } };
  readonly targetAddress: SocketAddr;
  readonly targetLog: EventLog;
  readonly honest: PublicKey;
  /** The target's channel 0. */
  readonly targetReceiver: Receiver;
  /** Starts the honest peer (it dials the target from 127.0.0.1); returns its channel 0. */
  startHonest(): Sender;
  readonly handles: Handle<void>[];
}

/** A port nothing listens on (bound then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts the target network and waits for its listener to bind. */
async function started(
  network: EventSource & {
    start(): Handle<void>;
    address(): Promise<SocketAddr | undefined>;
  },
): Promise<Pick<Setup, 'handles' | 'targetLog' | 'targetAddress'>> {
  const handles = [network.start()];
  const targetLog = new EventLog(network);
  const targetAddress = await deadline(network.address(), 5_000, 'target binds');
  assert.ok(targetAddress !== undefined);
  return { handles, targetLog, targetAddress };
}

async function lookupSetup(ctx: Context): Promise<Setup> {
  const honestKey = signer(2);
  const dead = await closedPort();
  const tctx = ctx.child('target');
  const [network, oracle] = LookupNetwork.create(
    tctx,
    lookup.Config.local({
      ...LIMITS,
      signer: signer(1),
      listen: '127.0.0.1:0',
      bypassIpCheck: true,
    }),
  );
  const [, targetReceiver] = network.register(0, Quota.perSecond(1000));
  const { handles, targetLog, targetAddress } = await started(network);
  // The target knows the honest peer at an address it cannot reach: only an inbound connection
  // can join them.
  oracle.register(0, [
    [signer(1).publicKey, `127.0.0.1:${targetAddress.port}`],
    [honestKey.publicKey, `127.0.0.1:${dead}`],
  ]);
  return {
    target: { ctx: tctx, network },
    targetAddress,
    targetLog,
    honest: honestKey.publicKey,
    targetReceiver,
    handles,
    startHonest() {
      const [hn, ho] = LookupNetwork.create(
        ctx.child('honest'),
        lookup.Config.local({ ...LIMITS, signer: honestKey, listen: '127.0.0.1:0' }),
      );
      const [sender] = hn.register(0, Quota.perSecond(1000));
      handles.push(hn.start());
      ho.register(0, [
        [signer(1).publicKey, `127.0.0.1:${targetAddress.port}`],
        [honestKey.publicKey, `127.0.0.1:${dead}`],
      ]);
      return sender;
    },
  };
}

async function discoverySetup(ctx: Context): Promise<Setup> {
  const honestKey = signer(2);
  const dead = await closedPort();
  const set = [signer(1).publicKey, honestKey.publicKey];
  const tctx = ctx.child('target');
  const [network, oracle] = DiscoveryNetwork.create(
    tctx,
    discovery.Config.local({
      ...LIMITS,
      signer: signer(1),
      listen: '127.0.0.1:0',
      dialable: `127.0.0.1:${dead}`,
      bootstrappers: [],
    }),
  );
  const [, targetReceiver] = network.register(0, Quota.perSecond(1000));
  const { handles, targetLog, targetAddress } = await started(network);
  oracle.register(0, set);
  return {
    target: { ctx: tctx, network },
    targetAddress,
    targetLog,
    honest: honestKey.publicKey,
    targetReceiver,
    handles,
    startHonest() {
      // Its signed address is unreachable, so the target cannot dial it: it must come in.
      const [hn, ho] = DiscoveryNetwork.create(
        ctx.child('honest'),
        discovery.Config.local({
          ...LIMITS,
          signer: honestKey,
          listen: '127.0.0.1:0',
          dialable: `127.0.0.1:${dead}`,
          bootstrappers: [[signer(1).publicKey, `127.0.0.1:${targetAddress.port}`]],
        }),
      );
      const [sender] = hn.register(0, Quota.perSecond(1000));
      handles.push(hn.start());
      ho.register(0, set);
      return sender;
    },
  };
}

/** A silent flooding socket from `from`; `closed` resolves when the target closes it. */
interface FloodSocket {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

function flood(from: string, to: SocketAddr): FloodSocket {
  const socket = net.connect({ host: '127.0.0.1', port: to.port, localAddress: from });
  socket.on('error', () => {}); // a reset is as good as a close
  let done = false;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      done = true;
      resolve();
    }),
  );
  return { socket, closed, isClosed: () => done };
}

/** Resolves once `cond` holds, re-checking at every turn of the event loop (bounded). */
async function settled(cond: () => boolean, what: string): Promise<void> {
  const check = async () => {
    for (let turn = 0; turn < 10_000_000 && !cond(); turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    assert.ok(cond(), what);
  };
  await deadline(check(), WAIT_MS, what);
}

async function floodScenario(setupOf: (ctx: Context) => Promise<Setup>): Promise<void> {
  const rejections = watchRejections();
  const baseline = { resources: openResources(), fds: openFds(), heap: memoryAfterGc().heapUsed };
  const sockets: FloodSocket[] = [];
  await nodeRuntime().run(async (ctx) => {
    const s = await setupOf(ctx);
    const m = s.target.ctx.child('network').child('listener').metrics;
    const count = (name: string) => m.counter(name, '').get();
    const refused = () =>
      count('handshakes_blocked') +
      count('handshake_ip_rate_limited') +
      count('handshake_subnet_rate_limited') +
      count('handshake_concurrent_rate_limited');
    const processed = () => refused() + s.target.network.handshakesInFlight;
    try {
      // Per IP and per subnet at once (separate subnets, so neither rule sees the other's sockets).
      for (let k = 0; k < 10; k++) sockets.push(flood('127.0.1.1', s.targetAddress));
      for (let n = 2; n <= 4; n++) {
        for (let h = 1; h <= 40; h++) sockets.push(flood(`127.0.${n}.${h}`, s.targetAddress));
      }
      await settled(() => processed() === sockets.length, 'first wave processed');
      assert.equal(count('handshake_ip_rate_limited'), 10 - IP_BURST);
      assert.equal(count('handshake_subnet_rate_limited'), 3 * (40 - SUBNET_BURST));
      assert.equal(count('handshake_concurrent_rate_limited'), 0);
      assert.equal(count('handshakes_blocked'), 0);
      const inFlight = IP_BURST + 3 * SUBNET_BURST;
      assert.equal(s.target.network.handshakesInFlight, inFlight);
      const closedCount = () => sockets.filter((x) => x.isClosed()).length;
      await settled(() => closedCount() === sockets.length - inFlight, 'refused sockets closed');

      // An authorized peer from a fresh address connects while the flood holds its slots.
      const mark = s.targetLog.mark;
      const honestSender = s.startHonest();
      await s.targetLog.next(mark, 'connected', s.honest, WAIT_MS);
      // Its traffic arrives in full, in order, while the flood holds its slots.
      const received: number[] = [];
      const all = (async () => {
        while (received.length < HONEST_MESSAGES) {
          const [from, msg] = await s.targetReceiver.recv();
          assert.ok(from.equals(s.honest));
          received.push(msg[0]!);
        }
      })();
      for (let k = 0; k < HONEST_MESSAGES; k++) {
        honestSender.send(Recipients.one(signer(1).publicKey), Uint8Array.of(k), false);
      }
      await deadline(all, WAIT_MS, 'every honest message arrives');
      assert.deepEqual(
        received,
        Array.from({ length: HONEST_MESSAGES }, (_, k) => k),
      );
      await settled(
        () => s.target.network.handshakesInFlight === inFlight,
        'the honest handshake released its slot',
      );
      const before = refused();

      // Concurrency: fresh subnets, one socket each, past the cap.
      const wave = 80;
      for (let k = 0; k < wave; k++) sockets.push(flood(`127.0.${10 + k}.1`, s.targetAddress));
      await settled(
        () => refused() - before + s.target.network.handshakesInFlight === inFlight + wave,
        'second wave processed',
      );
      assert.equal(count('handshake_concurrent_rate_limited'), inFlight + wave - MAX_CONCURRENT);
      assert.equal(s.target.network.handshakesInFlight, MAX_CONCURRENT);
      assert.equal(count('handshake_ip_rate_limited'), 10 - IP_BURST, 'unchanged');
      assert.equal(count('handshake_subnet_rate_limited'), 3 * (40 - SUBNET_BURST), 'unchanged');
      await settled(
        () => closedCount() === sockets.length - MAX_CONCURRENT,
        'refused sockets closed, admitted ones open',
      );
    } finally {
      for (const h of s.handles) h.stop();
      await deadline(Promise.all(s.handles.map((h) => h.done)), WAIT_MS, 'shutdown');
    }
    // Stopping the target closed every flooding socket.
    await deadline(Promise.all(sockets.map((x) => x.closed)), WAIT_MS, 'every flood socket closed');
  });
  for (const x of sockets) x.socket.destroy();
  await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
  assert.deepEqual(openResources(), baseline.resources, 'sockets, servers and timers');
  assert.equal(openFds(), baseline.fds, 'file descriptors');
  const grown = memoryAfterGc().heapUsed - baseline.heap;
  assert.ok(
    grown < 8 * 1024 * 1024,
    `heap after GC grew by ${(grown / 1024 / 1024).toFixed(1)} MiB`,
  );
  assert.deepEqual(rejections.stop(), []);
}

describe('connection floods from many source addresses (real TCP)', () => {
  test(
    'lookup (bypassIpCheck): per-IP, per-subnet and concurrency limits hold exactly',
    {
      timeout: 90_000,
    },
    () => floodScenario(lookupSetup),
  );

  test(
    'discovery: per-IP, per-subnet and concurrency limits hold exactly',
    {
      timeout: 90_000,
    },
    () => floodScenario(discoverySetup),
  );
});
