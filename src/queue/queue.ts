import { realClock, type Clock, type TimerHandle } from '../clock/index.ts';
import { UNFINISHED_WORK_UPDATE_PERIOD_MS } from './defaults.ts';
import { Fifo } from './fifo.ts';
import { noopMetricsProvider, type MetricsProvider } from './metrics.ts';
import { newQueueMetrics, type QueueMetrics } from './queue-metrics.ts';

/** What get() hands a worker: an item to process, or word that the queue has shut down and is empty. */
export type GetResult<T> = { item: T; shutdown: false } | { item?: undefined; shutdown: true };

export interface DrainOptions {
  /** Gives up waiting (resolving false) when aborted. */
  signal?: AbortSignal;
  /** Gives up waiting (resolving false) after this long; without it, waits until drained as client-go does. */
  timeoutMs?: number;
}

/**
 * A work queue of keys. A key is pending at most once, and is never handed to two workers at once:
 * adding a key that is being processed marks it to be handed out again once the worker calls done.
 */
export interface WorkQueue<T> {
  /** Marks `item` as needing processing; ignored once the queue is shutting down. */
  add(item: T): void;
  /** Waits for the next item; after shutdown, still hands out what is queued, then reports shutdown. */
  get(): Promise<GetResult<T>>;
  /** Tells the queue a worker finished `item`; required after every successful get. */
  done(item: T): void;
  /** How many items wait to be handed out (not counting those being processed). */
  len(): number;
  /** Stops accepting items and wakes every waiting get. */
  shutDown(): void;
  /**
   * Shuts down, then waits until every queued and in-flight item is done: true when drained, false
   * when the signal aborts, the timeout passes or shutDown() is called meanwhile.
   */
  shutDownWithDrain(options?: DrainOptions): Promise<boolean>;
  shuttingDown(): boolean;
}

export interface QueueOptions {
  /** Labels the queue's metrics; an unnamed queue records none. */
  name?: string;
  clock?: Clock;
  metricsProvider?: MetricsProvider;
}

/** Keys are compared by value, so they are strings (typically "namespace/name"). */
export class Queue<T extends string = string> implements WorkQueue<T> {
  readonly #clock: Clock;
  readonly #metrics: QueueMetrics<T>;
  /** Hand-out order. Every queued item is dirty and not processing. */
  readonly #queue = new Fifo<T>();
  /** Items that need processing: queued, or being processed and added again since. */
  readonly #dirty = new Set<T>();
  readonly #processing = new Set<T>();
  /** Pending get() calls, oldest first. Non-empty only while #queue is empty. */
  readonly #getters = new Fifo<(result: GetResult<T>) => void>();
  readonly #drainers = new Set<(drained: boolean) => void>();
  #shuttingDown = false;
  #refreshTimer: TimerHandle | undefined;

  constructor(options: QueueOptions = {}) {
    this.#clock = options.clock ?? realClock;
    this.#metrics = newQueueMetrics(
      options.metricsProvider ?? noopMetricsProvider,
      options.name ?? '',
      this.#clock,
    );
    if (this.#metrics.active) this.#scheduleRefresh();
  }

  add(item: T): void {
    if (this.#shuttingDown || this.#dirty.has(item)) return;
    this.#metrics.add(item);
    this.#dirty.add(item);
    // A key being processed is queued again by done(), so it never runs twice at once.
    if (!this.#processing.has(item)) this.#enqueue(item);
  }

  get(): Promise<GetResult<T>> {
    if (this.#queue.length > 0) {
      const item = this.#queue.shift() as T;
      this.#handOut(item);
      return Promise.resolve({ item, shutdown: false });
    }
    if (this.#shuttingDown) return Promise.resolve({ shutdown: true });
    return new Promise((resolve) => {
      this.#getters.push(resolve);
    });
  }

  done(item: T): void {
    // Ignore an item that was never handed out: re-queueing it here could queue a second copy.
    if (!this.#processing.delete(item)) return;
    this.#metrics.done(item);
    if (this.#dirty.has(item)) this.#enqueue(item);
    else this.#settleDrainersIfDrained();
  }

  len(): number {
    return this.#queue.length;
  }

  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  shutDown(): void {
    this.#beginShutdown();
    // As in client-go, shutDown() cuts short a drain in progress.
    for (const settle of [...this.#drainers]) settle(false);
  }

  shutDownWithDrain(options: DrainOptions = {}): Promise<boolean> {
    const { signal, timeoutMs } = options;
    if (timeoutMs !== undefined && !(timeoutMs >= 0 && Number.isFinite(timeoutMs))) {
      throw new RangeError(`drain timeout must be a finite number of ms >= 0, got ${timeoutMs}`);
    }
    this.#beginShutdown();
    if (this.#isDrained()) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const settle = (drained: boolean): void => {
        this.#drainers.delete(settle);
        if (timer) this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(drained);
      };
      const onAbort = (): void => {
        settle(false);
      };
      const timer = timeoutMs === undefined ? undefined : this.#clock.setTimeout(onAbort, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#drainers.add(settle);
    });
  }

  #enqueue(item: T): void {
    const getter = this.#getters.shift();
    if (getter) {
      this.#handOut(item);
      getter({ item, shutdown: false });
    } else {
      this.#queue.push(item);
    }
  }

  #handOut(item: T): void {
    this.#metrics.get(item);
    this.#processing.add(item);
    this.#dirty.delete(item);
  }

  #beginShutdown(): void {
    this.#shuttingDown = true;
    // Getters wait only while the queue is empty, so each of them now learns of the shutdown.
    for (const getter of this.#getters.drain()) getter({ shutdown: true });
    if (this.#refreshTimer !== undefined) this.#clock.clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
  }

  #isDrained(): boolean {
    return this.#queue.length === 0 && this.#processing.size === 0;
  }

  #settleDrainersIfDrained(): void {
    if (this.#drainers.size === 0 || !this.#isDrained()) return;
    for (const settle of [...this.#drainers]) settle(true);
  }

  #scheduleRefresh(): void {
    this.#refreshTimer = this.#clock.setTimeout(() => {
      this.#metrics.updateUnfinishedWork();
      this.#scheduleRefresh();
    }, UNFINISHED_WORK_UPDATE_PERIOD_MS);
  }
}
