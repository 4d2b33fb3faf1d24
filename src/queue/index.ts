export * from './defaults.ts';
export { DelayingQueue, type DelayingQueueOptions, type DelayingWorkQueue } from './delaying-queue.ts';
export {
  noopMetricsProvider,
  type CounterMetric,
  type GaugeMetric,
  type HistogramMetric,
  type MetricsProvider,
  type SettableGaugeMetric,
} from './metrics.ts';
export {
  PrometheusMetricsProvider,
  WORKQUEUE_DURATION_BUCKETS,
  WORKQUEUE_METRICS,
} from './prometheus-metrics.ts';
export { Queue, type DrainOptions, type GetResult, type QueueOptions, type WorkQueue } from './queue.ts';
export {
  RateLimitingQueue,
  type RateLimitingQueueOptions,
  type RateLimitingWorkQueue,
} from './rate-limiting-queue.ts';
export {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  ItemFastSlowRateLimiter,
  MaxOfRateLimiter,
  type ControllerRateLimiterOptions,
  type RateLimiter,
} from './rate-limiters.ts';
