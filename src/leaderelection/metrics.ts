import { Counter, Gauge, type Registry } from 'prom-client';
import { perRegistry } from '../metrics/index.ts';

/** Names and help strings of client-go's leader election metrics (as controller-runtime registers them). */
export const LEADER_ELECTION_METRICS = {
  masterStatus: {
    name: 'leader_election_master_status',
    help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease. Please make sure to group by name.",
  },
  slowpath: {
    name: 'leader_election_slowpath_total',
    help: "Total number of slow path exercised in renewing leader leases. 'name' is the string used to identify the lease. Please make sure to group by name.",
  },
  /** Ours: client-go has no metric for it. */
  transitions: {
    name: 'leader_election_lease_transitions',
    help:
      'leaseTransitions of the lease as this candidate last observed it. ' + "'name' identifies the lease.",
  },
} as const;

export interface LeaderElectionMetricSet {
  masterStatus: Gauge<'name'>;
  slowpath: Counter<'name'>;
  transitions: Gauge<'name'>;
}

function create(registers: Registry[]): LeaderElectionMetricSet {
  const m = LEADER_ELECTION_METRICS;
  return {
    masterStatus: new Gauge({ ...m.masterStatus, labelNames: ['name'], registers }),
    slowpath: new Counter({ ...m.slowpath, labelNames: ['name'], registers }),
    transitions: new Gauge({ ...m.transitions, labelNames: ['name'], registers }),
  };
}

/** The metric set of a registry, created on first use; without a registry the metrics go nowhere. */
export const leaderElectionMetrics = perRegistry(create);
