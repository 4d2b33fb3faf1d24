/** Every tunable default of a controller, with its value and the reason for it. */

/**
 * Concurrent reconciles: 2. A pod sync reads only caches and takes microseconds, so one worker would
 * do; a second keeps one slow key from holding up the rest. controller-runtime's
 * MaxConcurrentReconciles defaults to 1.
 */
export const WORKERS = 2;

/**
 * Requeues of a failing key before it is dropped: 5, as client-go's workqueue example controller
 * (handleErr: queue.NumRequeues(key) < 5). With RETRY_BASE_DELAY_MS they span 31 s.
 */
export const MAX_REQUEUES = 5;

/**
 * How long in-flight reconciles may finish after a stop before their signal aborts: 30 s,
 * controller-runtime's default GracefulShutdownTimeout. client-go's ShutDownWithDrain waits forever.
 */
export const GRACEFUL_SHUTDOWN_TIMEOUT_MS = 30_000;
