// Leader election defaults in one place. The timings are client-go's "core clients" defaults, which
// controller-runtime and kube-controller-manager also use, so our operator fails over like theirs.

/**
 * How long a candidate waits, after it last saw the Lease change, before it may take the Lease from
 * its holder: 15 s. Longer means slower failover; shorter means less tolerance for a slow API server.
 */
export const LEASE_DURATION_MS = 15_000;

/**
 * How long the leader keeps retrying a renewal before it gives up leadership: 10 s. It must stay
 * below the lease duration so that the leader has stopped before anyone else may take over.
 */
export const RENEW_DEADLINE_MS = 10_000;

/** How long candidates wait between attempts to acquire or renew: 2 s. */
export const RETRY_PERIOD_MS = 2_000;

/**
 * The shortest lease duration accepted: 1 s. The Lease records leaseDurationSeconds in whole seconds,
 * and the API server rejects 0 ("must be greater than 0": kubernetes pkg/apis/coordination/validation
 * ValidateLeaseSpec). client-go's own rules (tools/leaderelection NewLeaderElector) come on top:
 * leaseDuration > renewDeadline > JITTER_FACTOR × retryPeriod, all positive (validateTimings).
 */
export const MIN_LEASE_DURATION_MS = 1_000;

/**
 * client-go's JitterFactor: an acquire attempt waits retryPeriod × (1 + random × 1.2), i.e. 2 to
 * 4.4 s by default, so that candidates started together do not keep colliding.
 */
export const JITTER_FACTOR = 1.2;

/** Lower bound of the per-request timeout, max(1 s, renewDeadline / 2): controller-runtime's choice. */
export const MIN_REQUEST_TIMEOUT_MS = 1_000;

/** leaseDurationSeconds written on release: 1 s, so other candidates take over at their next attempt. */
export const RELEASED_LEASE_DURATION_SECONDS = 1;

/** Conflicting release updates are retried from a fresh read this many times in all, as client-go retries. */
export const RELEASE_ATTEMPTS = 3;

/** Per-request timeout for a renew deadline: half of it, but at least 1 s (controller-runtime). */
export function requestTimeoutFor(renewDeadlineMs: number): number {
  return Math.max(MIN_REQUEST_TIMEOUT_MS, renewDeadlineMs / 2);
}
