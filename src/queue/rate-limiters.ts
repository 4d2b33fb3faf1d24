import { realClock, type Clock } from '../clock/index.ts';
import { TokenBucketRateLimiter } from '../flowcontrol/index.ts';
import { BUCKET_BURST, BUCKET_QPS, RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS } from './defaults.ts';

/** Decides how long an item waits before it is retried. */
export interface RateLimiter<T> {
  /** The delay in ms before `item` is retried; calling it counts one more retry. */
  when(item: T): number;
  /** Forgets the retries of `item` (after it succeeded, or was given up on). */
  forget(item: T): void;
  /** How many times `item` has been retried since it was last forgotten. */
  numRequeues(item: T): number;
}

function requireNonNegative(name: string, value: number): void {
  if (!(value >= 0)) throw new RangeError(`${name} must be a number >= 0, got ${value}`);
}

/** Per item: retryBaseDelayMs * 2^failures, capped at retryMaxDelayMs. */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  readonly #retryBaseDelayMs: number;
  readonly #retryMaxDelayMs: number;
  readonly #failures = new Map<T, number>();

  constructor(retryBaseDelayMs: number, retryMaxDelayMs: number) {
    requireNonNegative('retryBaseDelayMs', retryBaseDelayMs);
    requireNonNegative('retryMaxDelayMs', retryMaxDelayMs);
    this.#retryBaseDelayMs = retryBaseDelayMs;
    this.#retryMaxDelayMs = retryMaxDelayMs;
  }

  when(item: T): number {
    const failures = this.#failures.get(item) ?? 0;
    this.#failures.set(item, failures + 1);
    if (this.#retryBaseDelayMs === 0) return 0;
    // 2 ** failures becomes Infinity past 1023: the comparison then caps it rather than overflowing.
    const delay = this.#retryBaseDelayMs * 2 ** failures;
    return delay < this.#retryMaxDelayMs ? delay : this.#retryMaxDelayMs;
  }

  forget(item: T): void {
    this.#failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.#failures.get(item) ?? 0;
  }
}

/** Per item: fastMs for the first maxFastAttempts retries, slowMs after. */
export class ItemFastSlowRateLimiter<T> implements RateLimiter<T> {
  readonly #fastMs: number;
  readonly #slowMs: number;
  readonly #maxFastAttempts: number;
  readonly #failures = new Map<T, number>();

  constructor(fastMs: number, slowMs: number, maxFastAttempts: number) {
    requireNonNegative('fastMs', fastMs);
    requireNonNegative('slowMs', slowMs);
    requireNonNegative('maxFastAttempts', maxFastAttempts);
    this.#fastMs = fastMs;
    this.#slowMs = slowMs;
    this.#maxFastAttempts = maxFastAttempts;
  }

  when(item: T): number {
    const failures = (this.#failures.get(item) ?? 0) + 1;
    this.#failures.set(item, failures);
    return failures <= this.#maxFastAttempts ? this.#fastMs : this.#slowMs;
  }

  forget(item: T): void {
    this.#failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.#failures.get(item) ?? 0;
  }
}

/**
 * Every item draws from one token bucket (flowcontrol's): `burst` retries at once, then `qps` per
 * second. when() always takes a token, going into debt when none is left, and returns the wait for it.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  readonly #bucket: TokenBucketRateLimiter;

  constructor(qps: number, burst: number, clock: Clock = realClock) {
    this.#bucket = new TokenBucketRateLimiter(qps, burst, clock);
  }

  when(_item: T): number {
    return this.#bucket.reserve();
  }

  forget(_item: T): void {
    // The bucket is shared by every item: there is nothing per item to forget.
  }

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The strictest of several limiters: the longest delay and the highest requeue count. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  readonly #limiters: readonly RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    this.#limiters = limiters;
  }

  when(item: T): number {
    // Every limiter is asked, since asking is what records the retry in each.
    return this.#limiters.reduce((max, limiter) => Math.max(max, limiter.when(item)), 0);
  }

  forget(item: T): void {
    for (const limiter of this.#limiters) limiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.#limiters.reduce((max, limiter) => Math.max(max, limiter.numRequeues(item)), 0);
  }
}

export interface ControllerRateLimiterOptions {
  /** A key's first retry delay in ms, doubled per failure; RETRY_BASE_DELAY_MS (1 s) by default. */
  retryBaseDelayMs?: number;
  /** Cap on a key's retry delay in ms; RETRY_MAX_DELAY_MS (1000 s) by default. */
  retryMaxDelayMs?: number;
  /** Retries per second over all keys; BUCKET_QPS (10) by default. */
  qps?: number;
  /** Retries over all keys that may go at once; BUCKET_BURST (100) by default. */
  burst?: number;
  clock?: Clock;
}

/**
 * client-go's DefaultTypedControllerRateLimiter (util/workqueue/default_rate_limiters.go): per-item
 * exponential backoff, and an overall token bucket over all retries; only the base delay differs
 * (RETRY_BASE_DELAY_MS says why).
 */
export function defaultControllerRateLimiter<T>(options: ControllerRateLimiterOptions = {}): RateLimiter<T> {
  const {
    retryBaseDelayMs = RETRY_BASE_DELAY_MS,
    retryMaxDelayMs = RETRY_MAX_DELAY_MS,
    qps = BUCKET_QPS,
    burst = BUCKET_BURST,
    clock = realClock,
  } = options;
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(retryBaseDelayMs, retryMaxDelayMs),
    new BucketRateLimiter<T>(qps, burst, clock),
  );
}
