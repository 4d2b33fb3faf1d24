import { describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS, RealClock, realClock } from './clock.ts';

// The real clock is tested without waiting for any timer: only abort paths and reading the time.
describe('RealClock', () => {
  it('reads a time close to the epoch time that never goes backwards', () => {
    const a = realClock.now();
    const b = realClock.now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(a - Date.now())).toBeLessThan(60_000);
  });

  it('rejects sleep with the abort reason', async () => {
    const controller = new AbortController();
    const sleep = new RealClock().sleep(3_600_000, controller.signal);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(sleep).rejects.toBe(reason);
  });

  it('rejects sleep at once when the signal is already aborted', async () => {
    const reason = new Error('already');
    await expect(realClock.sleep(3_600_000, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('arms an unref timer only when asked, so a watchdog never holds the process open', () => {
    const plain = realClock.setTimeout(() => undefined, 3_600_000);
    const unref = realClock.setTimeout(() => undefined, 3_600_000, { unref: true });
    try {
      expect((plain as unknown as NodeJS.Timeout).hasRef()).toBe(true);
      expect((unref as unknown as NodeJS.Timeout).hasRef()).toBe(false);
    } finally {
      realClock.clearTimeout(plain);
      realClock.clearTimeout(unref);
    }
  });

  it('refuses a delay longer than Node timers can hold instead of firing at once', () => {
    expect(() => realClock.setTimeout(() => undefined, MAX_TIMER_DELAY_MS + 1)).toThrow(RangeError);
  });
});
