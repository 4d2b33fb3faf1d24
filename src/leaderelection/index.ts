export { DeadlineExceededError } from '../clock/abort.ts';
export {
  DEFAULT_TIMINGS,
  LeaderElectionConfigError,
  resolveTimings,
  type LeaderElectionTimings,
} from './config.ts';
export * as leaderElectionDefaults from './defaults.ts';
export { leaderElectionIdentity, type IdentitySources } from './identity.ts';
export {
  LeaderElectionLostError,
  LeaderElector,
  type LeaderCallbacks,
  type LeaderElectionResult,
  type LeaderElectorOptions,
  type StopReason,
} from './leader-elector.ts';
export { type Lease, type LeaseClient, type LeaseMetadata, type LeaseSpec } from './lease-client.ts';
export { LeaseLock, type LeaderElectionLock, type LeaseLockOptions } from './lease-lock.ts';
export { RestLeaseClient, type LeaseRestClient } from './rest-lease-client.ts';
export { LEADER_ELECTION_METRICS, leaderElectionMetrics, type LeaderElectionMetricSet } from './metrics.ts';
export { formatMicroTime, type LeaderElectionRecord } from './record.ts';
