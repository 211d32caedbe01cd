/**
 * `serveAdmin`: the admin endpoint of a node (API.md "Operating a node"), an HTTP server on the
 * Node runtime serving `/metrics`, `/status`, `/events` and the web view.
 *
 * @module
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { formatSocketAddr, parseSocketAddr } from '../p2p/address.js';
import type { BaseNetwork } from '../p2p/authenticated/base-network.js';
import type { Context, Handle, SocketAddr } from '../runtime/context.js';
import { AdminError } from './errors.js';
import { APP_CSS, APP_JS, PAGE_HTML } from './page.js';
import { processMetrics } from './process.js';
import { pageOf, type StatusJson, statusJson } from './status.js';
import { connectionEventJson, derivedEvents, EventHub } from './stream.js';

/** Options of {@link serveAdmin}. Every bound has a default. */
export interface AdminOptions {
  /**
   * Where to listen, `'ip:port'` or `'[ipv6]:port'` (`'localhost:port'` is 127.0.0.1; port 0
   * picks a free port). Anything but a loopback address requires {@link token}.
   */
  readonly listen: string;
  /**
   * A bearer token: when set, `/metrics`, `/status` and `/events` answer only requests with
   * `Authorization: Bearer <token>` (401 otherwise). Printable ASCII without spaces, 1 to 256
   * characters. Required unless `listen` is a loopback address.
   */
  readonly token?: string;
  /** TCP connections open at once; further ones are closed at once. Default 64. */
  readonly maxConnections?: number;
  /** `/events` streams open at once; one more is answered 503. Default 16. */
  readonly maxStreams?: number;
  /** Period of the snapshots on `/events`, in ms. Default 1,000. */
  readonly tickMs?: number;
  /** Peers in each `/events` snapshot (the first page). Default 256. */
  readonly streamPeers?: number;
  /** Time to receive a whole request (headers and body), in ms. Default 10,000. */
  readonly requestTimeoutMs?: number;
  /** Largest request head (request line and headers), in bytes. Default 8,192. */
  readonly maxHeaderBytes?: number;
}

/** A running admin endpoint. */
export interface AdminServer {
  /** The bound address (with the real port when `listen` asked for port 0). */
  readonly address: SocketAddr;
  /** `http://address/`: the web view. */
  readonly url: string;
  /** Resolves once the endpoint has stopped (by {@link stop}, its network or its context). */
  readonly done: Promise<void>;
  /** Stops serving: closes every connection and stream. Idempotent; resolves when closed. */
  stop(): Promise<void>;
}

/** The network an endpoint serves: a lookup or a discovery network. */
export type AdminNetwork = Pick<BaseNetwork, 'status' | 'events' | 'address' | 'flavour'>;

interface Settings {
  readonly token: Buffer | undefined;
  readonly loopbackOnly: boolean;
  readonly tickMs: number;
  readonly streamPeers: number;
}

function bound(name: string, value: number | undefined, fallback: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1 || v > max) {
    throw new AdminError('InvalidConfig', `admin: ${name} must be an integer in [1, ${max}]`);
  }
  return v;
}

/** Whether `ip` (canonical) is a loopback address: 127.0.0.0/8 or ::1. */
export function isLoopback(ip: string): boolean {
  return ip === '::1' || /^127\./.test(ip) || /^::ffff:127\./.test(ip);
}

/** `listen` as a socket address (`localhost` is 127.0.0.1). */
function parseListen(listen: string): SocketAddr {
  if (typeof listen !== 'string')
    throw new AdminError('InvalidConfig', 'admin: listen must be a string');
  const text = listen.startsWith('localhost:') ? `127.0.0.1:${listen.slice(10)}` : listen;
  try {
    return parseSocketAddr(text);
  } catch (err) {
    throw new AdminError('InvalidConfig', `admin: bad listen address ${JSON.stringify(listen)}`, {
      cause: err,
    });
  }
}

function digest(s: string | Buffer): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Serves the admin endpoint of `network` (running under `ctx`) at `options.listen`:
 *
 * - `GET /metrics`: Prometheus text of every metric under `ctx` and the process metrics;
 * - `GET /status`: the JSON of API.md, one page of peers (`?offset=&limit=`, default 1,000,
 *   at most 10,000), computed by the tracker for that page only;
 * - `GET /events`: a server-sent-events stream (connection events, derived events, and a
 *   snapshot every `tickMs`);
 * - `GET /`: the live web view (`/app.js`, `/app.css`: no build step, nothing from elsewhere).
 *
 * Any other path is 404, any other method 405, a request with a body 413. The endpoint stops
 * when `stop()` is called, when `ctx` stops, or when the network stops. It runs on the Node
 * runtime (real sockets, through node:http); it never sees private keys.
 *
 * @throws AdminError `InvalidConfig` for a bad option, `TokenRequired` for a non-loopback
 *   `listen` without a token, `ListenFailed` if the address cannot be bound.
 */
export async function serveAdmin(
  ctx: Context,
  network: AdminNetwork,
  options: AdminOptions,
): Promise<AdminServer> {
  const listen = parseListen(options.listen);
  const token = options.token;
  if (token !== undefined && (typeof token !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(token))) {
    throw new AdminError(
      'InvalidConfig',
      'admin: token must be 1 to 256 printable ASCII characters without spaces',
    );
  }
  const loopback = isLoopback(listen.ip);
  if (!loopback && token === undefined) {
    throw new AdminError(
      'TokenRequired',
      `admin: ${formatSocketAddr(listen)} is not a loopback address; a token is required`,
    );
  }
  const settings: Settings = {
    token: token === undefined ? undefined : digest(token),
    loopbackOnly: loopback && token === undefined,
    tickMs: bound('tickMs', options.tickMs, 1000, 3_600_000),
    streamPeers: bound('streamPeers', options.streamPeers, 256, 10_000),
  };
  const hub = new EventHub(bound('maxStreams', options.maxStreams, 16, 1024));
  const requestTimeout = bound('requestTimeoutMs', options.requestTimeoutMs, 10_000, 600_000);
  const server = createServer({
    maxHeaderSize: bound('maxHeaderBytes', options.maxHeaderBytes, 8192, 65_536),
    requestTimeout,
    headersTimeout: Math.min(5000, requestTimeout),
    // How often node looks for requests past their timeouts (its default is 30 s).
    connectionsCheckingInterval: Math.min(1000, requestTimeout),
    keepAliveTimeout: 5000,
  });
  // Any connection idle for the request timeout is closed too (node's own request timeout is
  // checked only on an interval, and not for every state); a stream turns this off.
  server.timeout = requestTimeout;
  server.maxConnections = bound('maxConnections', options.maxConnections, 64, 65_536);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res, ctx, network, settings, hub).catch(() => {
      if (!res.headersSent) reply(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  });
  // A malformed, oversized or slow request is answered (400, 431, 408) and closed.
  server.on('clientError', (err: Error & { code?: string }, socket) => {
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    // Written then destroyed: `end` alone leaves a timed-out connection open.
    if (socket.writable) socket.write(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
    socket.destroy();
  });
  const address = await bind(server, listen);
  const log = ctx.log.child({ actor: 'admin' });
  const task = ctx.spawn('admin', (actx) => run(actx, network, server, hub, settings));
  log.info({ address: formatSocketAddr(address) }, 'admin endpoint listening');
  const done = task.done.then(() => undefined);
  return {
    address,
    url: `http://${formatSocketAddr(address)}/`,
    done,
    stop: () => stopTask(task, done),
  };
}

function stopTask(task: Handle<void>, done: Promise<void>): Promise<void> {
  task.stop('admin stopped');
  return done;
}

function bind(server: Server, listen: SocketAddr): Promise<SocketAddr> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(
        new AdminError(
          'ListenFailed',
          `admin: cannot listen on ${formatSocketAddr(listen)}: ${(err as { code?: string }).code ?? err.message}`,
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    server.listen(listen.port, listen.ip, () => {
      server.off('error', onError);
      const a = server.address();
      if (a === null || typeof a === 'string') resolve(listen);
      else resolve({ ip: a.address, port: a.port });
    });
  });
}

/** The endpoint's task: relays events and ticks snapshots until stopped; then closes everything. */
async function run(
  ctx: Context,
  network: AdminNetwork,
  server: Server,
  hub: EventHub,
  settings: Settings,
): Promise<void> {
  const events = network.events();
  const end = (): void => void events.return?.();
  ctx.signal.addEventListener('abort', end, { once: true });
  const halt = new AbortController();
  const ticker = tick(ctx, network, hub, settings, AbortSignal.any([ctx.signal, halt.signal]));
  try {
    // Ends when the network stops, or (through `end`) when this task is stopped.
    for await (const e of events) hub.event(connectionEventJson(e));
  } finally {
    ctx.signal.removeEventListener('abort', end);
    halt.abort();
    await ticker;
    hub.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    ctx.log.debug({}, 'admin endpoint stopped');
  }
}

/** Every `tickMs` while any stream is open: a snapshot, and the events it implies. */
async function tick(
  ctx: Context,
  network: AdminNetwork,
  hub: EventHub,
  settings: Settings,
  signal: AbortSignal,
): Promise<void> {
  let last: StatusJson | undefined;
  for (;;) {
    try {
      await ctx.clock.sleep(settings.tickMs, signal);
    } catch {
      return;
    }
    if (hub.size === 0) {
      last = undefined;
      continue;
    }
    const s = await snapshot(ctx, network, 0, settings.streamPeers);
    if (s === undefined || signal.aborted) continue;
    for (const e of derivedEvents(last, s)) hub.event(e);
    hub.snapshot(s);
    last = s;
  }
}

async function snapshot(
  ctx: Context,
  network: AdminNetwork,
  offset: number,
  limit: number,
): Promise<StatusJson | undefined> {
  const status = await network.status({ offset, limit });
  if (status === undefined) return undefined;
  const bound = (await network.address()) ?? status.listen;
  return statusJson(status, network.flavour, bound, ctx.clock.now());
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
} as const;

function reply(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': `${type}; charset=utf-8`,
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

/** Whether the request's `Host` names a loopback address (against DNS rebinding). */
function loopbackHost(req: IncomingMessage): boolean {
  const host = req.headers.host;
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0]!;
  return name === 'localhost' || isLoopback(name);
}

function authorized(req: IncomingMessage, settings: Settings): boolean {
  if (settings.token === undefined) return true;
  const header = req.headers.authorization;
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice(7)), settings.token);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: Context,
  network: AdminNetwork,
  settings: Settings,
  hub: EventHub,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return reply(res, 405, 'text/plain', 'method not allowed\n', {
      allow: 'GET, HEAD',
      connection: 'close',
    });
  }
  const length = req.headers['content-length'];
  if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
    return reply(res, 413, 'text/plain', 'a request body is not accepted\n', {
      connection: 'close',
    });
  }
  if (settings.loopbackOnly && !loopbackHost(req)) {
    return reply(res, 403, 'text/plain', 'forbidden host\n', { connection: 'close' });
  }
  const url = new URL(req.url ?? '/', 'http://admin.invalid');
  switch (url.pathname) {
    case '/':
      return reply(res, 200, 'text/html', PAGE_HTML);
    case '/app.js':
      return reply(res, 200, 'text/javascript', APP_JS);
    case '/app.css':
      return reply(res, 200, 'text/css', APP_CSS);
    case '/metrics':
    case '/status':
    case '/events':
      break;
    default:
      return reply(res, 404, 'text/plain', 'not found\n');
  }
  if (!authorized(req, settings)) {
    return reply(res, 401, 'text/plain', 'unauthorized\n', {
      'www-authenticate': 'Bearer realm="authp2p"',
    });
  }
  if (url.pathname === '/metrics') {
    const node = await ctx.metrics.encode();
    const proc = await processMetrics();
    return reply(res, 200, 'text/plain; version=0.0.4', node === '' ? proc : `${node}\n${proc}`);
  }
  if (url.pathname === '/status') {
    const page = pageOf(url.searchParams);
    if (typeof page === 'string') return reply(res, 400, 'text/plain', `${page}\n`);
    const s = await snapshot(ctx, network, page.offset ?? 0, page.limit ?? 0);
    if (s === undefined) return reply(res, 503, 'text/plain', 'the network is not running\n');
    return reply(res, 200, 'application/json', JSON.stringify(s));
  }
  if (!hub.add(res)) reply(res, 503, 'text/plain', 'too many streams\n');
}
