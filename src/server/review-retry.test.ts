import { describe, expect, it } from 'vitest';
import { ApiError, TransportError } from '../client/index.ts';
import { FakeClock } from '../testing/index.ts';
import { isRetriableReviewError, withReviewRetry } from './review-retry.ts';

/** Runs withReviewRetry with attempts failing with `errors` in turn; what it slept and how it ended. */
async function run(errors: Error[], random = () => 0) {
  const clock = new FakeClock();
  const sleeps: number[] = [];
  // Each sleep is recorded and returns at once, so the test sees the whole schedule.
  clock.sleep = (ms) => {
    sleeps.push(ms);
    return Promise.resolve();
  };
  let attempts = 0;
  const result = await withReviewRetry(
    () => {
      const err = errors[attempts++];
      return err ? Promise.reject(err) : Promise.resolve('ok');
    },
    clock,
    new AbortController().signal,
    random,
  ).then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
  return { sleeps, attempts, result };
}

describe('review retries (k8s.io/apiserver util/webhook)', () => {
  it('retries what DefaultShouldRetry retries, and nothing else', () => {
    expect(isRetriableReviewError(new TransportError('reset'))).toBe(true);
    for (const code of [500, 504, 429]) expect(isRetriableReviewError(new ApiError(code, ''))).toBe(true);
    expect(isRetriableReviewError(new ApiError(503, '', 1))).toBe(true);
    for (const code of [400, 401, 403, 404, 503]) {
      expect(isRetriableReviewError(new ApiError(code, '')), String(code)).toBe(false);
    }
    expect(isRetriableReviewError(new Error('bug'))).toBe(false);
  });

  it('makes 5 attempts, 500 ms x1.5 apart, then fails with the last error', async () => {
    const errors = [1, 2, 3, 4, 5, 6].map((n) => new ApiError(500, `attempt ${n}`));
    const { sleeps, attempts, result } = await run(errors);
    expect(attempts).toBe(5);
    expect(sleeps).toEqual([500, 750, 1125, 1687.5]);
    expect(result).toEqual({ err: errors[4] });
  });

  it('adds up to 20 % jitter to each sleep', async () => {
    const { sleeps } = await run(
      [1, 2, 3, 4, 5].map(() => new TransportError('reset')),
      () => 1,
    );
    expect(sleeps).toEqual([600, 900, 1350, 2025]);
  });

  it('stops at once on an error that retrying cannot fix', async () => {
    const forbidden = new ApiError(403, 'forbidden');
    const { sleeps, attempts, result } = await run([forbidden]);
    expect({ sleeps, attempts }).toEqual({ sleeps: [], attempts: 1 });
    expect(result).toEqual({ err: forbidden });
  });

  it('succeeds on a later attempt', async () => {
    const { attempts, result } = await run([new TransportError('reset'), new ApiError(429, '')]);
    expect({ attempts, result }).toEqual({ attempts: 3, result: { value: 'ok' } });
  });

  it('gives up with the reason once its signal aborts', async () => {
    const abort = new AbortController();
    const reason = new Error('timed out');
    const clock = new FakeClock();
    const pending = withReviewRetry(() => Promise.reject(new ApiError(500, '')), clock, abort.signal);
    await Promise.resolve();
    abort.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
