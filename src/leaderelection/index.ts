export { JITTER_FACTOR, LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS } from './defaults.ts';
export { leaderElectionIdentity } from './identity.ts';
export { type LeaderElectionResult, LeaderElector, type StopReason } from './leader-elector.ts';
export type { Lease, LeaseClient } from './lease-client.ts';
export { LeaseLock } from './lease-lock.ts';
export { RestLeaseClient } from './rest-lease-client.ts';
export { LeaderElectionConfigError, type LeaderElectionTimings, validateTimings } from './config.ts';
export { LeaderElectionLostError, type LeaderElectorOptions } from './leader-elector.ts';
export { leaseElection, type LeaseElectionConfig } from './lease-election.ts';
