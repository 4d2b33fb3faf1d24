/** Every tunable default of the work queue, with its value and the reason for it. */

/** client-go's per-item base retry delay: 5 ms, quick enough for an optimistic-concurrency conflict. */
export const CLIENT_GO_BASE_DELAY_MS = 5;

/** Per-item retry delay cap: 1000 s as in client-go, so a key failing for hours is still retried every ~17 min. */
export const MAX_DELAY_MS = 1_000_000;

/** Overall retry rate: 10 qps as in client-go, so a mass failure cannot hammer the API server. */
export const BUCKET_QPS = 10;

/** Overall retry burst: 100 as in client-go, so a handful of failing keys retry without queueing on each other. */
export const BUCKET_BURST = 100;

/** Requeues before a failing key is dropped: 5, the value client-go's sample controller and our seed use. */
export const MAX_REQUEUES = 5;

/**
 * The operator's per-item base retry delay: 1 s. With client-go's 5 ms, five requeues are spent within
 * 155 ms (5+10+20+40+80), shorter than any API-server hiccup; with 1 s they span 1+2+4+8+16 = 31 s,
 * long enough to ride out an API-server restart or an owner object arriving late, short enough to drop
 * a truly broken key within a minute. CLIENT_GO_BASE_DELAY_MS stays available through the options.
 */
export const RETRY_BASE_DELAY_MS = 1_000;

/**
 * Bound on shutDownWithDrain when the caller gives none: 30 s, controller-runtime's graceful shutdown
 * timeout. client-go waits forever for a worker that never calls done; we give up and report it.
 */
export const DRAIN_TIMEOUT_MS = 30_000;

/** How often the unfinished-work and longest-running-processor gauges are refreshed: 500 ms as in client-go. */
export const UNFINISHED_WORK_UPDATE_PERIOD_MS = 500;
