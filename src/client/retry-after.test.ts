import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './retry-after.ts';

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);

describe('parseRetryAfter', () => {
  it('reads delay-seconds as client-go does: a decimal integer, 0 included', () => {
    expect(parseRetryAfter('30', NOW)).toBe(30);
    expect(parseRetryAfter(' 1 ', NOW)).toBe(1);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(['7', '9'], NOW)).toBe(7);
  });

  it('ignores what is neither a number of seconds nor an HTTP-date', () => {
    for (const value of [undefined, '', '1.5', '-1', '+5', 'soon', 'Sun Nov  6 08:49:37 1994']) {
      expect(parseRetryAfter(value, NOW), String(value)).toBeUndefined();
    }
  });

  it('turns an HTTP-date into the seconds until then, rounded up, and 0 once it has passed', () => {
    expect(parseRetryAfter('Mon, 30 Nov 2026 12:00:30 GMT', NOW)).toBe(30);
    expect(parseRetryAfter('Mon, 30 Nov 2026 12:00:30 GMT', NOW + 500)).toBe(30);
    expect(parseRetryAfter('Monday, 30-Nov-26 12:01:00 GMT', NOW)).toBe(60);
    expect(parseRetryAfter('Mon, 30 Nov 2026 11:00:00 GMT', NOW)).toBe(0);
  });
});
