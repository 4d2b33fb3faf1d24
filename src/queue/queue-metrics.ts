import type { Clock } from '../clock/index.ts';
import {
  noopMetricsProvider,
  type CounterMetric,
  type GaugeMetric,
  type HistogramMetric,
  type MetricsProvider,
  type SettableGaugeMetric,
} from './metrics.ts';

/** What a queue reports about the life of its items. */
export interface QueueMetrics<T> {
  /** False when nothing is recorded, so the queue need not refresh anything. */
  readonly active: boolean;
  /** An item became pending (newly dirty). */
  add(item: T): void;
  /** An item was handed to a worker. */
  get(item: T): void;
  /** A worker finished an item. */
  done(item: T): void;
  /** Refreshes the gauges that describe work still in progress. */
  updateUnfinishedWork(): void;
}

const noQueueMetrics: QueueMetrics<never> = {
  active: false,
  add() {},
  get() {},
  done() {},
  updateUnfinishedWork() {},
};

/** Metrics for the queue `name`; an unnamed queue or the no-op provider records nothing, as in client-go. */
export function newQueueMetrics<T>(provider: MetricsProvider, name: string, clock: Clock): QueueMetrics<T> {
  if (name === '' || provider === noopMetricsProvider) return noQueueMetrics;
  return new RecordingQueueMetrics<T>(provider, name, clock);
}

class RecordingQueueMetrics<T> implements QueueMetrics<T> {
  readonly active = true;
  readonly #clock: Clock;
  readonly #depth: GaugeMetric;
  readonly #adds: CounterMetric;
  readonly #latency: HistogramMetric;
  readonly #workDuration: HistogramMetric;
  readonly #unfinishedWork: SettableGaugeMetric;
  readonly #longestRunning: SettableGaugeMetric;
  /** When each pending item became pending; the first add wins, so latency covers the whole wait. */
  readonly #addTimes = new Map<T, number>();
  readonly #processingStartTimes = new Map<T, number>();

  constructor(provider: MetricsProvider, name: string, clock: Clock) {
    this.#clock = clock;
    this.#depth = provider.newDepthMetric(name);
    this.#adds = provider.newAddsMetric(name);
    this.#latency = provider.newLatencyMetric(name);
    this.#workDuration = provider.newWorkDurationMetric(name);
    this.#unfinishedWork = provider.newUnfinishedWorkSecondsMetric(name);
    this.#longestRunning = provider.newLongestRunningProcessorSecondsMetric(name);
  }

  add(item: T): void {
    this.#adds.inc();
    this.#depth.inc();
    if (!this.#addTimes.has(item)) this.#addTimes.set(item, this.#clock.now());
  }

  get(item: T): void {
    this.#depth.dec();
    this.#processingStartTimes.set(item, this.#clock.now());
    const addedAt = this.#addTimes.get(item);
    if (addedAt !== undefined) {
      this.#latency.observe(this.#secondsSince(addedAt));
      this.#addTimes.delete(item);
    }
  }

  done(item: T): void {
    const startedAt = this.#processingStartTimes.get(item);
    if (startedAt !== undefined) {
      this.#workDuration.observe(this.#secondsSince(startedAt));
      this.#processingStartTimes.delete(item);
    }
  }

  updateUnfinishedWork(): void {
    let total = 0;
    let oldest = 0;
    for (const startedAt of this.#processingStartTimes.values()) {
      const age = this.#secondsSince(startedAt);
      total += age;
      oldest = Math.max(oldest, age);
    }
    this.#unfinishedWork.set(total);
    this.#longestRunning.set(oldest);
  }

  #secondsSince(ms: number): number {
    return (this.#clock.now() - ms) / 1000;
  }
}
