export { DRAIN_TIMEOUT_MS, MAX_DELAY_MS, MAX_REQUEUES, RETRY_BASE_DELAY_MS } from './defaults.ts';
export { PrometheusMetricsProvider } from './prometheus-metrics.ts';
export { Queue, type WorkQueue } from './queue.ts';
export {
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  type RateLimiter,
} from './rate-limiters.ts';
export { RateLimitingQueue, type RateLimitingWorkQueue } from './rate-limiting-queue.ts';
