import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { PeerJson } from '../../src/admin/index.js';
import type { Status } from '../../src/cli/status.js';
import { fetchStatus } from '../../src/cli/status.js';
import { nodeRuntime } from '../../src/runtime/index.js';
import { freePort } from '../helpers/child.js';
import { cli, keygen, lookupConfig, tempDir, writeConfig } from './helpers.js';

const NOW = Date.now();

function peer(key: string, overrides: Partial<PeerJson>): PeerJson {
  return {
    key,
    address: '127.0.0.1:3002',
    state: 'connected',
    since: NOW - 65_000,
    messagesIn: 12,
    messagesOut: 34,
    bytesIn: 2048,
    bytesOut: 512,
    rateLimited: 1,
    dropped: 2,
    blockedUntil: null,
    ...overrides,
  };
}

/** An admin endpoint stand-in serving `status` by pages, optionally behind a bearer token. */
async function serve(
  status: Omit<Status, 'total' | 'offset'>,
  token?: string,
): Promise<{ server: Server; target: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end();
      return;
    }
    if (url.pathname !== '/status') {
      res.writeHead(404).end();
      return;
    }
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 1000);
    const page = {
      ...status,
      peers: status.peers.slice(offset, offset + limit),
      total: status.peers.length,
      offset,
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, target: `127.0.0.1:${port}`, requests };
}

describe('authp2p status and check-peers against an admin endpoint', () => {
  const tmp = tempDir();
  const keys: string[] = [];
  let nodeKey = '';
  before(async () => {
    nodeKey = await keygen(tmp.dir, 'node.key');
    for (const n of ['a', 'b', 'c']) keys.push(await keygen(tmp.dir, `${n}.key`));
  });
  after(() => tmp.remove());

  const document = (): Omit<Status, 'total' | 'offset'> => ({
    key: nodeKey,
    network: 'lookup',
    listen: '127.0.0.1:3001',
    sets: [{ index: 0, primary: keys, secondary: [] }],
    at: NOW,
    channels: [],
    handshakes: { failed: 4, rateLimited: 5, blocked: 6 },
    peers: [
      peer(keys[0]!, {}),
      peer(keys[1]!, { state: 'dialing', since: null, address: null }),
      peer(keys[2]!, { state: 'blocked', since: null, blockedUntil: NOW + 3_600_000 }),
    ],
  });

  it('status prints every peer as a table, and --json prints the document', async () => {
    const { server, target, requests } = await serve(document());
    try {
      const r = await cli('status', '--admin', target);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.match(
        lines[0]!,
        new RegExp(`^node ${nodeKey} \\(lookup\\) listening on 127\\.0\\.0\\.1:3001$`),
      );
      assert.match(lines[1]!, /^peer sets: 0 \(3 peers\); 1 of 3 peers connected$/);
      assert.equal(lines[2], 'inbound handshakes: 4 failed, 5 rate-limited, 6 from blocked IPs');
      assert.match(
        lines[3]!,
        /^peer +address +state +connected for +msgs in\/out +bytes in\/out +rate-limited +dropped$/,
      );
      assert.match(
        lines[4]!,
        new RegExp(
          `^${keys[0]!.slice(0, 16)}\\.\\. +127\\.0\\.0\\.1:3002 +connected +1m0[5-9]s +12/34 +2\\.0KiB/512B +1 +2$`,
        ),
      );
      assert.match(lines[5]!, /dialing/);
      assert.match(lines[6]!, /blocked \(\d+m\d\ds left\)|blocked \(1h00m left\)/);
      assert.deepEqual(requests, ['/status?offset=0&limit=1000']);
      const j = await cli('status', '--admin', target, '--json');
      assert.equal(j.status, 0);
      const parsed = JSON.parse(j.stdout) as Status;
      assert.equal(parsed.total, 3);
      assert.deepEqual(parsed.peers, document().peers);
    } finally {
      server.close();
    }
  });

  it('fetchStatus reads every page', async () => {
    const { server, target, requests } = await serve(document());
    try {
      const status = await nodeRuntime().run((ctx) =>
        fetchStatus(ctx, target, { timeoutMs: 2000, pageSize: 2 }),
      );
      assert.deepEqual(
        status.peers.map((p) => p.key),
        keys,
      );
      assert.deepEqual(requests, ['/status?offset=0&limit=2', '/status?offset=2&limit=2']);
    } finally {
      server.close();
    }
  });

  it('status exits 1 with one line when the endpoint does not answer or refuses the token', async () => {
    const port = await freePort();
    const down = await cli('status', '--admin', `127.0.0.1:${port}`);
    assert.equal(down.status, 1);
    assert.equal(down.stdout, '');
    assert.match(
      down.stderr,
      new RegExp(`^authp2p: http://127\\.0\\.0\\.1:${port}/status.*ECONNREFUSED.*\\n$`),
    );
    const { server, target } = await serve(document(), 'sesame');
    try {
      const refused = await cli('status', '--admin', target);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /HTTP 401/);
      assert.equal((await cli('status', '--admin', target, '--token', 'sesame')).status, 0);
    } finally {
      server.close();
    }
  });

  it("check-peers reports from the running node's status when its admin endpoint answers", async () => {
    const { server, target, requests } = await serve(document());
    try {
      // Unreachable addresses: a dial would fail every peer, the status does not.
      const peers = keys.map((k) => [k, '127.0.0.1:1']);
      const config = writeConfig(
        tmp.dir,
        'node.json',
        lookupConfig('node.key', { peers, admin: target }),
      );
      const r = await cli('check-peers', config, '--json');
      assert.equal(r.status, 1, r.stderr);
      const report = JSON.parse(r.stdout) as {
        source: string;
        ok: boolean;
        peers: { peer: string; accepted: boolean | null; error: string | null }[];
      };
      assert.equal(report.source, 'status');
      assert.equal(report.ok, false);
      assert.deepEqual(
        report.peers.map((p) => [p.peer, p.accepted]),
        [
          [keys[0], true],
          [keys[1], null],
          [keys[2], null],
        ],
      );
      assert.equal(report.peers[0]!.error, null);
      assert.match(report.peers[1]!.error!, /not connected \(dialing\)/);
      assert.match(report.peers[2]!.error!, /blocked by the node for/);
      assert.ok(requests.length >= 1);
      // Only the connected peer configured: exit 0.
      const one = writeConfig(
        tmp.dir,
        'one.json',
        lookupConfig('node.key', { peers: [[keys[0], '127.0.0.1:1']], admin: target }),
      );
      const ok = await cli('check-peers', one);
      assert.equal(ok.status, 0, ok.stdout);
      assert.match(
        ok.stdout,
        /^status of the running node [0-9a-f]{64} \(lookup\) at 127\.0\.0\.1:\d+\n/,
      );
      assert.match(ok.stdout, /all peers ok\n$/);
    } finally {
      server.close();
    }
  });
});
