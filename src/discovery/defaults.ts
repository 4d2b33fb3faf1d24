/** Every tunable default of discovery and the RESTMapper, with its value and the reason for it. */

/**
 * A miss refreshes discovery at most once per 5 s per group (and a full discovery, for a group not
 * seen before, at most once per 5 s in all). controller-runtime refreshes on every miss; an owner
 * reference with a bogus kind would then cost a discovery request per sync. 5 s lets a CRD created
 * after start be found within a retry or two (retries come 1, 2, 4, 8 and 16 s apart), and bounds a
 * stream of misses to 12 refreshes a minute per group.
 */
export const MIN_REFRESH_INTERVAL_MS = 5_000;
