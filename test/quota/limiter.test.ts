import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KeyedRateLimiter, Quota, RateLimiter } from '../../src/quota/index.js';
import { SELF_SWEEP } from '../../src/quota/limiter.js';

/** A clock that only tells the time: the limiters need nothing else. */
class FakeClock {
  t: number;
  constructor(t: number) {
    this.t = t;
  }
  now(): number {
    return this.t;
  }
}

const T0 = 1_700_000_000_000; // a realistic epoch-ms origin

/**
 * Reference GCRA in bigint nanoseconds, transcribed from governor's `test_and_update`, to compare
 * against exactly (no rebasing, no doubles).
 */
class ReferenceGcra {
  readonly #t: bigint;
  readonly #tau: bigint;
  readonly #start: number;
  #tat: bigint | undefined;
  constructor(q: Quota, startMs: number) {
    this.#t = BigInt(q.replenishIntervalNs);
    this.#tau = this.#t * BigInt(q.burstSize);
    this.#start = Math.floor(startMs);
  }
  check(nowMs: number, n = 1): true | bigint {
    let t0 = BigInt(Math.round((nowMs - this.#start) * 1e6));
    if (t0 < 0n) t0 = 0n;
    const w = this.#t * BigInt(n);
    const tat = this.#tat ?? t0;
    const earliest = tat - this.#tau + w;
    if (t0 < earliest) return earliest;
    this.#tat = (tat > t0 ? tat : t0) + w;
    return true;
  }
}

describe('RateLimiter', () => {
  it('perSecond(2): two immediate passes, the third fails with the exact retry time', () => {
    const clock = new FakeClock(T0);
    const rl = new RateLimiter(Quota.perSecond(2), clock);
    assert.equal(rl.check(), true);
    assert.equal(rl.check(), true);
    assert.equal(rl.check(), T0 + 500);
    clock.t = T0 + 499.999;
    assert.equal(rl.check(), T0 + 500);
    clock.t = T0 + 500;
    assert.equal(rl.check(), true);
    assert.equal(rl.check(), T0 + 1000);
  });

  it('a failed check consumes nothing', () => {
    const clock = new FakeClock(T0);
    const rl = new RateLimiter(Quota.perSecond(1), clock);
    assert.equal(rl.check(), true);
    for (let i = 0; i < 10; i++) assert.equal(rl.check(), T0 + 1000);
    clock.t = T0 + 1000;
    assert.equal(rl.check(), true);
  });

  it('burst refills one cell per interval up to burst size after idling', () => {
    const clock = new FakeClock(T0);
    const rl = new RateLimiter(Quota.perSecond(1).allowBurst(3), clock);
    for (let i = 0; i < 3; i++) assert.equal(rl.check(), true);
    assert.equal(rl.check(), T0 + 1000);
    clock.t = T0 + 2000; // two cells back
    assert.equal(rl.check(), true);
    assert.equal(rl.check(), true);
    assert.equal(rl.check(), T0 + 3000);
    clock.t = T0 + 60_000; // long idle: never more than the burst
    for (let i = 0; i < 3; i++) assert.equal(rl.check(), true);
    assert.equal(rl.check(), T0 + 61_000);
  });

  it('perSecond(3) retry times are fractional and checking exactly then passes', () => {
    const clock = new FakeClock(T0);
    const rl = new RateLimiter(Quota.perSecond(3), clock);
    for (let i = 0; i < 3; i++) assert.equal(rl.check(), true);
    const retry = rl.check();
    assert.equal(typeof retry, 'number');
    assert.ok((retry as number) > T0 + 333.333 && (retry as number) < T0 + 333.334);
    clock.t = (retry as number) - 0.001;
    assert.equal(rl.check(), retry);
    clock.t = retry as number;
    assert.equal(rl.check(), true);
  });

  it('checkN takes all cells or none and refuses n beyond the burst', () => {
    const clock = new FakeClock(T0);
    const rl = new RateLimiter(Quota.perSecond(4), clock);
    assert.equal(rl.checkN(3), true);
    assert.equal(rl.checkN(2), T0 + 250);
    assert.equal(rl.checkN(1), true);
    assert.throws(() => rl.checkN(5), RangeError);
    assert.throws(() => rl.checkN(0), RangeError);
  });

  it('matches a bigint transcription of governor exactly, including after 100+ days', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(
          fc.tuple(
            fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constant(40 * 86_400_000)),
            fc.integer({ min: 0, max: 999 }),
            fc.integer({ min: 1, max: 5 }),
          ),
          { maxLength: 60 },
        ),
        (perSecond, burst, steps) => {
          const quota = Quota.perSecond(perSecond).allowBurst(burst);
          const clock = new FakeClock(T0 + 0.25);
          const rl = new RateLimiter(quota, clock);
          const ref = new ReferenceGcra(quota, clock.t);
          let ms = T0;
          for (const [dt, frac, n0] of steps) {
            ms += dt;
            clock.t = ms + frac / 1000; // microsecond resolution
            const n = Math.min(n0, burst);
            const got = rl.checkN(n);
            const want = ref.check(clock.t, n);
            if (want === true) assert.equal(got, true);
            else {
              assert.equal(typeof got, 'number');
              // The retry time maps back to exactly the reference's earliest ns.
              const back = BigInt(Math.round(((got as number) - Math.floor(T0 + 0.25)) * 1e6));
              assert.ok(back >= want, `retry ${got} maps to ${back} < ${want}`);
              assert.ok(back - want <= 1000n);
            }
          }
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });

  it('a check at the reported retry time always passes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0, max: 1e13, noNaN: true }),
        (perSecond, burst, start) => {
          const clock = new FakeClock(start);
          const rl = new RateLimiter(Quota.perSecond(perSecond).allowBurst(burst), clock);
          for (let i = 0; i < burst; i++) assert.equal(rl.check(), true);
          const retry = rl.check();
          assert.equal(typeof retry, 'number');
          clock.t = retry as number;
          assert.equal(rl.check(), true);
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });

  it('GCRA bound: passes in any window W are at most burst + floor(W / interval)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          Quota.perSecond(2),
          Quota.perSecond(3),
          Quota.perSecond(7),
          Quota.withPeriod(250),
        ),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 120 }),
        (base, burst, gaps) => {
          const quota = base.allowBurst(burst);
          const clock = new FakeClock(T0);
          const rl = new RateLimiter(quota, clock);
          const passes: number[] = []; // in ns since T0: exact integers
          let ms = 0;
          for (const gap of gaps) {
            ms += gap;
            clock.t = T0 + ms;
            if (rl.check() === true) passes.push(ms * 1e6);
          }
          const interval = quota.replenishIntervalNs;
          for (let i = 0; i < passes.length; i++) {
            for (let j = i; j < passes.length; j++) {
              const w = (passes[j] as number) - (passes[i] as number);
              assert.ok(j - i + 1 <= burst + Math.floor(w / interval));
            }
          }
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('KeyedRateLimiter', () => {
  it('withPeriod(5000) per IP: each IP gets one pass per 5 s, independently', () => {
    const clock = new FakeClock(T0);
    const rl = new KeyedRateLimiter<string>(Quota.withPeriod(5000), clock);
    assert.equal(rl.check('10.0.0.1'), true);
    assert.equal(rl.check('10.0.0.1'), T0 + 5000);
    assert.equal(rl.check('10.0.0.2'), true);
    clock.t = T0 + 4999;
    assert.equal(rl.check('10.0.0.1'), T0 + 5000);
    clock.t = T0 + 5000;
    assert.equal(rl.check('10.0.0.1'), true);
    assert.equal(rl.check('10.0.0.2'), true);
    assert.equal(rl.size, 2);
  });

  it('retainRecent prunes exactly the fully replenished keys', () => {
    const clock = new FakeClock(T0);
    const rl = new KeyedRateLimiter<number>(Quota.perSecond(2), clock);
    rl.check(1); // tat = +500 ms
    rl.check(2);
    rl.check(2); // tat = +1000 ms
    clock.t = T0 + 499;
    rl.retainRecent();
    assert.equal(rl.size, 2);
    clock.t = T0 + 500;
    rl.retainRecent();
    assert.equal(rl.size, 1);
    clock.t = T0 + 1000;
    rl.retainRecent();
    assert.equal(rl.size, 0);
    // A pruned key behaves exactly like a new one.
    assert.equal(rl.check(2), true);
    assert.equal(rl.check(2), true);
    assert.equal(rl.check(2), T0 + 1500);
  });

  it('keeps memory bounded under a stream of fresh keys with periodic pruning', () => {
    const clock = new FakeClock(T0);
    const rl = new KeyedRateLimiter<string>(Quota.perSecond(10), clock);
    for (let i = 0; i < 100_000; i++) {
      clock.t = T0 + i; // 1 key per ms, each fully replenished 100 ms later
      rl.check(`peer-${i}`);
      if (i % 1000 === 0) rl.retainRecent();
    }
    assert.ok(rl.size <= 1100, `size ${rl.size}`);
  });

  it('sweeps replenished keys itself as new keys arrive: bounded without retainRecent', () => {
    const clock = new FakeClock(T0);
    const rl = new KeyedRateLimiter<string>(Quota.perSecond(10), clock);
    let most = 0;
    for (let i = 0; i < 100_000; i++) {
      clock.t = T0 + i; // 1 key per ms, each fully replenished 100 ms later
      assert.equal(rl.check(`peer-${i}`), true);
      most = Math.max(most, rl.size);
    }
    // About 100 keys are within their window at any time; the sweep runs at twice what it left.
    assert.ok(most <= 2 * 101 + 1, `at most ${most} keys held`);
    assert.ok(rl.size >= 100, 'the keys still within their window are kept');
  });

  it('self-sweeps decide exactly as one direct limiter per key', () => {
    const clock = new FakeClock(T0);
    const quota = Quota.perSecond(5).allowBurst(3);
    const keyed = new KeyedRateLimiter<number>(quota, clock);
    const direct = new Map<number, RateLimiter>();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 * SELF_SWEEP }), fc.nat(400)), {
          minLength: 1,
          maxLength: 2000,
        }),
        (steps) => {
          for (const [key, dt] of steps) {
            clock.t += dt;
            let d = direct.get(key);
            if (d === undefined) {
              d = new RateLimiter(quota, clock);
              direct.set(key, d);
            }
            assert.equal(keyed.check(key), d.check());
          }
        },
      ),
      { seed: 7, numRuns: 30 },
    );
  });

  it('keeps exact behaviour across the 52-day origin rebase', () => {
    const clock = new FakeClock(T0);
    const rl = new KeyedRateLimiter<string>(Quota.perSecond(1).allowBurst(2), clock);
    const day = 86_400_000;
    clock.t = T0 + 60 * day;
    assert.equal(rl.check('a'), true);
    assert.equal(rl.check('a'), true);
    assert.equal(rl.check('a'), T0 + 60 * day + 1000);
    clock.t = T0 + 120 * day + 0.5;
    assert.equal(rl.check('a'), true);
    assert.equal(rl.check('b'), true);
    assert.equal(rl.check('b'), true);
    assert.equal(rl.check('b'), T0 + 120 * day + 1000.5);
    assert.equal(rl.size, 2);
  });
});
