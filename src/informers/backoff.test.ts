import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.ts';
import { Backoff } from './backoff.ts';

describe('Backoff (client-go reflector values)', () => {
  it('starts at 800 ms and doubles to a 30 s cap', () => {
    const backoff = new Backoff(new FakeClock(), {}, () => 0);
    const delays = Array.from({ length: 9 }, () => backoff.next());
    expect(delays).toEqual([800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000, 30_000]);
  });

  it('jitters each delay within [base, 2 * base)', () => {
    const low = new Backoff(new FakeClock(), {}, () => 0);
    const high = new Backoff(new FakeClock(), {}, () => 0.999_999);
    for (const base of [800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000]) {
      expect(low.next()).toBe(base);
      const jittered = high.next();
      expect(jittered).toBeGreaterThan(base * 1.99);
      expect(jittered).toBeLessThan(base * 2);
    }
  });

  it('spreads real random delays inside the bounds', () => {
    const backoff = new Backoff(new FakeClock());
    for (let i = 0; i < 200; i++) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(800);
      expect(delay).toBeLessThan(60_000);
    }
  });

  it('starts over after more than 2 min between failures, not at exactly 2 min', () => {
    const clock = new FakeClock();
    const backoff = new Backoff(clock, {}, () => 0);
    backoff.next();
    backoff.next();
    expect(backoff.next()).toBe(3_200);
    clock.step(120_000);
    expect(backoff.next()).toBe(6_400);
    clock.step(120_001);
    expect(backoff.next()).toBe(800);
    expect(backoff.next()).toBe(1_600);
  });

  it('takes other values for tests', () => {
    const backoff = new Backoff(new FakeClock(), { initialMs: 10, maxMs: 25, jitter: 0 });
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([10, 20, 25, 25]);
  });
});
