export { RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS } from './defaults.ts';
export { PrometheusMetricsProvider } from './prometheus-metrics.ts';
export { Queue, type WorkQueue } from './queue.ts';
export {
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  type RateLimiter,
} from './rate-limiters.ts';
export { RateLimitingQueue, type RateLimitingWorkQueue } from './rate-limiting-queue.ts';
