/** Every tunable default of the work queue, with its value and the reason for it. */

/**
 * First retry delay of a failed key, doubled per failure: 1 s. client-go's DefaultControllerRateLimiter
 * starts at 5 ms, which spends five requeues within 155 ms (5+10+20+40+80), shorter than any API-server
 * hiccup; from 1 s they span 1+2+4+8+16 = 31 s, long enough to ride out an API-server restart or an
 * owner object arriving late, short enough to drop a truly broken key within a minute.
 */
export const RETRY_BASE_DELAY_MS = 1_000;

/** Cap on a key's retry delay: 1000 s as in client-go, so a key failing for hours is still retried every ~17 min. */
export const RETRY_MAX_DELAY_MS = 1_000_000;

/** Overall retry rate: 10 qps as in client-go, so a mass failure cannot hammer the API server. */
export const BUCKET_QPS = 10;

/** Overall retry burst: 100 as in client-go, so a handful of failing keys retry without queueing on each other. */
export const BUCKET_BURST = 100;

/** How often the unfinished-work and longest-running-processor gauges are refreshed: 500 ms as in client-go. */
export const UNFINISHED_WORK_UPDATE_PERIOD_MS = 500;
