// Controller defaults in one place. The retry policy (MAX_REQUEUES, RETRY_BASE_DELAY_MS) and the drain
// bound (DRAIN_TIMEOUT_MS) belong to the queue and live in src/queue/defaults.ts; the cache-sync poll
// period (CACHE_SYNC_POLL_MS) belongs to the informers.

/** Concurrent reconciles per controller: controller-runtime's default of 1 keeps ordering simple. */
export const WORKERS = 1;

/** How long workers wait for the caches before the controller fails: controller-runtime's 2 minutes. */
export const CACHE_SYNC_TIMEOUT_MS = 120_000;
