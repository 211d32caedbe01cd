/**
 * The admin endpoint of a node: `serveAdmin(ctx, network, { listen, token? })` serves what an
 * operator needs to watch a running lookup or discovery node over HTTP.
 *
 * ## Endpoints
 *
 * - `GET /metrics`: the Prometheus text exposition of every metric under `ctx` (the networks'
 *   counters, exposed with the `_total` suffix, and gauges) plus the process metrics
 *   (prom-client's Node.js defaults); it passes `promtool check metrics`.
 * - `GET /status`: `{ key, network, listen, sets, peers, total, offset }` as API.md fixes it
 *   (plus `at`, `channels` and `handshakes`), one page of peers at a time (`?offset=&limit=`,
 *   default 1,000, at most 10,000). The page is answered by the tracker through its mailbox, in
 *   turn with its other work, and costs the page, not the directory: a 65,536-peer set stays
 *   cheap to watch.
 * - `GET /events`: server-sent events: `conn` (connected, disconnected, blocked, unblocked from
 *   `network.events()`; rateLimited and handshakeFailed derived from the counters) and
 *   `snapshot` (the first page of `/status`, every `tickMs`).
 * - `GET /`: the live web view (see `page.ts`): a single page served by the node, no build step,
 *   nothing from a CDN.
 *
 * ## Security
 *
 * - It binds to loopback unless told otherwise; bound anywhere else it requires a bearer token
 *   (and refuses to start without one). With a token, `/metrics`, `/status` and `/events` need
 *   `Authorization: Bearer <token>`; the page and its script carry no data and are served to
 *   anyone. On loopback without a token, requests whose `Host` is not a loopback name are
 *   refused (a web page cannot reach it by DNS rebinding).
 * - It holds the network, never a key: nothing it serves derives from a private key.
 * - Bounded: connections (`maxConnections`), streams (`maxStreams`), request head size
 *   (`maxHeaderBytes`) and time (`requestTimeoutMs`); requests with a body are refused (413),
 *   unknown paths are 404, other methods 405; a stream client that stops reading is dropped
 *   once 1 MiB is pending.
 * - It stops when `admin.stop()` is called, when its context stops, or when the network stops.
 *
 * ## Runtime
 *
 * An operator surface of the Node runtime: it listens with node:http (real sockets, outside
 * `ctx.network`), and takes its clock (snapshot ticks), tasks, metrics and log from the context.
 * It does not run on the deterministic runtime.
 *
 * @example
 * ```ts
 * import { serveAdmin } from 'authp2p/admin';
 * const admin = await serveAdmin(ctx, network, { listen: '127.0.0.1:9091' });
 * console.log(`web view at ${admin.url}`);
 * // ...
 * await admin.stop();
 * ```
 *
 * @module authp2p/admin
 */

export { AdminError, type AdminErrorCode } from './errors.js';
export {
  type AdminNetwork,
  type AdminOptions,
  type AdminServer,
  isLoopback,
  serveAdmin,
} from './server.js';
export type { ChannelJson, PeerJson, SetJson, StatusJson } from './status.js';
export type { EventJson } from './stream.js';
