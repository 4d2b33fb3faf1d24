import { ApiError, TransportError } from '../client/index.ts';
import type { Clock } from '../clock/index.ts';
import { REVIEW_RETRY_BACKOFF } from './defaults.ts';

/**
 * Whether a failed TokenReview or SubjectAccessReview is worth sending again: k8s.io/apiserver's
 * util/webhook DefaultShouldRetry retries a broken connection, a 500 (InternalError), a 504 (Timeout),
 * a 429, and any answer carrying a Retry-After; anything else (403 Forbidden, 400) fails at once.
 */
export function isRetriableReviewError(err: unknown): boolean {
  if (err instanceof TransportError) return true;
  if (!(err instanceof ApiError)) return false;
  return err.code === 500 || err.code === 504 || err.code === 429 || err.retryAfterSeconds !== undefined;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or REVIEW_RETRY_BACKOFF's 5 attempts are spent,
 * sleeping 500 ms x1.5^n (+ up to 20 % jitter) between attempts; rejects with the last error, or with
 * `signal.reason` once it aborts. k8s.io/apiserver util/webhook WithExponentialBackoff over
 * wait.ExponentialBackoffWithContext.
 */
export async function withReviewRetry<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  clock: Clock,
  signal: AbortSignal,
  random: () => number = Math.random,
): Promise<T> {
  const { initialMs, factor, jitter, steps } = REVIEW_RETRY_BACKOFF;
  let delayMs: number = initialMs;
  for (let step = 1; ; step++) {
    signal.throwIfAborted();
    try {
      return await attempt(signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (step >= steps || !isRetriableReviewError(err)) throw err;
    }
    await clock.sleep(delayMs + random() * jitter * delayMs, signal);
    delayMs *= factor;
  }
}
