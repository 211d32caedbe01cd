/**
 * The server-sent-events stream of the admin endpoint (`GET /events`), which the web view reads.
 *
 * One {@link EventHub} per endpoint. It relays the network's connection events
 * (`network.events()`) and, every tick of the context's clock while anyone listens, a snapshot
 * (the `/status` document of the first page) plus events derived from the counters between two
 * snapshots: `rateLimited` (a peer's inbound quota made it wait) and `handshakeFailed` (with the
 * listener's reason class: `blocked`, `rateLimited`, `failed`). The last {@link RECENT} events are
 * kept and replayed to a new client. A client whose unsent output exceeds
 * {@link MAX_CLIENT_BUFFER} bytes (it stopped reading) is disconnected: a stream never buffers
 * without bound.
 *
 * @module
 */

import type { ServerResponse } from 'node:http';
import type { ConnectionEvent } from '../p2p/events.js';
import type { StatusJson } from './status.js';

/** Events kept for replay to a new client. */
export const RECENT = 100;

/** Unsent bytes a client may have before it is disconnected. */
export const MAX_CLIENT_BUFFER = 1 << 20;

/** One entry of the recent-events list, as the stream sends it (`event: conn`). */
export interface EventJson {
  readonly kind: ConnectionEvent['kind'] | 'rateLimited' | 'handshakeFailed';
  /** The peer's key (hex), when the event is about one. */
  readonly peer?: string;
  readonly at: number;
  readonly reason?: string;
  /** How many occurrences the event stands for (derived events), or events missed before it. */
  readonly count?: number;
}

/** The clients of one endpoint's stream and the recent events. */
export class EventHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #recent: EventJson[] = [];
  readonly #max: number;
  #last: StatusJson | undefined;
  #closed = false;

  /** @param maxClients - streams open at once; one more is refused. */
  constructor(maxClients: number) {
    this.#max = maxClients;
  }

  /** Clients connected now. */
  get size(): number {
    return this.#clients.size;
  }

  /**
   * Takes `res` as a stream client: the headers, the recent events and the last snapshot, then
   * everything from now on. Returns false (sending nothing) if the hub is full or closed.
   */
  add(res: ServerResponse): boolean {
    if (this.#closed || this.#clients.size >= this.#max) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    // A stream is idle between events for as long as it likes (the server's idle timeout is for
    // requests); the buffer bound below catches a client that stopped reading.
    res.socket?.setTimeout(0);
    this.#clients.add(res);
    res.on('close', () => this.#clients.delete(res));
    let text = 'retry: 2000\n\n';
    for (const e of this.#recent) text += frame('conn', e);
    if (this.#last !== undefined) text += frame('snapshot', this.#last);
    this.#write(res, text);
    return true;
  }

  /** Records `e` among the recent events and sends it to every client. */
  event(e: EventJson): void {
    if (this.#recent.length >= RECENT) this.#recent.shift();
    this.#recent.push(e);
    this.#broadcast(frame('conn', e));
  }

  /** Sends a snapshot to every client (and keeps it for the next to connect). */
  snapshot(s: StatusJson): void {
    this.#last = s;
    this.#broadcast(frame('snapshot', s));
  }

  /** Ends every stream; later clients are refused. */
  close(): void {
    this.#closed = true;
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #broadcast(text: string): void {
    for (const res of this.#clients) this.#write(res, text);
  }

  #write(res: ServerResponse, text: string): void {
    if (res.writableLength > MAX_CLIENT_BUFFER) {
      this.#clients.delete(res);
      res.destroy();
      return;
    }
    res.write(text);
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The `EventJson` of a connection event. */
export function connectionEventJson(e: ConnectionEvent): EventJson {
  return {
    kind: e.kind,
    peer: e.peer.toHex(),
    at: e.at,
    ...(e.reason === undefined ? {} : { reason: e.reason }),
    ...(e.missed === undefined ? {} : { count: e.missed }),
  };
}

/**
 * The events two consecutive snapshots imply: a `rateLimited` per peer whose count grew, a
 * `handshakeFailed` per listener reason class whose count grew.
 */
export function derivedEvents(prev: StatusJson | undefined, next: StatusJson): EventJson[] {
  if (prev === undefined) return [];
  const out: EventJson[] = [];
  const before = new Map(prev.peers.map((p) => [p.key, p.rateLimited]));
  for (const p of next.peers) {
    const b = before.get(p.key);
    if (b !== undefined && p.rateLimited > b) {
      out.push({ kind: 'rateLimited', peer: p.key, at: next.at, count: p.rateLimited - b });
    }
  }
  for (const reason of ['blocked', 'rateLimited', 'failed'] as const) {
    const grew = next.handshakes[reason] - prev.handshakes[reason];
    if (grew > 0) out.push({ kind: 'handshakeFailed', at: next.at, reason, count: grew });
  }
  return out;
}
