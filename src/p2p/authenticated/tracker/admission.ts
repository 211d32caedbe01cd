/**
 * Who gets a peer's single connection slot when an authenticated session arrives (PROTOCOL.md,
 * deviations: reservations). Pure: the record's state, the keys and the time are parameters.
 *
 * @module
 */

import type { PublicKey } from '../../../crypto/ed25519.js';
import type { Holder, RecordBaseView } from './record.js';
import type { Admission } from './types.js';

/**
 * What to do with an authenticated session of `key` arriving from `holder`'s direction while
 * `record` is in its current state (`myself`: our key). One slot per peer, and:
 * - nothing is refused on account of a session that is not yet authenticated: a pending dial
 *   is abandoned for an authenticated inbound session (`takeOver`);
 * - when both directions' sessions are authenticated (a simultaneous dial), both peers keep the
 *   one dialed by the smaller key (`supersede` the other, or `refuse` this one), so they settle
 *   on the same connection;
 * - a session active for longer than `handshakeTimeoutMs` is never replaced.
 * A free slot is `reserve`d by an inbound session; a dial always holds a reservation already.
 */
export function admission(
  myself: PublicKey,
  key: PublicKey,
  record: Pick<RecordBaseView, 'status'> & {
    readonly holder: Holder | undefined;
    readonly activeSince: number | undefined;
  },
  holder: Holder,
  now: number,
  handshakeTimeoutMs: number,
): Admission {
  if (record.status === 'inert') return holder === 'listener' ? 'reserve' : 'refuse';
  const current = record.holder;
  if (current === holder) return 'refuse';
  if (current === 'dialer' && record.status === 'reserved') return 'takeOver';
  const since = record.activeSince;
  if (since !== undefined && now - since > handshakeTimeoutMs) return 'refuse';
  // The session dialed by the smaller key wins: ours is dialed by us, theirs by them.
  const ours = myself.compare(key) < 0;
  const wins = holder === 'dialer' ? ours : !ours;
  return wins ? 'supersede' : 'refuse';
}
