/**
 * The lookup network on real loopback TCP (Node runtime). Every wait is bounded: events are
 * awaited with an explicit deadline, and the test itself has a timeout.
 */

import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import type { Receiver, Sender } from '../../../../../src/p2p/authenticated/channels.js';
import { Config } from '../../../../../src/p2p/authenticated/lookup/config.js';
import { Network } from '../../../../../src/p2p/authenticated/lookup/network.js';
import type { Oracle } from '../../../../../src/p2p/authenticated/lookup/oracle.js';
import { P2PError } from '../../../../../src/p2p/errors.js';
import { Recipients } from '../../../../../src/p2p/types.js';
import { Quota } from '../../../../../src/quota/index.js';
import type { Context, Handle, SocketAddr } from '../../../../../src/runtime/context.js';
import { nodeRuntime } from '../../../../../src/runtime/index.js';
import { deadline, openResources } from '../../../../helpers/wait.js';
import { NAMESPACE, signer } from './helpers.js';

const N = 10;

interface TcpPeer {
  readonly i: number;
  readonly ctx: Context;
  readonly network: Network;
  readonly oracle: Oracle;
  readonly sender: Sender;
  readonly receiver: Receiver;
  readonly handle: Handle<void>;
  address: SocketAddr;
}

/** Each peer sends its key to all every 100 ms until everyone has heard from every other peer. */
async function exchange(ctx: Context, peers: readonly TcpPeer[], round: number): Promise<void> {
  const stop = new AbortController();
  const heard = peers.map(async (p) => {
    const from = new Set<number>();
    while (from.size < peers.length - 1) {
      const [key, msg] = await p.receiver.recv();
      if (msg[0] !== round) continue; // a late copy from an earlier round
      const sender = peers.find((q) => signer(q.i).publicKey.equals(key));
      assert.ok(sender !== undefined && sender !== p);
      assert.equal(msg[1], sender.i);
      from.add(sender.i);
    }
  });
  const senders = peers.map(async (p) => {
    while (!stop.signal.aborted) {
      p.sender.send(Recipients.all(), Uint8Array.of(round, p.i), false);
      await ctx.clock.sleep(100, stop.signal).catch(() => {});
    }
  });
  try {
    await deadline(Promise.all(heard), 20_000, `round ${round}: everyone hears from everyone`);
  } finally {
    stop.abort();
    await Promise.all(senders);
  }
}

/** Opens a raw TCP socket to `address`, writes `bytes` (if any) and waits for the peer to close it. */
async function rawSocket(
  address: SocketAddr,
  bytes: Uint8Array | undefined,
  what: string,
): Promise<void> {
  const socket: Socket = connect({ host: address.ip, port: address.port });
  socket.on('error', () => {}); // a reset is as good as a close
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await deadline(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('close', () => reject(new Error('closed before connecting')));
    }),
    5_000,
    `${what}: connect`,
  );
  if (bytes !== undefined) socket.write(bytes);
  try {
    await deadline(closed, 10_000, `${what}: closed by the listener`);
  } finally {
    socket.destroy();
  }
}

describe('lookup network on loopback TCP', () => {
  test('10 peers connect, exchange messages, and shrug off garbage, oversized and silent sockets', {
    timeout: 90_000,
  }, async () => {
    const baseline = openResources();
    await nodeRuntime().run(async (ctx) => {
      const peers: TcpPeer[] = [];
      for (let i = 0; i < N; i++) {
        const pctx = ctx.child(`p${i}`);
        const config = Config.local({
          signer: signer(i),
          namespace: NAMESPACE,
          listen: '127.0.0.1:0',
          maxPeersPerSet: 16,
          maxMessageSize: 1024,
          dialFrequencyMs: 50,
          peerConnectionCooldownMs: 200,
          handshakeTimeoutMs: 1_000,
          allowedHandshakeRatePerIp: Quota.perSecond(10_000),
          allowedHandshakeRatePerSubnet: Quota.perSecond(10_000),
        });
        const [network, oracle] = Network.create(pctx, config);
        const [sender, receiver] = network.register(0, Quota.perSecond(10_000));
        const handle = network.start();
        peers.push({
          i,
          ctx: pctx,
          network,
          oracle,
          sender,
          receiver,
          handle,
          address: { ip: '', port: 0 },
        });
      }
      for (const p of peers) {
        const bound = await deadline(p.network.address(), 5_000, `peer ${p.i} binds`);
        assert.ok(bound !== undefined && bound.port > 0);
        p.address = bound;
      }
      const set = peers.map((p) => [signer(p.i).publicKey, `127.0.0.1:${p.address.port}`] as const);
      for (const p of peers) p.oracle.register(0, set);

      await exchange(ctx, peers, 1);

      // Three hostile sockets against peer 0: each is closed and counted.
      const target = peers[0]!;
      const failed = target.ctx
        .child('network')
        .child('listener')
        .metrics.counter('handshakes_failed', '');
      const before = failed.get();
      await Promise.all([
        rawSocket(
          target.address,
          new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
          'garbage',
        ),
        rawSocket(
          target.address,
          Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3),
          'oversize prefix',
        ),
        rawSocket(target.address, undefined, 'silent'),
      ]);
      assert.ok(failed.get() - before >= 3, `handshakes_failed grew by ${failed.get() - before}`);
      assert.equal(target.network.handshakesInFlight, 0);

      // The honest peers are undisturbed.
      await exchange(ctx, peers, 2);

      for (const p of peers) p.handle.stop();
      await deadline(Promise.all(peers.map((p) => p.handle.done)), 10_000, 'shutdown');
      // `done` means closed: no socket, server or timer of the networks is left, even before
      // the runtime's own end-of-run cleanup.
      assert.deepEqual(openResources(), baseline, 'every socket, server and timer is released');
    });
  });

  test('a port already in use rejects handle.done with ListenFailed naming the address', {
    timeout: 30_000,
  }, async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    try {
      await nodeRuntime().run(async (ctx) => {
        const config = Config.local({
          signer: signer(0),
          namespace: NAMESPACE,
          listen: `127.0.0.1:${port}`,
          maxPeersPerSet: 4,
          maxMessageSize: 1024,
        });
        const [network] = Network.create(ctx, config);
        const handle = network.start();
        const err = await deadline(
          handle.done.then(
            () => undefined,
            (e: unknown) => e,
          ),
          10_000,
          'the network reports the failure',
        );
        assert.ok(err instanceof P2PError);
        assert.equal(err.code, 'ListenFailed');
        assert.ok(err.message.includes(`127.0.0.1:${port}`), err.message);
        assert.ok(err.cause !== undefined);
        assert.equal(await network.address(), undefined);
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
