/**
 * The CLI's client of a node's admin endpoint: one bounded `GET` returning parsed JSON.
 *
 * @module
 */

import { request } from 'node:http';
import { parseIngress } from '../p2p/address.js';
import type { Context } from '../runtime/index.js';
import { CliError } from './errors.js';

/** The largest response body accepted (a 1,000-peer status page is well under 1 MiB). */
export const MAX_BODY_BYTES = 16 << 20;

/** Options of {@link getJson}. */
export interface GetOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** Deadline for the whole request, in ms (on `ctx.clock`). */
  readonly timeoutMs: number;
}

/**
 * `GET http://<target><path>` and parse the JSON body.
 *
 * @param target - `'host:port'` (`'[v6]:port'` for IPv6).
 * @throws CliError `Usage` if `target` is not `host:port`; `Unreachable` if the endpoint does not
 *   answer in time, answers with a status other than 200, or with something other than JSON.
 */
export async function getJson(
  ctx: Context,
  target: string,
  path: string,
  options: GetOptions,
): Promise<unknown> {
  let host: string;
  let port: number;
  try {
    const ingress = parseIngress(target);
    host = ingress.kind === 'socket' ? ingress.addr.ip : ingress.host;
    port = ingress.kind === 'socket' ? ingress.addr.port : ingress.port;
  } catch (err) {
    throw new CliError('Usage', `not a HOST:PORT: ${JSON.stringify(target)}`, { cause: err });
  }
  const url = `http://${target}${path}`;
  const abort = new AbortController();
  const deadline = ctx.clock.sleep(options.timeoutMs, abort.signal).then(
    () =>
      abort.abort(new CliError('Unreachable', `${url}: no answer within ${options.timeoutMs} ms`)),
    () => {},
  );
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      const req = request(
        { host, port, path, method: 'GET', headers, signal: abort.signal },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(
              new CliError(
                'Unreachable',
                `${url}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim(),
              ),
            );
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
              req.destroy(
                new CliError('Unreachable', `${url}: response larger than ${MAX_BODY_BYTES} bytes`),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      req.on('error', (err) => {
        const reason = abort.signal.aborted ? abort.signal.reason : err;
        reject(
          reason instanceof CliError
            ? reason
            : new CliError('Unreachable', `${url}: ${(reason as Error).message}`, {
                cause: reason,
              }),
        );
      });
      req.end();
    });
    try {
      return JSON.parse(body);
    } catch (err) {
      throw new CliError('Unreachable', `${url}: the answer is not JSON`, { cause: err });
    }
  } finally {
    abort.abort();
    await deadline;
  }
}
