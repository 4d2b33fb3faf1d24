import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.ts';
import { TokenBucketRateLimiter } from './token-bucket.ts';

function reservations(bucket: TokenBucketRateLimiter, count: number): number[] {
  return Array.from({ length: count }, () => bucket.reserve());
}

describe('TokenBucketRateLimiter', () => {
  it('lets the first burst through at once, then spaces reservations by 1/qps', () => {
    const bucket = new TokenBucketRateLimiter(10, 100, new FakeClock());
    const all = reservations(bucket, 103);
    expect(all.slice(0, 100).every((d) => d === 0)).toBe(true);
    expect(all.slice(100)).toEqual([100, 200, 300]);
  });

  it('refills over time, up to the burst', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucketRateLimiter(10, 5, clock);
    reservations(bucket, 5);
    expect(bucket.reserve()).toBe(100);
    // The reservation above left a debt of one token: 300 ms later two tokens are free.
    clock.step(300);
    expect(reservations(bucket, 3)).toEqual([0, 0, 100]);
    clock.step(60_000);
    expect(reservations(bucket, 6)).toEqual([0, 0, 0, 0, 0, 100]);
  });

  it('never throttles at an infinite rate', () => {
    const bucket = new TokenBucketRateLimiter(Infinity, 1, new FakeClock());
    expect(reservations(bucket, 1_000).every((d) => d === 0)).toBe(true);
  });

  it('waits for its token on the clock, in the order reserved, and rejects when aborted', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucketRateLimiter(2, 1, clock);
    const done: string[] = [];
    const first = bucket.wait().then(() => done.push('first'));
    const second = bucket.wait().then(() => done.push('second'));
    const stop = new AbortController();
    const third = bucket.wait(stop.signal);
    await first;
    expect(done).toEqual(['first']);
    clock.step(499);
    await Promise.resolve();
    expect(done).toEqual(['first']);
    clock.step(1);
    await second;
    expect(done).toEqual(['first', 'second']);
    stop.abort(new Error('gave up'));
    await expect(third).rejects.toThrow('gave up');
  });

  it('rejects a rate or burst that could never hand out a token', () => {
    const clock = new FakeClock();
    expect(() => new TokenBucketRateLimiter(0, 1, clock)).toThrow(RangeError);
    expect(() => new TokenBucketRateLimiter(1, 0, clock)).toThrow(RangeError);
    expect(() => new TokenBucketRateLimiter(1, 1.5, clock)).toThrow(RangeError);
  });
});
