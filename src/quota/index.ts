/**
 * Rate limiting with the Generic Cell Rate Algorithm, matching the `governor` crate that
 * commonware re-exports (reference sections 2 and 9).
 *
 * A {@link Quota} says how many cells may be used at once (`burstSize`) and how fast one cell
 * comes back (`replenishIntervalMs`): `Quota.perSecond(2)` allows two immediate checks and then
 * one more every 500 ms; `Quota.withPeriod(5000)` allows one check every 5 s. A
 * {@link RateLimiter} applies a quota to one stream of events (an inbound channel of one peer);
 * a {@link KeyedRateLimiter} applies it independently per key (handshakes per IP or subnet,
 * outbound messages per recipient).
 *
 * `check()` returns `true` when a cell was consumed, or, without consuming anything, the earliest
 * time (ms since the epoch, from the supplied clock) at which a cell will be available, so a
 * caller can `await clock.sleepUntil(result)` and retry (inbound backpressure) or simply drop the
 * work (handshakes).
 *
 * GCRA keeps one number per key, the "theoretical arrival time"; a key at or before `now` is
 * fully replenished and can be forgotten ({@link KeyedRateLimiter.retainRecent}). Over any window
 * of length `W`, at most `burstSize + floor(W / interval)` checks pass. Arithmetic is in exact
 * integer nanoseconds like `governor` (`perSecond(3)` replenishes every 333 333 333 ns), so
 * boundaries are exact; the limiters only read `clock.now()`.
 *
 * @module authp2p/quota
 */
export { KeyedRateLimiter, type NowClock, RateLimiter } from './limiter.js';
export { MAX_TOLERANCE_NS, Quota } from './quota.js';
