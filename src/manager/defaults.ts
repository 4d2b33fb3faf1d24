/** Every tunable default of the manager, with its value and the reason for it. */

/**
 * How long the caches may take to sync before the manager gives up and the process exits 1: 2 min,
 * controller-runtime's CacheSyncTimeout. Long enough for a first list of 100,000 pods on a busy API
 * server; short enough that a replica that cannot list (no RBAC, no route) says so and restarts.
 */
export const CACHE_SYNC_TIMEOUT_MS = 120_000;
