// The heap budget's defaults in one place, each with its value and why. Sizes are bytes.

/**
 * A relist holds the pod cache twice: the reflector gathers a watch-list's objects aside and replaces
 * the store only at the initial-events-end bookmark (src/informers/reflector.ts), so the old cache and
 * the new list are live together. So is a paged fallback list.
 */
export const RELIST_FACTOR = 2;

/**
 * The projected relist peak must fit in 80 % of the old-generation limit: V8 collects more and more
 * often as the old generation nears its limit (its "Mark-Compact (reduce)" cycles), and the list's raw
 * JSON and parsed events are garbage on top of what stays cached.
 */
export const RELIST_HEADROOM = 0.8;

/**
 * Live old generation after a full GC at 90 % of its limit: the operator logs why and exits 1 rather
 * than slow to a crawl of back-to-back full GCs and be aborted by V8 ("Reached heap limit"), whose
 * message names no cause or remedy.
 */
export const EXHAUSTED_SHARE = 0.9;

/**
 * The Deployment's NODE_OPTIONS, --max-old-space-size-percentage=75: the old generation may take 75 %
 * of the container's memory limit. The rest holds V8's young generation (48 MiB at a 1 GiB limit,
 * sized by V8 from the memory), code, and Node's native memory (sockets, TLS, buffers: about 60 to 100 MiB measured).
 * Used to turn a heap size into the memory limit to ask for.
 */
export const DEPLOYED_OLD_SPACE_PERCENTAGE = 75;

/** Memory limits are recommended in whole multiples of 64 MiB. */
export const MEMORY_LIMIT_STEP = 64 * 2 ** 20;

/**
 * V8's young generation when its size is derived from the old generation's (no --max-semi-space-size):
 * three semi-spaces of old/32 each, at most 64 MiB each (measured on Node 24.21, V8 13: heap_size_limit
 * is the old-generation limit plus 48 MiB for a 488 MiB old generation, plus 192 MiB from 2 GiB up).
 */
export const YOUNG_GENERATION_MAX = 3 * 64 * 2 ** 20;
export const YOUNG_GENERATION_SHARE = 3 / 32;
