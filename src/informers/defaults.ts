/** Every tunable default of the informers, with its value and the reason for it. */

/** Objects per list page: 500, client-go's pager default; 2,000 pods are four requests, none huge. */
export const LIST_PAGE_SIZE = 500;

/**
 * Watches ask the server to end after a random 300 to 600 s (client-go's [5 min, 10 min)), so the
 * watches of many clients, started together, do not all reconnect together.
 */
export const MIN_WATCH_TIMEOUT_SECONDS = 300;

/**
 * A watch silent for its timeoutSeconds plus 30 s is considered dead and reopened: the server ends a
 * healthy watch at timeoutSeconds, so only a connection that died without a FIN stays silent longer.
 */
export const WATCH_IDLE_GRACE_MS = 30_000;

/** First backoff after a failure: 800 ms, client-go's reflector value. */
export const BACKOFF_INITIAL_MS = 800;

/** Backoff cap before jitter: 30 s, client-go's reflector value. */
export const BACKOFF_MAX_MS = 30_000;

/** Each consecutive failure doubles the backoff (client-go). */
export const BACKOFF_FACTOR = 2;

/** Each delay is stretched by a random 0 to 100 % (client-go's jitter 1.0), so clients spread out. */
export const BACKOFF_JITTER = 1.0;

/** The backoff starts over after 2 min without a failure (client-go's reset duration). */
export const BACKOFF_RESET_MS = 120_000;

/**
 * A watch that ends within 1 s without one event is "very short" (client-go): reopening it at once
 * would spin, so it waits out the backoff first.
 */
export const SHORT_WATCH_MS = 1_000;

/**
 * A list whose continue token expires (410) starts over; after 3 expiries in a row it is done in one
 * unpaginated request, client-go's pager fallback, so a slow list still finishes under a busy etcd.
 */
export const MAX_EXPIRED_LIST_RESTARTS = 3;

/**
 * Every cached pod is handed to the handlers again every 10 h (--resync-period), without API calls:
 * controller-runtime's default SyncPeriod, a safety net for a missed event, rare enough to cost
 * nothing. A factory given none does not resync, as client-go's does with 0.
 */
export const RESYNC_PERIOD_MS = 36_000_000;

/** Shortest resync period: 1 s, client-go's minimum; shorter requests are raised to it. */
export const MIN_RESYNC_PERIOD_MS = 1_000;

/** waitForCacheSync checks every 100 ms, client-go's poll period. */
export const CACHE_SYNC_POLL_MS = 100;

/**
 * Lists are streamed (WatchList, KEP-3157): one watch request at any size instead of one per 500
 * objects, and no list held whole by the server. client-go's default since 1.35 (WatchListClient).
 */
export const WATCH_LIST = true;

/** The annotation of the bookmark that ends a watch-list's initial state (metav1.InitialEventsAnnotationKey). */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';
