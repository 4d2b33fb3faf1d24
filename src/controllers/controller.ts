import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { retryAfterMs } from '../client/index.ts';
import { realClock, type Clock } from '../clock/index.ts';
import {
  DRAIN_TIMEOUT_MS,
  MAX_REQUEUES,
  PrometheusMetricsProvider,
  RateLimitingQueue,
  type RateLimitingWorkQueue,
  type RateLimiter,
} from '../queue/index.ts';
import { controllerMetrics, initControllerSeries, type ReconcileResultLabel } from './controller-metrics.ts';
import { CACHE_SYNC_POLL_MS } from '../informers/index.ts';
import { CACHE_SYNC_TIMEOUT_MS, WORKERS } from './defaults.ts';
import type { LeaderGate } from './leader-gate.ts';
import { TerminalError, type Reconciler } from './reconciler.ts';

/** Anything whose cache must be filled before workers may read it. */
export interface Syncable {
  hasSynced(): boolean;
}

export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  /** Caches the reconciler reads; workers start only once all have synced. */
  caches: readonly Syncable[];
  /**
   * Leader-only work: each reconcile waits until the gate says this replica leads, checked right
   * before the call. Stopped while the gate is closed, the controller does not drain.
   */
  leaderGate?: LeaderGate;
  workers?: number;
  maxRetries?: number;
  /** The retry limiter; by default client-go's controller limiter with the operator's 1 s base delay. */
  rateLimiter?: RateLimiter<string>;
  cacheSyncTimeoutMs?: number;
  shutdownTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
}

export class CacheSyncTimeoutError extends Error {
  override name = 'CacheSyncTimeoutError';
}

/**
 * Keys go in through enqueue(); N workers take them from a rate-limited queue and reconcile them. As in
 * client-go's workqueue example: success forgets the key's failures; a failure is retried with backoff
 * while numRequeues < maxRetries, then the key is dropped with an error log and a metric.
 */
export class Controller {
  readonly name: string;
  readonly queue: RateLimitingWorkQueue<string>;
  readonly #options: ControllerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ReturnType<typeof controllerMetrics>;
  readonly #workers: number;
  readonly #maxRetries: number;
  #started = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ controller: options.name });
    this.#workers = options.workers ?? WORKERS;
    this.#maxRetries = options.maxRetries ?? MAX_REQUEUES;
    if (!Number.isInteger(this.#workers) || this.#workers < 1) throw new RangeError('workers must be >= 1');
    if (!Number.isInteger(this.#maxRetries) || this.#maxRetries < 0)
      throw new RangeError('maxRetries must be >= 0');
    this.#metrics = controllerMetrics(options.registry);
    initControllerSeries(this.#metrics, this.name, this.#workers);
    this.queue = new RateLimitingQueue<string>({
      name: options.name,
      clock: this.#clock,
      ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
      ...(options.registry ? { metricsProvider: new PrometheusMetricsProvider(options.registry) } : {}),
    });
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /**
   * Waits for the caches, runs the workers until `signal` aborts, then stops taking keys and drains the
   * in-flight reconciles within the shutdown timeout (their signal aborts when it passes). Behind a
   * leader gate that is closed by then (the Lease was lost), it stops at once instead: in-flight
   * reconciles are aborted and not waited for, as controller-runtime sets gracefulShutdownTimeout to 0
   * on a lost lease (pkg/manager/internal.go). Rejects with CacheSyncTimeoutError when the caches do not
   * sync in time.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`controller ${this.name} already started`);
    this.#started = true;
    const synced = await this.#waitForCaches(signal);
    if (!synced) {
      this.queue.shutDown();
      if (signal.aborted) return;
      throw new CacheSyncTimeoutError(
        `controller ${this.name}: caches not synced within ${this.#cacheSyncTimeoutMs} ms`,
      );
    }
    this.#log.info({ workers: this.#workers }, 'caches synced, starting workers');
    // In-flight reconciles keep running during the drain; this aborts them when the drain deadline passes.
    const work = new AbortController();
    const workers = Array.from({ length: this.#workers }, () => this.#worker(work.signal));
    await waitForAbort(signal);
    const gate = this.#options.leaderGate;
    if (gate && !gate.isLeader()) {
      this.#log.info('stopping without drain: not the leader');
      work.abort(signal.reason);
      this.queue.shutDown();
      return;
    }
    this.#log.info('stopping: draining in-flight reconciles');
    const drained = await this.queue.shutDownWithDrain({ timeoutMs: this.#shutdownTimeoutMs });
    if (!drained)
      this.#log.warn({ timeoutMs: this.#shutdownTimeoutMs }, 'shutdown timeout: aborting reconciles');
    work.abort(new Error('controller shut down'));
    this.queue.shutDown();
    await Promise.all(workers);
    this.#log.info('workers stopped');
  }

  get #cacheSyncTimeoutMs(): number {
    return this.#options.cacheSyncTimeoutMs ?? CACHE_SYNC_TIMEOUT_MS;
  }

  get #shutdownTimeoutMs(): number {
    return this.#options.shutdownTimeoutMs ?? DRAIN_TIMEOUT_MS;
  }

  async #waitForCaches(signal: AbortSignal): Promise<boolean> {
    const deadline = this.#clock.now() + this.#cacheSyncTimeoutMs;
    while (!this.#options.caches.every((c) => c.hasSynced())) {
      if (signal.aborted || this.#clock.now() >= deadline) return false;
      await this.#clock.sleep(CACHE_SYNC_POLL_MS, signal).catch(() => undefined);
    }
    return true;
  }

  async #worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const next = await this.queue.get();
      if (next.shutdown) return;
      // After a shutdown the queue still hands out what it holds; once the work is aborted, nothing runs.
      if (signal.aborted) {
        this.queue.done(next.item);
        return;
      }
      await this.#process(next.item, signal);
    }
  }

  async #process(key: string, signal: AbortSignal): Promise<void> {
    const gate = this.#options.leaderGate;
    while (gate && !gate.isLeader()) {
      try {
        await gate.waitUntilLeader(signal);
      } catch {
        this.queue.done(key);
        return;
      }
    }
    // No await from the gate check above to the reconcile call below: a leader that went stale in
    // between would otherwise act (a cache-only sync runs to its end synchronously).
    const m = this.#metrics;
    const controller = this.name;
    m.activeWorkers.inc({ controller });
    const started = this.#clock.now();
    let result: ReconcileResultLabel = 'success';
    try {
      const outcome = await this.#options.reconcile(key, signal);
      this.queue.forget(key);
      if (outcome?.requeueAfterMs !== undefined) {
        result = 'requeue_after';
        this.queue.addAfter(key, outcome.requeueAfterMs);
      }
    } catch (err) {
      result = 'error';
      this.#handleError(key, err);
    } finally {
      m.reconcileTime.observe({ controller }, (this.#clock.now() - started) / 1000);
      m.reconcileTotal.inc({ controller, result });
      m.activeWorkers.dec({ controller });
      this.queue.done(key);
    }
  }

  #handleError(key: string, err: unknown): void {
    const m = this.#metrics;
    const controller = this.name;
    m.reconcileErrors.inc({ controller });
    const error = describeError(err);
    if (err instanceof TerminalError) {
      m.terminalReconcileErrors.inc({ controller });
      this.queue.forget(key);
      this.#log.error({ key, err: error }, 'sync failed with a terminal error, not retrying');
      return;
    }
    const requeues = this.queue.numRequeues(key);
    if (requeues < this.#maxRetries) {
      this.#log.warn(
        { key, attempt: requeues + 1, maxRetries: this.#maxRetries, err: error },
        'sync failed, retrying',
      );
      this.queue.addRateLimited(key, retryAfterMs(err));
      return;
    }
    this.queue.forget(key);
    m.droppedKeys.inc({ controller });
    this.#log.error(
      { key, retries: requeues, err: error },
      'dropping key out of the queue after its last retry',
    );
  }
}

function describeError(err: unknown): { message: string; type: string } {
  if (err instanceof Error) return { message: err.message, type: err.name };
  return { message: String(err), type: typeof err };
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
}
