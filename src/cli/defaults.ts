/** Every tunable default of the command itself, with its value and the reason for it. */

/**
 * Once main has finished, the process ends by itself when its last handles close, which lets pino's
 * asynchronous destination write the last lines. A handle that should have closed (a socket, a timer)
 * must not keep a stopped operator alive: 2 s after main it exits anyway. Long next to the flush of a
 * few log lines; short next to the pod's terminationGracePeriodSeconds (60 s), which also covers the
 * drain (--graceful-shutdown-timeout, 30 s) and the Lease release.
 */
export const EXIT_GRACE_MS = 2_000;
