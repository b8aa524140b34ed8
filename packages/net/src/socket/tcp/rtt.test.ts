/** The RFC 6298 estimator: SRTT, RTTVAR, RTO, its bounds and backoff. */
import { describe, expect, it } from 'vitest';
import { RttEstimator } from './rtt.js';

describe('RttEstimator (RFC 6298)', () => {
  it('starts at the initial RTO (RFC 6298 §2.1)', () => {
    expect(new RttEstimator({ initialMs: 1000 }).timeoutMs).toBe(1000);
  });

  it('takes the first sample as SRTT with RTTVAR half of it: RTO = SRTT + 4·RTTVAR (§2.2)', () => {
    const rtt = new RttEstimator({ minimumMs: 1 });
    rtt.sample(100);
    expect(rtt.smoothedMs).toBe(100);
    expect(rtt.timeoutMs).toBe(300);
  });

  it('smooths later samples with alpha 1/8 and beta 1/4 (§2.3)', () => {
    const rtt = new RttEstimator({ minimumMs: 1 });
    rtt.sample(100);
    rtt.sample(200);
    // RTTVAR = 3/4·50 + 1/4·|100 − 200| = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5
    expect(rtt.smoothedMs).toBe(112.5);
    expect(rtt.timeoutMs).toBe(112.5 + 4 * 62.5);
  });

  it('keeps the RTO within its bounds', () => {
    const fast = new RttEstimator({ minimumMs: 200 });
    fast.sample(1);
    expect(fast.timeoutMs).toBe(200);
    const slow = new RttEstimator({ maximumMs: 60_000 });
    slow.sample(50_000);
    expect(slow.timeoutMs).toBe(60_000);
  });

  it('doubles on each timeout up to the maximum, and a new sample ends the backoff (§5.5, §5.7)', () => {
    const rtt = new RttEstimator({ initialMs: 1000, maximumMs: 60_000 });
    rtt.backOff();
    expect(rtt.timeoutMs).toBe(2000);
    for (let i = 0; i < 10; i++) rtt.backOff();
    expect(rtt.timeoutMs).toBe(60_000);
    rtt.sample(100);
    expect(rtt.timeoutMs).toBe(300);
  });
});
