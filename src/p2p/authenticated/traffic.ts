/**
 * Per-peer and per-channel traffic totals of one network, as plain numbers: what a status
 * snapshot (`network.status()`, the admin endpoint) reads for a page of peers without scanning
 * the Prometheus registry.
 *
 * The peer actors count into it beside their `messages_*` counters: one object per peer, fetched
 * once per connection, whose fields they add to. Totals are cumulative over the network's life
 * (like the counters). Cardinality: one entry per peer that ever held a connection (bounded by the
 * tracked sets, as the counters' `peer` labels are) and one per registered channel.
 *
 * @module
 */

/** Cumulative traffic of one peer or one channel. */
export interface Traffic {
  /** Data messages received (delivered to a channel or dropped by a full one). */
  messagesIn: number;
  /** Data messages written to the connection. */
  messagesOut: number;
  /** Bytes of every frame received (after decryption: payload bytes). */
  bytesIn: number;
  /** Bytes of every frame written (before encryption: payload bytes). */
  bytesOut: number;
  /** Inbound messages that had to wait for this peer's quota. */
  rateLimited: number;
  /** Messages dropped: a full relay queue towards the peer, or a full channel inbox from it. */
  dropped: number;
}

function empty(): Traffic {
  return { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, rateLimited: 0, dropped: 0 };
}

function entry<K>(map: Map<K, Traffic>, key: K): Traffic {
  let t = map.get(key);
  if (t === undefined) {
    t = empty();
    map.set(key, t);
  }
  return t;
}

/** The traffic totals of one network, by peer (key hex) and by channel. */
export class TrafficTable {
  readonly #peers = new Map<string, Traffic>();
  readonly #channels = new Map<number, Traffic>();

  /** The totals of the peer whose key is `hex`, made on first use (for counting into). */
  peer(hex: string): Traffic {
    return entry(this.#peers, hex);
  }

  /** The totals of `channel`, made on first use (for counting into). */
  channel(channel: number): Traffic {
    return entry(this.#channels, channel);
  }

  /** Drops the peer's totals (it left every tracked set, as its metric series do). */
  forget(hex: string): void {
    this.#peers.delete(hex);
  }

  /** A copy of the peer's totals (zeros if it never had traffic). */
  readPeer(hex: string): Traffic {
    const t = this.#peers.get(hex);
    return t === undefined ? empty() : { ...t };
  }

  /** A copy of every channel's totals, by channel, ascending. */
  readChannels(): [number, Traffic][] {
    return [...this.#channels]
      .sort(([a], [b]) => a - b)
      .map(([c, t]): [number, Traffic] => [c, { ...t }]);
  }
}
