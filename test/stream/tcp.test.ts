import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context, Listener } from '../../src/runtime/index.js';
import { nodeRuntime } from '../../src/runtime/index.js';
import { dial, listen, type Session } from '../../src/stream/index.js';
import { codeOf, config, DIALER_KEY, LISTENER_KEY, OTHER_KEY } from './helpers.js';

async function pair(
  ctx: Context,
  server: Listener,
): Promise<{ client: Session; served: Session; close: () => void }> {
  const accepted = (async () =>
    listen(ctx, config(LISTENER_KEY), await server.accept(), () => true))();
  const conn = await ctx.network.dial(server.address);
  const client = await dial(ctx, config(DIALER_KEY), conn, LISTENER_KEY.publicKey);
  const served = await accepted;
  return { client, served, close: () => conn.close() };
}

describe('encrypted stream over loopback TCP', { timeout: 30_000 }, () => {
  it('handshakes and exchanges messages both ways', async () => {
    await nodeRuntime().run(async (ctx) => {
      const server = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
      const { client, served, close } = await pair(ctx, server);
      assert.ok(client.peer.equals(LISTENER_KEY.publicKey));
      assert.ok(served.peer.equals(DIALER_KEY.publicKey));
      const hello = new TextEncoder().encode('hello');
      await client.sender.send(hello);
      assert.deepEqual(await served.receiver.recv(), hello);
      await served.sender.send(hello);
      assert.deepEqual(await client.receiver.recv(), hello);
      close();
      server.close();
    });
  });

  it('moves 32 MiB in bulk and 20 000 small messages intact and in order', async () => {
    await nodeRuntime().run(async (ctx) => {
      const server = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
      const { client, served, close } = await pair(ctx, server);
      const big = Array.from({ length: 512 }, (_, i) => new Uint8Array(65536).fill(i & 0xff));
      const small = Array.from({ length: 20_000 }, (_, i) => {
        const m = new Uint8Array(32);
        new DataView(m.buffer).setUint32(0, i);
        return m;
      });
      const sending = (async () => {
        for (let i = 0; i < big.length; i += 16) await client.sender.sendMany(big.slice(i, i + 16));
        for (let i = 0; i < small.length; i += 256)
          await client.sender.sendMany(small.slice(i, i + 256));
      })();
      for (const m of big) assert.deepEqual(await served.receiver.recv(), m);
      for (const m of small) assert.deepEqual(await served.receiver.recv(), m);
      await sending;
      close();
      server.close();
    });
  });

  it('fails the handshake when the dialer expects another key, and the listener closes', async () => {
    await nodeRuntime().run(async (ctx) => {
      const server = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
      const served = (async () =>
        codeOf(listen(ctx, config(LISTENER_KEY), await server.accept(), () => true)))();
      const conn = await ctx.network.dial(server.address);
      const dialed = await codeOf(dial(ctx, config(DIALER_KEY), conn, OTHER_KEY.publicKey));
      assert.equal(await served, 'HandshakeFailed');
      assert.equal(dialed, 'RecvFailed');
      await conn.closed;
      server.close();
    });
  });

  it('a dialer that never speaks is cut off at the handshake deadline', async () => {
    await nodeRuntime().run(async (ctx) => {
      const server = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
      const served = (async () =>
        codeOf(
          listen(
            ctx,
            config(LISTENER_KEY, { handshakeTimeoutMs: 200 }),
            await server.accept(),
            () => true,
          ),
        ))();
      const conn = await ctx.network.dial(server.address);
      const start = performance.now();
      assert.equal(await served, 'HandshakeTimeout');
      const elapsed = performance.now() - start;
      assert.ok(elapsed >= 150 && elapsed < 2_000, `closed after ${elapsed} ms`);
      await conn.closed;
      server.close();
    });
  });
});
