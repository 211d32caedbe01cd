/**
 * The admin endpoint on real loopback TCP (Node runtime): a three-peer lookup cluster of the
 * demo's with traffic, peer 0's endpoint. Every wait is bounded by an explicit deadline.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { AdminError, serveAdmin } from '../../src/admin/index.js';
import type { StatusJson } from '../../src/admin/status.js';
import { nodeRuntime } from '../../src/runtime/index.js';
import { deadline, get, served, until } from './helpers.js';

describe('admin endpoint', () => {
  test('/metrics passes promtool check metrics on a node with traffic', {
    timeout: 60_000,
  }, async () => {
    await nodeRuntime().run(async (ctx) => {
      const c = await served(ctx, 3);
      try {
        await until(ctx, () => c.peers[0]!.stats.received > 20, 20_000, 'traffic');
        const res = await get(c.admin, '/metrics');
        assert.equal(res.status, 200);
        assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
        // Counters carry `_total`; process metrics are there; no gauge is named like a counter.
        assert.match(res.body, /^# TYPE peer0_network_messages_sent_total counter$/m);
        assert.match(
          res.body,
          /^peer0_network_messages_sent_total\{peer="[0-9a-f]{64}",message="data_0"\} [1-9]/m,
        );
        assert.match(res.body, /^# TYPE process_cpu_user_seconds_total counter$/m);
        assert.match(res.body, /^nodejs_heap_size_used_bytes /m);
        assert.doesNotMatch(res.body, /nodejs_active_\w+_total/);
        // Prometheus' own validator (Debian's prometheus package; .ci/run installs it).
        const out = execFileSync('promtool', ['check', 'metrics'], {
          input: res.body,
          encoding: 'utf8',
        });
        assert.equal(out.trim(), '');
      } finally {
        await c.close();
      }
    });
  });

  test('/status answers the API shape, paged, and the SSE stream carries snapshots', {
    timeout: 60_000,
  }, async () => {
    await nodeRuntime().run(async (ctx) => {
      const c = await served(ctx, 3, { tickMs: 100 });
      try {
        // Until traffic went both ways with every peer.
        let s: StatusJson | undefined;
        await until(
          ctx,
          async () => {
            const res = await get(c.admin, '/status');
            assert.equal(res.status, 200);
            s = JSON.parse(res.body) as StatusJson;
            return (
              s.channels.length === 2 && s.peers.every((p) => p.messagesIn > 0 && p.messagesOut > 0)
            );
          },
          20_000,
          'traffic both ways',
        );
        if (s === undefined) throw new Error('no status');
        assert.equal(s.key, c.peers[0]!.key.publicKey.toHex());
        assert.equal(s.network, 'lookup');
        assert.equal(s.listen, c.peers[0]!.address);
        assert.equal(s.total, 2);
        assert.equal(s.offset, 0);
        assert.deepEqual(
          s.sets.map((set) => [set.index, set.primary.length, set.secondary.length]),
          [[0, 3, 0]],
        );
        const others = c.peers.slice(1).map((p) => p.key.publicKey.toHex());
        assert.deepEqual(s.peers.map((p) => p.key).sort(), [...others].sort());
        for (const p of s.peers) {
          assert.equal(p.state, 'connected');
          assert.equal(p.address, c.peers.find((q) => q.key.publicKey.toHex() === p.key)!.address);
          assert.ok(typeof p.since === 'number' && p.since <= s.at);
          assert.ok(p.messagesIn > 0 && p.messagesOut > 0 && p.bytesIn > 0 && p.bytesOut > 0);
          assert.equal(p.blockedUntil, null);
          assert.deepEqual(Object.keys(p), [
            'key',
            'address',
            'state',
            'since',
            'messagesIn',
            'messagesOut',
            'bytesIn',
            'bytesOut',
            'rateLimited',
            'dropped',
            'blockedUntil',
          ]);
        }
        assert.deepEqual(
          s.channels.map((ch) => ch.channel),
          [0, 1],
        );

        const page = JSON.parse(
          (await get(c.admin, '/status?offset=1&limit=1')).body,
        ) as StatusJson;
        assert.equal(page.total, 2);
        assert.equal(page.offset, 1);
        assert.deepEqual(
          page.peers.map((p) => p.key),
          [s.peers[1]!.key],
        );
        const past = JSON.parse((await get(c.admin, '/status?offset=5')).body) as StatusJson;
        assert.deepEqual(past.peers, []);
        assert.equal((await get(c.admin, '/status?limit=10001')).status, 400);
        assert.equal((await get(c.admin, '/status?offset=-1')).status, 400);

        // The stream: a snapshot arrives within a few ticks.
        const sse = await deadline(
          new Promise<string>((resolve, reject) => {
            const socket = connect(c.admin.address.port, c.admin.address.ip);
            let text = '';
            socket.on('data', (d) => {
              text += d.toString();
              if (text.includes('event: snapshot')) {
                socket.destroy();
                resolve(text);
              }
            });
            socket.on('error', reject);
            socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          }),
          10_000,
          'a snapshot on /events',
        );
        assert.match(sse, /content-type: text\/event-stream/i);
        assert.match(sse, /event: conn\ndata: \{"kind":"connected"/);
      } finally {
        await c.close();
      }
    });
  });

  test('bad requests are refused and the endpoint keeps serving', { timeout: 60_000 }, async () => {
    await nodeRuntime().run(async (ctx) => {
      const c = await served(ctx, 2, { requestTimeoutMs: 300, maxStreams: 1 });
      try {
        const a = c.admin;
        assert.equal((await get(a, '/nope')).status, 404);
        assert.equal((await get(a, '/status', { method: 'POST' })).status, 405);
        assert.equal(
          (
            await get(a, '/status', {
              headers: { 'content-length': '10' },
              body: 'x'.repeat(10),
            })
          ).status,
          413,
        );
        assert.equal(
          (await get(a, '/status', { headers: { host: 'evil.example:80' } })).status,
          403,
        );
        // An oversized head is answered and closed.
        const big = await get(a, '/status', { headers: { 'x-pad': 'x'.repeat(20_000) } });
        assert.equal(big.status, 431);
        // A slow request (headers never finished) is closed by the request timeout.
        await deadline(
          new Promise<void>((resolve) => {
            const socket = connect(a.address.port, a.address.ip);
            socket.on('error', () => {});
            socket.on('close', () => resolve());
            socket.write('GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n');
          }),
          15_000,
          'the slow request closed',
        );
        // One stream at most: the second is refused.
        const first = connect(a.address.port, a.address.ip);
        first.on('error', () => {});
        await deadline(
          new Promise<void>((resolve) => {
            first.once('data', () => resolve());
            first.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          }),
          10_000,
          'the first stream',
        );
        assert.equal((await get(a, '/events')).status, 503);
        first.destroy();
        // Served again once the server has seen the stream close.
        let s = await get(a, '/status').catch(() => undefined);
        await until(
          ctx,
          async () => {
            s ??= await get(a, '/status').catch(() => undefined);
            return s !== undefined;
          },
          10_000,
          'served again',
        );
        assert.equal(s!.status, 200);
        assert.doesNotMatch(s!.body, /private|secret/i);
      } finally {
        await c.close();
      }
    });
  });

  test('connections past maxConnections are closed at once', { timeout: 60_000 }, async () => {
    await nodeRuntime().run(async (ctx) => {
      const c = await served(ctx, 2, { maxConnections: 2 });
      const a = c.admin;
      try {
        const idle = [0, 1].map(() => {
          const s = connect(a.address.port, a.address.ip);
          s.on('error', () => {});
          return s;
        });
        await deadline(
          Promise.all(idle.map((s) => new Promise((r) => s.once('connect', r)))),
          10_000,
          'two idle connections',
        );
        const extra = connect(a.address.port, a.address.ip);
        extra.on('error', () => {});
        await deadline(
          new Promise((r) => extra.once('close', r)),
          10_000,
          'a connection past maxConnections closed',
        );
        assert.ok(
          idle.every((s) => !s.destroyed),
          'the connections within the bound stay open',
        );
        for (const s of idle) s.destroy();
      } finally {
        await c.close();
      }
    });
  });

  test('a token guards the data; a non-loopback address requires one', {
    timeout: 60_000,
  }, async () => {
    await nodeRuntime().run(async (ctx) => {
      const c = await served(ctx, 2, { token: 's3cret-token' });
      try {
        assert.equal((await get(c.admin, '/status')).status, 401);
        assert.equal(
          (await get(c.admin, '/metrics', { headers: { authorization: 'Bearer nope' } })).status,
          401,
        );
        const ok = await get(c.admin, '/status', {
          headers: { authorization: 'Bearer s3cret-token' },
        });
        assert.equal(ok.status, 200);
        assert.equal((await get(c.admin, '/')).status, 200, 'the page carries no data');
        await assert.rejects(
          serveAdmin(ctx, c.peers[0]!.network, { listen: '0.0.0.0:0' }),
          (e: unknown) => e instanceof AdminError && e.code === 'TokenRequired',
        );
        await assert.rejects(
          serveAdmin(ctx, c.peers[0]!.network, { listen: c.peers[0]!.address }),
          (e: unknown) => e instanceof AdminError && e.code === 'ListenFailed',
        );
        await assert.rejects(
          serveAdmin(ctx, c.peers[0]!.network, { listen: 'nowhere' }),
          (e: unknown) => e instanceof AdminError && e.code === 'InvalidConfig',
        );
      } finally {
        await c.close();
      }
    });
  });

  test('stopping the network stops the endpoint', { timeout: 60_000 }, async () => {
    await nodeRuntime().run(async (ctx) => {
      const c = await served(ctx, 2);
      await c.peers[0]!.stop();
      await deadline(c.admin.done, 10_000, 'the endpoint stopped with its network');
      await assert.rejects(get(c.admin, '/status'));
      await c.close();
    });
  });
});
