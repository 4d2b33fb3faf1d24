import { Counter, exponentialBuckets, Gauge, Histogram, type Registry } from 'prom-client';
import { perRegistry } from '../metrics/index.ts';
import type {
  CounterMetric,
  GaugeMetric,
  HistogramMetric,
  MetricsProvider,
  SettableGaugeMetric,
} from './metrics.ts';

type Label = 'name' | 'controller';
const LABELS: Label[] = ['name', 'controller'];

/**
 * controller-runtime's buckets, 1e-8 s to 1e3 s by factor 10. Computed by repeated multiplication
 * exactly as Go's ExponentialBuckets does, so the bounds are bit-identical to controller-runtime's.
 */
export const WORKQUEUE_DURATION_BUCKETS: readonly number[] = exponentialBuckets(1e-8, 10, 12);

/** Metric names and help strings as controller-runtime registers them, so dashboards carry over. */
export const WORKQUEUE_METRICS = {
  depth: { name: 'workqueue_depth', help: 'Current depth of workqueue' },
  adds: { name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue' },
  latency: {
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
  },
  workDuration: {
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
  },
  unfinishedWork: {
    name: 'workqueue_unfinished_work_seconds',
    help:
      "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
      'Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at ' +
      'which this increases.',
  },
  longestRunningProcessor: {
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds has the longest running processor for workqueue been running.',
  },
  retries: {
    name: 'workqueue_retries_total',
    help:
      'Total number of items added to the workqueue with a non-zero delay ' +
      '(rate-limited requeues, explicit RequeueAfter or AddAfter calls)',
  },
} as const;

interface WorkqueueMetricSet {
  depth: Gauge<Label>;
  adds: Counter<Label>;
  latency: Histogram<Label>;
  workDuration: Histogram<Label>;
  unfinishedWork: Gauge<Label>;
  longestRunningProcessor: Gauge<Label>;
  retries: Counter<Label>;
}

const metricSetFor = perRegistry((registers): WorkqueueMetricSet => {
  const m = WORKQUEUE_METRICS;
  const buckets = [...WORKQUEUE_DURATION_BUCKETS];
  return {
    depth: new Gauge({ ...m.depth, labelNames: LABELS, registers }),
    adds: new Counter({ ...m.adds, labelNames: LABELS, registers }),
    latency: new Histogram({ ...m.latency, labelNames: LABELS, buckets, registers }),
    workDuration: new Histogram({ ...m.workDuration, labelNames: LABELS, buckets, registers }),
    unfinishedWork: new Gauge({ ...m.unfinishedWork, labelNames: LABELS, registers }),
    longestRunningProcessor: new Gauge({ ...m.longestRunningProcessor, labelNames: LABELS, registers }),
    retries: new Counter({ ...m.retries, labelNames: LABELS, registers }),
  };
});

/**
 * Exposes a gauge or counter at 0 from the start, as client_golang does on first use of its labels;
 * adding 0 leaves the value of a queue sharing the name intact.
 */
function present<M extends { inc(value?: number): void }>(metric: M): M {
  metric.inc(0);
  return metric;
}

/** Writes queue metrics to a prom-client registry, labelled name=controller=<queue name>. */
export class PrometheusMetricsProvider implements MetricsProvider {
  readonly #metrics: WorkqueueMetricSet;

  constructor(registry: Registry) {
    this.#metrics = metricSetFor(registry);
  }

  newDepthMetric(name: string): GaugeMetric {
    return present(this.#metrics.depth.labels(name, name));
  }

  newAddsMetric(name: string): CounterMetric {
    return present(this.#metrics.adds.labels(name, name));
  }

  newLatencyMetric(name: string): HistogramMetric {
    return this.#metrics.latency.labels(name, name);
  }

  newWorkDurationMetric(name: string): HistogramMetric {
    return this.#metrics.workDuration.labels(name, name);
  }

  newUnfinishedWorkSecondsMetric(name: string): SettableGaugeMetric {
    return present(this.#metrics.unfinishedWork.labels(name, name));
  }

  newLongestRunningProcessorSecondsMetric(name: string): SettableGaugeMetric {
    return present(this.#metrics.longestRunningProcessor.labels(name, name));
  }

  newRetriesMetric(name: string): CounterMetric {
    return present(this.#metrics.retries.labels(name, name));
  }
}
