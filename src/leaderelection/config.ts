import { JITTER_FACTOR, LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS } from './defaults.ts';

/** The three timings of an election, in milliseconds. */
export interface LeaderElectionTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_TIMINGS: Readonly<LeaderElectionTimings> = Object.freeze({
  leaseDurationMs: LEASE_DURATION_MS,
  renewDeadlineMs: RENEW_DEADLINE_MS,
  retryPeriodMs: RETRY_PERIOD_MS,
});

export class LeaderElectionConfigError extends Error {
  override name = 'LeaderElectionConfigError';
}

/**
 * Fills in defaults and checks client-go's rules: every timing positive, and
 * leaseDuration > renewDeadline > 1.2 × retryPeriod, so that a leader that cannot renew stops leading
 * before anyone else may take the Lease, and a renewal series has room for more than one attempt.
 * The Lease stores whole seconds (and the API server rejects 0), so the lease duration must be >= 1 s.
 */
export function resolveTimings(timings: Partial<LeaderElectionTimings> = {}): LeaderElectionTimings {
  const t: LeaderElectionTimings = {
    leaseDurationMs: timings.leaseDurationMs ?? DEFAULT_TIMINGS.leaseDurationMs,
    renewDeadlineMs: timings.renewDeadlineMs ?? DEFAULT_TIMINGS.renewDeadlineMs,
    retryPeriodMs: timings.retryPeriodMs ?? DEFAULT_TIMINGS.retryPeriodMs,
  };
  for (const [key, value] of Object.entries(t)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new LeaderElectionConfigError(`${key} must be a positive number of milliseconds, got ${value}`);
    }
  }
  const { leaseDurationMs: lease, renewDeadlineMs: renew, retryPeriodMs: retry } = t;
  if (lease < 1000) {
    throw new LeaderElectionConfigError(
      `leaseDurationMs (${lease}) must be at least 1000: the Lease records whole seconds`,
    );
  }
  if (lease <= renew) {
    throw new LeaderElectionConfigError(
      `leaseDurationMs (${lease}) must be greater than renewDeadlineMs (${renew})`,
    );
  }
  if (renew <= JITTER_FACTOR * retry) {
    throw new LeaderElectionConfigError(
      `renewDeadlineMs (${renew}) must be greater than ${JITTER_FACTOR} × retryPeriodMs (${retry}) = ${JITTER_FACTOR * retry}`,
    );
  }
  return t;
}

/** Validates an identity: it is what the Lease records, and an empty holder means "released". */
export function validateIdentity(identity: string): string {
  if (identity.trim() === '') throw new LeaderElectionConfigError('identity must not be empty');
  return identity;
}
