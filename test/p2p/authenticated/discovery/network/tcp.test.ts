/**
 * The discovery network on real loopback TCP (Node runtime): twelve peers that know only the
 * first one's address find each other and exchange messages. Every wait is bounded by an
 * explicit wall deadline; nothing is asserted about elapsed time.
 */

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import type { Receiver, Sender } from '../../../../../src/p2p/authenticated/channels.js';
import { Config } from '../../../../../src/p2p/authenticated/discovery/config.js';
import { Network } from '../../../../../src/p2p/authenticated/discovery/network.js';
import { Recipients } from '../../../../../src/p2p/types.js';
import { Quota } from '../../../../../src/quota/index.js';
import type { Context, Handle } from '../../../../../src/runtime/context.js';
import { nodeRuntime } from '../../../../../src/runtime/index.js';
import { NAMESPACE, signer } from './helpers.js';

const N = 12;

interface TcpPeer {
  readonly i: number;
  readonly network: Network;
  readonly sender: Sender;
  readonly receiver: Receiver;
  readonly handle: Handle<void>;
}

/** Rejects after `ms` of wall time unless `promise` settles first; the timer is always cleared. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Whether `port` can be bound on 127.0.0.1 right now (the probe is closed again). */
function bindable(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `n` free loopback ports. The dialable address is signed into each peer's record before it
 * starts, so it must be known up front (port 0 is only known after binding). The ports are
 * taken below Linux's ephemeral range (32768 and up), where the other tests' port-0 binds never
 * land, from a random start so that concurrent runs rarely probe the same ones.
 */
async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  let port = 20_000 + Math.floor(Math.random() * 10_000);
  while (ports.length < n) {
    if (await bindable(port)) ports.push(port);
    port = port + 1 >= 32_768 ? 20_000 : port + 1;
  }
  return ports;
}

/**
 * Resolves once `cond` holds, checking every 20 ms; rejects after `ms`. The loop itself ends at
 * the deadline: a bare `while (!cond()) sleep()` raced against a timer kept polling after the
 * race was lost and kept the test process alive forever.
 */
async function eventually(
  ctx: Context,
  cond: () => boolean,
  ms: number,
  what: string,
): Promise<void> {
  const end = ctx.clock.now() + ms;
  while (!cond()) {
    if (ctx.clock.now() >= end) throw new Error(`not done within ${ms} ms: ${what}`);
    await ctx.clock.sleep(20, ctx.signal);
  }
}

describe('discovery network on loopback TCP', () => {
  test('12 peers bootstrapped from one reach a full mesh and exchange messages', {
    timeout: 90_000,
  }, async () => {
    const ports = await freePorts(N);
    await nodeRuntime().run(async (ctx) => {
      const address = (i: number) => `127.0.0.1:${ports[i]}`;
      const set = Array.from({ length: N }, (_, i) => signer(i).publicKey);
      const peers: TcpPeer[] = [];
      for (let i = 0; i < N; i++) {
        const config = Config.local({
          signer: signer(i),
          namespace: NAMESPACE,
          listen: address(i),
          dialable: address(i),
          bootstrappers: i === 0 ? [] : [[signer(0).publicKey, address(0)]],
          maxPeersPerSet: 16,
          maxMessageSize: 1024,
          gossipBitVecFrequencyMs: 300,
          dialFrequencyMs: 50,
          // A cooldown well above a loaded host's handshake time: its jitter (up to the cooldown)
          // is what separates two peers that dialed each other at once and refused each other.
          peerConnectionCooldownMs: 1_000,
          handshakeTimeoutMs: 2_000,
          allowedHandshakeRatePerIp: Quota.perSecond(10_000),
          allowedHandshakeRatePerSubnet: Quota.perSecond(10_000),
        });
        const [network, oracle] = Network.create(ctx.child(`p${i}`), config);
        const [sender, receiver] = network.register(0, Quota.perSecond(10_000));
        const handle = network.start();
        oracle.register(0, set);
        peers.push({ i, network, sender, receiver, handle });
      }
      try {
        await eventually(
          ctx,
          () => peers.every((p) => p.network.connectedPeers().length === N - 1),
          45_000,
          'full mesh',
        ).catch((err: unknown) => {
          // Say how far each peer got: a failure here is a liveness bug or an overloaded host.
          const counts = peers.map((p) => p.network.connectedPeers().length);
          throw new Error(`${String(err)}; connected peers per node: ${counts.join(',')}`);
        });

        // Everyone sends its index to everyone else. A message sent on a connection that a
        // simultaneous dial then supersedes is lost with it, so senders repeat every 100 ms until
        // every peer has heard from every other.
        let done = false;
        const heard = peers.map(async (p) => {
          const from = new Set<number>();
          while (from.size < N - 1) {
            const [key, msg] = await p.receiver.recv();
            const q = peers.find((r) => signer(r.i).publicKey.equals(key));
            assert.ok(q !== undefined && q !== p);
            assert.equal(msg[0], q.i);
            from.add(q.i);
          }
          return from.size;
        });
        for (const p of peers) {
          const sent = p.sender.send(Recipients.all(), Uint8Array.of(p.i), false);
          assert.equal(sent.length, N - 1, `peer ${p.i} sent to everyone`);
        }
        const repeat = (async () => {
          for (let round = 0; round < 100 && !done; round++) {
            await ctx.clock.sleep(100);
            for (const p of peers) p.sender.send(Recipients.all(), Uint8Array.of(p.i), false);
          }
        })();
        try {
          assert.deepEqual(
            await within(Promise.all(heard), 10_000, 'everyone hears from everyone'),
            new Array(N).fill(N - 1),
          );
        } finally {
          done = true;
          await repeat;
        }
      } finally {
        // Stop the peers whatever happened, or a failed wait would leave the run (and the
        // process) alive on open sockets.
        for (const p of peers) p.handle.stop();
        await within(Promise.all(peers.map((p) => p.handle.done)), 10_000, 'shutdown');
      }
    });
  });
});
