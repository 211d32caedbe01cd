/**
 * Lookup's source-IP pre-filter for the shared listener: only the registered egress IPs of
 * eligible, unblocked peers get to the handshake (commonware `lookup/actors/listener.rs`, step 2).
 *
 * The tracker pushes a fresh {@link ListenerAllowList} over a ring (latest wins) whenever it may
 * have changed; the filter takes the latest one on each connection. While some eligible,
 * unblocked peer has a `named` address (no known egress IP), the list's `any` flag is set and
 * every source IP passes (the bouncer and the handshake still apply).
 *
 * @module
 */

import type { RingInbox } from '../../../actor/index.js';
import { canonical, type SourceFilter } from '../listener.js';
import type { ListenerAllowList } from './tracker/index.js';

/** Admits the source IPs of the tracker's latest allow-list. */
export class RegisteredIps implements SourceFilter {
  readonly #ring: RingInbox<ListenerAllowList>;
  /** Registered source IPs (canonical form); empty until the tracker pushes a list. */
  #allowed: ReadonlySet<string> = new Set();
  /** Whether every source IP is admitted (a peer without a known egress IP is eligible). */
  #any = false;

  /** @param ring - the tracker's allow-list ring (`Mailbox.listenerAllowList()`). */
  constructor(ring: RingInbox<ListenerAllowList>) {
    this.#ring = ring;
  }

  admits(ip: string): boolean {
    this.#refresh();
    return this.#any || this.#allowed.has(ip);
  }

  /** Takes the latest allow-list pushed by the tracker, if any. */
  #refresh(): void {
    const ring = this.#ring;
    let latest: ListenerAllowList | undefined;
    for (let s = ring.tryRecv(); s !== undefined; s = ring.tryRecv()) latest = s;
    if (latest === undefined) return;
    const next = new Set<string>();
    for (const ip of latest.ips) {
      const c = canonical(ip);
      if (c !== undefined) next.add(c);
    }
    this.#allowed = next;
    this.#any = latest.any;
  }
}
