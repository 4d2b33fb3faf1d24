import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.ts';
import { ExpiringCache } from './expiring-cache.ts';

describe('ExpiringCache', () => {
  it('serves an entry until its own TTL has passed, then forgets it', () => {
    const clock = new FakeClock();
    const cache = new ExpiringCache<string>(clock, 10);
    cache.set('short', 'a', 1_000);
    cache.set('long', 'b', 5_000);
    clock.step(999);
    expect([cache.get('short'), cache.get('long')]).toEqual(['a', 'b']);
    clock.step(1);
    expect([cache.get('short'), cache.get('long')]).toEqual([undefined, 'b']);
    clock.step(4_000);
    expect(cache.get('long')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('restarts the TTL when a key is set again, and stores nothing for a TTL <= 0', () => {
    const clock = new FakeClock();
    const cache = new ExpiringCache<string>(clock, 10);
    cache.set('k', 'old', 1_000);
    clock.step(900);
    cache.set('k', 'new', 1_000);
    clock.step(900);
    expect(cache.get('k')).toBe('new');
    cache.set('k', 'gone', 0);
    expect(cache.get('k')).toBeUndefined();
  });

  it('evicts the least recently used entry when full', () => {
    const cache = new ExpiringCache<number>(new FakeClock(), 2);
    cache.set('a', 1, 1_000);
    cache.set('b', 2, 1_000);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3, 1_000);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
  });
});
