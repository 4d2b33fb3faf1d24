import type { Logger } from 'pino';
import { loggerOr } from '../logging/index.ts';
import type { Registry } from 'prom-client';
import { retryAfterMs } from '../client/index.ts';
import { aborted, realClock, type Clock } from '../clock/index.ts';
import {
  PrometheusMetricsProvider,
  RateLimitingQueue,
  type RateLimiter,
  type RateLimitingWorkQueue,
} from '../queue/index.ts';
import { controllerMetrics, initControllerSeries, type ReconcileResultLabel } from './controller-metrics.ts';
import { GRACEFUL_SHUTDOWN_TIMEOUT_MS, MAX_REQUEUES, WORKERS } from './defaults.ts';
import type { LeaderGate } from './leader-gate.ts';
import { TerminalError, type Reconciler } from './reconciler.ts';

export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  /**
   * Leader-only work: each reconcile waits until the gate says this replica leads, checked right
   * before the call. Stopped while the gate is closed, the controller does not drain.
   */
  leaderGate?: LeaderGate;
  /** Concurrent reconciles; WORKERS (2) by default. */
  workers?: number;
  /** Requeues of a failing key before it is dropped; MAX_REQUEUES (5) by default. */
  maxRequeues?: number;
  /** The retry limiter; defaultControllerRateLimiter() by default. */
  rateLimiter?: RateLimiter<string>;
  /** How long in-flight reconciles may finish after a stop, in ms; GRACEFUL_SHUTDOWN_TIMEOUT_MS by default. */
  gracefulShutdownTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
}

/**
 * Keys go in through enqueue(); N workers take them from a rate-limited queue and reconcile them. As in
 * client-go's workqueue example: success forgets the key's failures; a failure is retried with backoff
 * while numRequeues < maxRequeues, then the key is dropped with an error log and a metric. A Runnable
 * that needs leader election (src/manager): the manager starts it once the caches it reads have synced.
 */
export class Controller {
  readonly name: string;
  readonly needLeaderElection = true;
  readonly queue: RateLimitingWorkQueue<string>;
  readonly #options: ControllerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ReturnType<typeof controllerMetrics>;
  readonly #workers: number;
  readonly #maxRequeues: number;
  readonly #gracefulShutdownTimeoutMs: number;
  #started = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#log = loggerOr(options.logger).child({ controller: options.name });
    this.#workers = options.workers ?? WORKERS;
    this.#maxRequeues = options.maxRequeues ?? MAX_REQUEUES;
    this.#gracefulShutdownTimeoutMs = options.gracefulShutdownTimeoutMs ?? GRACEFUL_SHUTDOWN_TIMEOUT_MS;
    if (!Number.isInteger(this.#workers) || this.#workers < 1) throw new RangeError('workers must be >= 1');
    if (!Number.isInteger(this.#maxRequeues) || this.#maxRequeues < 0)
      throw new RangeError('maxRequeues must be >= 0');
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
   * Runs the workers until `signal` aborts, then stops taking keys and drains the in-flight reconciles
   * within gracefulShutdownTimeoutMs (their signal aborts when it passes). Behind a leader gate that is
   * closed by then (the Lease was lost), it stops at once instead: in-flight reconciles are aborted and
   * not waited for, as controller-runtime sets gracefulShutdownTimeout to 0 on a lost lease
   * (pkg/manager/internal.go). The caches it reads must have synced: the manager waits for them first.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`controller ${this.name} already started`);
    this.#started = true;
    this.#log.info({ workers: this.#workers }, 'caches synced, starting workers');
    // In-flight reconciles keep running during the drain; this aborts them when the drain deadline passes.
    const work = new AbortController();
    const workers = Array.from({ length: this.#workers }, () => this.#worker(work.signal));
    await aborted(signal);
    const gate = this.#options.leaderGate;
    if (gate && !gate.isLeader()) {
      this.#log.info('stopping without drain: not the leader');
      work.abort(signal.reason);
      this.queue.shutDown();
      return;
    }
    this.#log.info('stopping: draining in-flight reconciles');
    const timeoutMs = this.#gracefulShutdownTimeoutMs;
    const drained = await this.queue.shutDownWithDrain({ timeoutMs });
    if (!drained) this.#log.warn({ timeoutMs }, 'graceful shutdown timeout: aborting reconciles');
    work.abort(new Error('controller shut down'));
    this.queue.shutDown();
    await Promise.all(workers);
    this.#log.info('workers stopped');
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
    // A reconcile may throw anything; the log and the Retry-After lookup see an Error.
    const error = err instanceof Error ? err : new Error(String(err));
    if (error instanceof TerminalError) {
      m.terminalReconcileErrors.inc({ controller });
      this.queue.forget(key);
      this.#log.error({ key, err: error }, 'sync failed with a terminal error, not retrying');
      return;
    }
    const requeues = this.queue.numRequeues(key);
    if (requeues < this.#maxRequeues) {
      this.#log.warn(
        { key, attempt: requeues + 1, maxRequeues: this.#maxRequeues, err: error },
        'sync failed, retrying',
      );
      this.queue.addRateLimited(key, retryAfterMs(error));
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
