import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.ts';
import { BUCKET_BURST, BUCKET_QPS, RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS } from './defaults.ts';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  ItemFastSlowRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
} from './rate-limiters.ts';

function delays(limiter: RateLimiter<string>, item: string, count: number): number[] {
  return Array.from({ length: count }, () => limiter.when(item));
}

describe('ItemExponentialFailureRateLimiter', () => {
  it('doubles from the base delay on each failure and counts requeues', () => {
    const limiter = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    expect(delays(limiter, 'a', 5)).toEqual([5, 10, 20, 40, 80]);
    expect(limiter.numRequeues('a')).toBe(5);
  });

  it('tracks each item on its own', () => {
    const limiter = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    limiter.when('a');
    limiter.when('a');
    expect(limiter.when('b')).toBe(5);
    expect(limiter.numRequeues('a')).toBe(2);
    expect(limiter.numRequeues('b')).toBe(1);
  });

  it('caps the delay at the maximum', () => {
    const limiter = new ItemExponentialFailureRateLimiter<string>(5, 50);
    expect(delays(limiter, 'a', 6)).toEqual([5, 10, 20, 40, 50, 50]);
  });

  it('returns the maximum, never Infinity or NaN, after a huge number of failures', () => {
    const limiter = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    const all = delays(limiter, 'a', 10_000);
    expect(all.at(-1)).toBe(1_000_000);
    expect(all.every((d) => Number.isFinite(d) && d <= 1_000_000)).toBe(true);
    expect(limiter.numRequeues('a')).toBe(10_000);
  });

  it('starts again from the base after forget', () => {
    const limiter = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    delays(limiter, 'a', 3);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });

  it('rejects negative or NaN delays', () => {
    expect(() => new ItemExponentialFailureRateLimiter<string>(-1, 10)).toThrow(RangeError);
    expect(() => new ItemExponentialFailureRateLimiter<string>(1, NaN)).toThrow(RangeError);
  });
});

describe('BucketRateLimiter', () => {
  it('spaces retries of every item by one token bucket, counts no requeues, and refunds nothing on forget', () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter<string>(2, 2, clock);
    expect(limiter.when('a')).toBe(0);
    expect(limiter.when('b')).toBe(0);
    limiter.forget('a');
    expect(limiter.when('c')).toBe(500);
    expect(limiter.numRequeues('a') + limiter.numRequeues('c')).toBe(0);
  });
});

describe('ItemFastSlowRateLimiter', () => {
  it('uses the fast delay for the first attempts, then the slow one, until forgotten', () => {
    const limiter = new ItemFastSlowRateLimiter<string>(5, 10_000, 3);
    expect(delays(limiter, 'a', 5)).toEqual([5, 5, 5, 10_000, 10_000]);
    expect(limiter.numRequeues('a')).toBe(5);
    expect(limiter.when('b')).toBe(5);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });
});

describe('MaxOfRateLimiter', () => {
  it('takes the longest delay and highest requeue count, and forgets in all', () => {
    const fastSlow = new ItemFastSlowRateLimiter<string>(5, 3_000, 3);
    const exponential = new ItemExponentialFailureRateLimiter<string>(1, 1_000);
    const limiter = new MaxOfRateLimiter(fastSlow, exponential);
    expect(delays(limiter, 'a', 5)).toEqual([5, 5, 5, 3_000, 3_000]);
    expect(limiter.numRequeues('a')).toBe(5);
    expect(exponential.numRequeues('a')).toBe(5);
    limiter.forget('a');
    expect(fastSlow.numRequeues('a')).toBe(0);
    expect(exponential.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });

  it('asks every limiter, so the shared bucket pays even when another limiter wins', () => {
    const clock = new FakeClock();
    const bucket = new BucketRateLimiter<string>(1, 1, clock);
    const limiter = new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter<string>(5_000, 5_000), bucket);
    expect(limiter.when('a')).toBe(5_000);
    expect(bucket.when('b')).toBe(1_000);
  });
});

describe('defaultControllerRateLimiter', () => {
  it("takes client-go's 5 ms exponential backoff within a 10 qps, 100 burst bucket when asked", () => {
    expect([RETRY_MAX_DELAY_MS, BUCKET_QPS, BUCKET_BURST]).toEqual([1_000_000, 10, 100]);
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter<string>({ retryBaseDelayMs: 5, clock });
    expect(delays(limiter, 'a', 5)).toEqual([5, 10, 20, 40, 80]);
    // 95 more items spend the rest of the burst; the next one waits for the bucket, not its own backoff.
    for (let i = 0; i < 95; i++) expect(limiter.when(`k${i}`)).toBe(5);
    expect(limiter.when('fresh')).toBe(100);
    expect(limiter.numRequeues('a')).toBe(5);
  });

  it('caps at 1000 s', () => {
    const limiter = defaultControllerRateLimiter<string>({ clock: new FakeClock() });
    expect(delays(limiter, 'a', 40).at(-1)).toBe(1_000_000);
  });

  // Its value (1 s) is pinned with the other documented defaults in src/config/defaults.test.ts.
  it('defaults to RETRY_BASE_DELAY_MS, the one default of --retry-base-delay, doubled per failure', () => {
    const limiter = defaultControllerRateLimiter<string>({ clock: new FakeClock() });
    const all = delays(limiter, 'a', 5);
    expect(all).toEqual([1, 2, 4, 8, 16].map((factor) => factor * RETRY_BASE_DELAY_MS));
    expect(all.reduce((sum, d) => sum + d, 0)).toBe(31 * RETRY_BASE_DELAY_MS);
  });
});
