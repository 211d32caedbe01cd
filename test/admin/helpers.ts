/**
 * Helpers of the admin endpoint's tests: a small cluster of the demo's (real loopback TCP, Node
 * runtime) with peer 0's admin endpoint, HTTP requests, and bounded waits.
 */

import { type IncomingHttpHeaders, request } from 'node:http';
import { type ClusterPeer, type Flavour, startCluster } from '../../examples/demo/cluster.js';
import { type AdminOptions, type AdminServer, serveAdmin } from '../../src/admin/index.js';
import type { Context } from '../../src/runtime/context.js';

/** Rejects after `ms` of wall time unless `promise` settles first (the timer is always cleared). */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`deadline of ${ms} ms exceeded: ${what}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Polls `check` every 50 ms of `ctx`'s clock until it holds, within `ms` of wall time. */
export function until(
  ctx: Context,
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const stop = new AbortController();
  const loop = (async () => {
    while (!(await check())) await ctx.clock.sleep(50, stop.signal);
  })();
  return deadline(loop, ms, what).finally(() => stop.abort());
}

/** A running cluster and peer 0's admin endpoint. */
export interface Served {
  readonly peers: ClusterPeer[];
  readonly admin: AdminServer;
  /** Stops the endpoint and every peer. */
  close(): Promise<void>;
}

/** Starts `n` demo peers and serves peer 0's admin endpoint; resolves once all are connected. */
export async function served(
  ctx: Context,
  n: number,
  options: Partial<AdminOptions> = {},
  network: Flavour = 'lookup',
): Promise<Served> {
  const peers = await startCluster(ctx, { network, peers: n, size: 64, rate: 20, quota: 200 });
  const admin = await serveAdmin(peers[0]!.ctx, peers[0]!.network, {
    listen: '127.0.0.1:0',
    ...options,
  });
  await until(
    ctx,
    () => peers.every((p) => p.network.connected().length === n - 1),
    30_000,
    'every peer connected',
  );
  return {
    peers,
    admin,
    close: async () => {
      await admin.stop();
      await Promise.all(peers.map((p) => p.stop()));
    },
  };
}

/** A response. */
export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request to the endpoint (bounded by 10 s). */
export function get(
  admin: AdminServer,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  const done = new Promise<Response>((resolve, reject) => {
    const req = request(
      {
        host: admin.address.ip,
        port: admin.address.port,
        path,
        method: options.method ?? 'GET',
        // A fresh connection per request: no pooled socket outlives it.
        agent: false,
        headers: options.headers ?? {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
  return deadline(done, 10_000, `${options.method ?? 'GET'} ${path}`);
}
