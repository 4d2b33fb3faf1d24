import type { LeaderElectionTimings } from './config.ts';
import { leaderElectionIdentity } from './identity.ts';
import type { LeaderElectorOptions } from './leader-elector.ts';
import { LeaseLock } from './lease-lock.ts';
import { RestLeaseClient, type LeaseRestClient } from './rest-lease-client.ts';

/** An election on a Lease, what --leader-elect and the --leader-election-* flags describe. */
export interface LeaseElectionConfig extends LeaderElectionTimings {
  /** The client every Lease call goes through: the operator's own, same pool and credentials. */
  client: LeaseRestClient;
  namespace: string;
  name: string;
  /** What this candidate writes as holderIdentity; leaderElectionIdentity() by default. */
  identity?: string;
}

/**
 * The elector's lock and timings for a Lease namespace/name, as controller-runtime's manager builds
 * them from its LeaderElection* options (pkg/leaderelection NewResourceLock): the manager's
 * `leaderElection` option.
 */
export function leaseElection(
  config: LeaseElectionConfig,
): Pick<LeaderElectorOptions, 'lock' | keyof LeaderElectionTimings> {
  const { client, namespace, name, leaseDurationMs, renewDeadlineMs, retryPeriodMs } = config;
  const identity = config.identity ?? leaderElectionIdentity();
  const lock = new LeaseLock({ client: new RestLeaseClient(client), namespace, name, identity });
  return { lock, leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}
