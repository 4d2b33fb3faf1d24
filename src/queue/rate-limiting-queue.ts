import { realClock } from '../clock/index.ts';
import { DelayingQueue, type DelayingQueueOptions, type DelayingWorkQueue } from './delaying-queue.ts';
import type { DrainOptions, GetResult } from './queue.ts';
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

export interface RateLimitingQueueOptions<T> extends Omit<DelayingQueueOptions<T>, 'queue'> {
  /** defaultControllerRateLimiter() unless given. */
  rateLimiter?: RateLimiter<T>;
  /** The delaying queue to feed; by default a new DelayingQueue with the same name, clock and metrics. */
  queue?: DelayingWorkQueue<T>;
}

export class RateLimitingQueue<T extends string = string> implements RateLimitingWorkQueue<T> {
  readonly #queue: DelayingWorkQueue<T>;
  readonly #limiter: RateLimiter<T>;

  constructor(options: RateLimitingQueueOptions<T> = {}) {
    const { queue, rateLimiter, ...delayingOptions } = options;
    this.#queue = queue ?? new DelayingQueue<T>(delayingOptions);
    this.#limiter = rateLimiter ?? defaultControllerRateLimiter<T>({ clock: options.clock ?? realClock });
  }

  addRateLimited(item: T, minDelayMs = 0): void {
    this.#queue.addAfter(item, Math.max(this.#limiter.when(item), minDelayMs));
  }

  forget(item: T): void {
    this.#limiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.#limiter.numRequeues(item);
  }

  add(item: T): void {
    this.#queue.add(item);
  }

  addAfter(item: T, delayMs: number): void {
    this.#queue.addAfter(item, delayMs);
  }

  get(): Promise<GetResult<T>> {
    return this.#queue.get();
  }

  done(item: T): void {
    this.#queue.done(item);
  }

  len(): number {
    return this.#queue.len();
  }

  shuttingDown(): boolean {
    return this.#queue.shuttingDown();
  }

  shutDown(): void {
    this.#queue.shutDown();
  }

  shutDownWithDrain(options?: DrainOptions): Promise<boolean> {
    return this.#queue.shutDownWithDrain(options);
  }
}
