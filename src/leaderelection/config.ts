import {
  JITTER_FACTOR,
  LEASE_DURATION_MS,
  MIN_LEASE_DURATION_MS,
  RENEW_DEADLINE_MS,
  RETRY_PERIOD_MS,
} from './defaults.ts';

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

/** How a message names a timing and writes a duration: option names and ms here, flags and "900ms" there. */
export interface TimingNames {
  name: (key: keyof LeaderElectionTimings) => string;
  duration: (ms: number) => string;
}

const OPTION_NAMES: TimingNames = { name: (key) => key, duration: (ms) => String(ms) };

/**
 * Checks client-go's rules (tools/leaderelection NewLeaderElector): every timing positive, and
 * leaseDuration > renewDeadline > JitterFactor (1.2) × retryPeriod, so that a leader that cannot renew
 * stops leading before anyone else may take the Lease, and a renewal series has room for more than
 * one attempt; and, since the Lease records whole seconds, leaseDuration >= 1 s. The one place these
 * rules live: the command line checks them through here with `names` for its flags.
 * @throws LeaderElectionConfigError naming the first rule broken and the values.
 */
export function validateTimings(t: LeaderElectionTimings, names: TimingNames = OPTION_NAMES): void {
  const { name, duration } = names;
  for (const key of ['leaseDurationMs', 'renewDeadlineMs', 'retryPeriodMs'] as const) {
    const value = t[key];
    if (!Number.isFinite(value) || value <= 0) {
      throw new LeaderElectionConfigError(`${name(key)} must be a positive duration, got ${duration(value)}`);
    }
  }
  const timing = (key: keyof LeaderElectionTimings): string => `${name(key)} (${duration(t[key])})`;
  if (t.leaseDurationMs < MIN_LEASE_DURATION_MS) {
    throw new LeaderElectionConfigError(
      `${timing('leaseDurationMs')} must be at least ${duration(MIN_LEASE_DURATION_MS)}: the Lease records whole seconds`,
    );
  }
  if (t.leaseDurationMs <= t.renewDeadlineMs) {
    throw new LeaderElectionConfigError(
      `${timing('leaseDurationMs')} must be greater than ${timing('renewDeadlineMs')}`,
    );
  }
  if (t.renewDeadlineMs <= JITTER_FACTOR * t.retryPeriodMs) {
    throw new LeaderElectionConfigError(
      `${timing('renewDeadlineMs')} must be greater than ${JITTER_FACTOR} x ${timing('retryPeriodMs')}`,
    );
  }
}

/** Fills in the defaults of what is missing, then validateTimings. */
export function resolveTimings(timings: Partial<LeaderElectionTimings> = {}): LeaderElectionTimings {
  const t: LeaderElectionTimings = {
    leaseDurationMs: timings.leaseDurationMs ?? DEFAULT_TIMINGS.leaseDurationMs,
    renewDeadlineMs: timings.renewDeadlineMs ?? DEFAULT_TIMINGS.renewDeadlineMs,
    retryPeriodMs: timings.retryPeriodMs ?? DEFAULT_TIMINGS.retryPeriodMs,
  };
  validateTimings(t);
  return t;
}

/** Validates an identity: it is what the Lease records, and an empty holder means "released". */
export function validateIdentity(identity: string): string {
  if (identity.trim() === '') throw new LeaderElectionConfigError('identity must not be empty');
  return identity;
}
