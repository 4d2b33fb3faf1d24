/** The pod sync controller's defaults, with their values and the reasons for them. */

/**
 * The owner kinds whose objects may be watched (as metadata) to walk a pod's controller chain: the
 * built-in workload kinds, so that Deployment, CronJob, StatefulSet, DaemonSet, ReplicationController
 * and a custom resource that controls one of them are found. deploy/rbac's ClusterRole grants exactly
 * these; a custom kind needs both the flag and a grant. Informers start only for kinds met.
 */
export const OWNER_RESOURCES: readonly string[] = Object.freeze([
  'replicasets.apps',
  'deployments.apps',
  'statefulsets.apps',
  'daemonsets.apps',
  'jobs.batch',
  'cronjobs.batch',
  'replicationcontrollers',
]);

/**
 * After a kind is found not served (or discovery fails), it is looked up again after 5 s, doubling to
 * 5 min: a CRD created later is found without a pod event, and a bogus kind costs little.
 */
export const KIND_RETRY_INITIAL_MS = 5_000;
export const KIND_RETRY_MAX_MS = 300_000;

/** Owner-reference cycles warned about are remembered up to this many, so each is warned about once. */
export const MAX_REMEMBERED_CYCLES = 1_000;

/**
 * Distinct strings the owner view shares between cached owners (namespaces, controllers' kinds, names
 * and uids) before its table starts over: 4,096 covers the controllers of a large cluster's owners.
 */
export const INTERNED_STRINGS = 4_096;
