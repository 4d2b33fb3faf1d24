import { MAX_TIMER_DELAY_MS, realClock, type Clock, type TimerHandle } from '../clock/index.ts';
import { DueHeap } from './heap.ts';
import { noopMetricsProvider, type CounterMetric } from './metrics.ts';
import { Queue, type DrainOptions, type GetResult, type QueueOptions, type WorkQueue } from './queue.ts';

/** A work queue that can also take an item after a delay. */
export interface DelayingWorkQueue<T> extends WorkQueue<T> {
  /**
   * Adds `item` once `delayMs` has passed; a delay <= 0 adds it now. If the item already waits, the
   * earlier of the two times is kept.
   */
  addAfter(item: T, delayMs: number): void;
}

export interface DelayingQueueOptions<T> extends QueueOptions {
  /** The queue to feed; by default a new Queue with the same name, clock and metrics provider. */
  queue?: WorkQueue<T>;
}

/**
 * Holds delayed items in a heap by ready time, with a single timer armed for the earliest, and adds
 * each to the wrapped queue when it falls due.
 */
export class DelayingQueue<T extends string = string> implements DelayingWorkQueue<T> {
  readonly #queue: WorkQueue<T>;
  readonly #clock: Clock;
  readonly #retries: CounterMetric | undefined;
  readonly #waiting = new DueHeap<T>();
  #timer: TimerHandle | undefined;
  /** The ready time #timer was armed for, to avoid re-arming for the same deadline. */
  #timerAt: number | undefined;

  constructor(options: DelayingQueueOptions<T> = {}) {
    this.#clock = options.clock ?? realClock;
    this.#queue = options.queue ?? new Queue<T>(options);
    const { name = '', metricsProvider = noopMetricsProvider } = options;
    this.#retries = name === '' ? undefined : metricsProvider.newRetriesMetric(name);
  }

  /** Adds `item` now, dropping any delayed entry for it so it is not handed out a second time later. */
  add(item: T): void {
    if (this.#queue.shuttingDown()) return;
    if (this.#waiting.delete(item)) this.#arm();
    this.#queue.add(item);
  }

  addAfter(item: T, delayMs: number): void {
    if (this.#queue.shuttingDown()) return;
    if (!(delayMs > 0)) {
      this.add(item);
      return;
    }
    // client-go counts every addAfter; only a real delay is a retry worth counting.
    this.#retries?.inc();
    const readyAt = this.#clock.now() + delayMs;
    const current = this.#waiting.dueAt(item);
    if (current !== undefined && current <= readyAt) return;
    this.#waiting.set(item, readyAt);
    this.#arm();
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
    this.#stopWaiting();
    this.#queue.shutDown();
  }

  shutDownWithDrain(options?: DrainOptions): Promise<boolean> {
    this.#stopWaiting();
    return this.#queue.shutDownWithDrain(options);
  }

  /** Adds every entry that is due, then arms the timer for the next one. */
  #release(): void {
    const now = this.#clock.now();
    for (let next = this.#waiting.peek(); next && next.at <= now; next = this.#waiting.peek()) {
      this.#waiting.pop();
      this.#queue.add(next.key);
    }
    this.#arm();
  }

  /** Keeps exactly one timer, due at the earliest ready time, or none when nothing waits. */
  #arm(): void {
    const next = this.#waiting.peek();
    if (next?.at === this.#timerAt) return;
    this.#disarm();
    if (!next) return;
    // A far-off deadline is approached in steps the timer can hold; #release re-checks on each.
    const delay = Math.min(Math.max(next.at - this.#clock.now(), 0), MAX_TIMER_DELAY_MS);
    this.#timerAt = next.at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = undefined;
      this.#release();
    }, delay);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = undefined;
  }

  #stopWaiting(): void {
    this.#disarm();
    this.#waiting.clear();
  }
}
