import { realClock } from '../clock/index.ts';
import { DelayingQueue, type DelayingQueueOptions, type DelayingWorkQueue } from './delaying-queue.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.ts';

/** A delaying queue whose retries are paced by a rate limiter. */
export interface RateLimitingWorkQueue<T> extends DelayingWorkQueue<T> {
  /**
   * Adds `item` after the delay the limiter assigns to its next retry, or after `minDelayMs` when
   * that is longer (the Retry-After of the failure being retried).
   */
  addRateLimited(item: T, minDelayMs?: number): void;
  /** Resets the limiter's memory of `item`; the worker must still call done. */
  forget(item: T): void;
  numRequeues(item: T): number;
}

export interface RateLimitingQueueOptions<T> extends DelayingQueueOptions<T> {
  /** defaultControllerRateLimiter() unless given. */
  rateLimiter?: RateLimiter<T>;
}

/**
 * A DelayingQueue whose retries wait as long as the rate limiter says, as client-go's
 * util/workqueue/rate_limiting_queue.go layers rateLimitingType on the delaying queue.
 */
export class RateLimitingQueue<T extends string = string>
  extends DelayingQueue<T>
  implements RateLimitingWorkQueue<T>
{
  readonly #limiter: RateLimiter<T>;

  constructor(options: RateLimitingQueueOptions<T> = {}) {
    const { rateLimiter, ...delayingOptions } = options;
    super(delayingOptions);
    this.#limiter = rateLimiter ?? defaultControllerRateLimiter<T>({ clock: options.clock ?? realClock });
  }

  addRateLimited(item: T, minDelayMs = 0): void {
    this.addAfter(item, Math.max(this.#limiter.when(item), minDelayMs));
  }

  forget(item: T): void {
    this.#limiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.#limiter.numRequeues(item);
  }
}
