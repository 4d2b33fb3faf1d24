// Controller defaults in one place; the queue's retry timing lives in src/queue/defaults.ts.

/** Requeues allowed per key before it is dropped: the client-go workqueue example's limit. */
export const MAX_RETRIES = 5;

/** Concurrent reconciles per controller: controller-runtime's default of 1 keeps ordering simple. */
export const WORKERS = 1;

/** How long workers wait for the caches before the controller fails: controller-runtime's 2 minutes. */
export const CACHE_SYNC_TIMEOUT_MS = 120_000;

/** How often cache sync is polled: client-go's WaitForCacheSync period. */
export const CACHE_SYNC_POLL_MS = 100;

/** How long shutdown waits for in-flight reconciles: controller-runtime's graceful shutdown timeout. */
export const SHUTDOWN_DRAIN_TIMEOUT_MS = 30_000;
