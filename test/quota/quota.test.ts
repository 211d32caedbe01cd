import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Quota } from '../../src/quota/index.js';

describe('Quota', () => {
  it('perSecond/perMinute/perHour set burst n and truncate the interval to whole ns like governor', () => {
    const q = Quota.perSecond(3);
    assert.equal(q.burstSize, 3);
    assert.equal(q.replenishIntervalNs, 333_333_333);
    assert.equal(q.replenishIntervalMs, 333.333333);
    assert.equal(Quota.perSecond(2).replenishIntervalMs, 500);
    assert.equal(Quota.perMinute(10).replenishIntervalMs, 6000);
    assert.equal(Quota.perMinute(7).replenishIntervalNs, 8_571_428_571);
    assert.equal(Quota.perHour(1).replenishIntervalMs, 3_600_000);
    assert.equal(Quota.perHour(1).burstSize, 1);
  });

  it('withPeriod has burst 1 and accepts fractional ms', () => {
    const q = Quota.withPeriod(5000);
    assert.equal(q.burstSize, 1);
    assert.equal(q.replenishIntervalMs, 5000);
    assert.equal(Quota.withPeriod(0.5).replenishIntervalNs, 500_000);
  });

  it('allowBurst returns a new quota and leaves the original alone', () => {
    const q = Quota.perSecond(10);
    const b = q.allowBurst(50);
    assert.equal(b.burstSize, 50);
    assert.equal(b.replenishIntervalMs, 100);
    assert.equal(q.burstSize, 10);
  });

  it('throws RangeError on invalid input at the call', () => {
    for (const n of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => Quota.perSecond(n), RangeError);
      assert.throws(() => Quota.perMinute(n), RangeError);
      assert.throws(() => Quota.perHour(n), RangeError);
      assert.throws(() => Quota.perSecond(1).allowBurst(n), RangeError);
    }
    for (const ms of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, 1e-7]) {
      assert.throws(() => Quota.withPeriod(ms), RangeError);
    }
    // Below 1 ns per cell, and a tolerance beyond 2^52 ns, are refused too.
    assert.throws(() => Quota.perSecond(2e9), RangeError);
    assert.throws(() => Quota.perHour(1).allowBurst(10_000), RangeError);
  });
});
