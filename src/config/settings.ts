import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../logging/index.ts';
import { KUBE_API_BURST, KUBE_API_QPS } from '../client/index.ts';
import { DEFAULT_SERVICE_ACCOUNT_DIR } from '../clientcmd/index.ts';
import { GRACEFUL_SHUTDOWN_TIMEOUT_MS, MAX_REQUEUES, WORKERS } from '../controllers/index.ts';
import { OWNER_RESOURCES, GROUP_RESOURCE_PATTERN } from '../controllers/pod-sync/index.ts';
import { RESYNC_PERIOD_MS } from '../informers/index.ts';
import { LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS } from '../leaderelection/index.ts';
import { CACHE_SYNC_TIMEOUT_MS } from '../manager/index.ts';
import { RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS } from '../queue/index.ts';

/** Everything the operator can be told, after flags and environment are parsed and checked. */
export interface Settings {
  kubeconfig: string;
  master: string;
  serviceAccountDir: string;
  namespace: string;
  labelSelector: string;
  ownerResources: readonly string[];
  workers: number;
  maxRequeues: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  resyncPeriodMs: number;
  cacheSyncTimeoutMs: number;
  metricsBindAddress: string;
  metricsSecure: boolean;
  metricsCertDir: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionId: string;
  leaderElectionNamespace: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  gracefulShutdownTimeoutMs: number;
  kubeApiQps: number;
  kubeApiBurst: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export type FlagKind = 'string' | 'int' | 'number' | 'duration' | 'bool' | 'address' | 'enum' | 'list';

export interface FlagSpec {
  flag: string;
  key: keyof Settings;
  kind: FlagKind;
  default: Settings[keyof Settings];
  help: string;
  /** Environment variable read when the flag is absent. */
  env?: string;
  /** Smallest accepted value for int, number and duration. */
  min?: number;
  values?: readonly string[];
  /** For a list: what each comma-separated item must match, and how to say it. */
  item?: { pattern: RegExp; description: string };
  /**
   * A former name, still accepted with a one-line warning and left out of --help, as pflag's
   * MarkDeprecated does for kube components' renamed flags; `env` is its environment twin.
   */
  deprecated?: { flag: string; env: string };
}

function spec({ env, ...rest }: Omit<FlagSpec, 'env'> & { env?: string | false }): FlagSpec {
  if (env === false) return rest;
  return { ...rest, env: env ?? `POD_SYNC_${rest.flag.toUpperCase().replaceAll('-', '_')}` };
}

/**
 * Every setting and its default. A default owned by a component (workers, requeues, retry delays,
 * resync, cache-sync and drain bounds, lease timings, request rate) comes from that component's
 * defaults.ts, where its value is explained; the rest (addresses, names, formats) are here.
 * Names follow controller-runtime and kubebuilder where they have one. Each flag has an environment
 * twin POD_SYNC_<FLAG> unless noted.
 */
export const FLAGS: readonly FlagSpec[] = [
  spec({
    flag: 'kubeconfig',
    key: 'kubeconfig',
    kind: 'string',
    default: '',
    env: false,
    help: "the only kubeconfig file read; default: $KUBECONFIG's files merged, else in-cluster, else ~/.kube/config",
  }),
  spec({
    flag: 'master',
    key: 'master',
    kind: 'string',
    default: '',
    help: 'API server URL, overriding the configured one (an http:// URL gets no credentials)',
  }),
  spec({
    flag: 'service-account-dir',
    key: 'serviceAccountDir',
    kind: 'string',
    default: DEFAULT_SERVICE_ACCOUNT_DIR,
    help: 'where the in-cluster token, ca.crt and namespace files are',
  }),
  spec({
    flag: 'namespace',
    key: 'namespace',
    kind: 'string',
    default: '',
    help: 'watch pods in this namespace only; default: all namespaces',
  }),
  spec({
    flag: 'label-selector',
    key: 'labelSelector',
    kind: 'string',
    default: '',
    help: 'watch only pods matching this label selector',
  }),
  spec({
    flag: 'owner-resources',
    key: 'ownerResources',
    kind: 'list',
    default: OWNER_RESOURCES,
    item: {
      pattern: GROUP_RESOURCE_PATTERN,
      description: 'group-qualified resources such as replicasets.apps',
    },
    help: "owner kinds whose objects may be watched (metadata only) to find a pod's top-level controller; other kinds are a top, not looked up",
  }),
  spec({
    flag: 'workers',
    key: 'workers',
    kind: 'int',
    default: WORKERS,
    min: 1,
    help: 'concurrent pod syncs',
  }),
  // client-go's workqueue counts requeues (NumRequeues); --max-retries was this flag's first name.
  spec({
    flag: 'max-requeues',
    key: 'maxRequeues',
    kind: 'int',
    default: MAX_REQUEUES,
    min: 0,
    help: 'requeues of a failing key before it is dropped (client-go example: 5)',
    deprecated: { flag: 'max-retries', env: 'POD_SYNC_MAX_RETRIES' },
  }),
  spec({
    flag: 'retry-base-delay',
    key: 'retryBaseDelayMs',
    kind: 'duration',
    default: RETRY_BASE_DELAY_MS,
    min: 1,
    help: 'first retry delay of a failed key, doubled per failure (client-go: 5ms, five requeues spent in 155ms)',
  }),
  spec({
    flag: 'retry-max-delay',
    key: 'retryMaxDelayMs',
    kind: 'duration',
    default: RETRY_MAX_DELAY_MS,
    min: 1,
    help: 'cap on the retry delay (client-go: 1000s)',
  }),
  spec({
    flag: 'resync-period',
    key: 'resyncPeriodMs',
    kind: 'duration',
    default: RESYNC_PERIOD_MS,
    min: 0,
    help: 're-sync every cached pod this often, without API calls; 0 disables',
  }),
  spec({
    flag: 'cache-sync-timeout',
    key: 'cacheSyncTimeoutMs',
    kind: 'duration',
    default: CACHE_SYNC_TIMEOUT_MS,
    min: 1,
    help: 'give up (exit 1) when the caches have not synced within this (controller-runtime: 2m)',
  }),
  spec({
    flag: 'metrics-bind-address',
    key: 'metricsBindAddress',
    kind: 'address',
    default: ':8080',
    help: 'address of /metrics; "0" disables it',
  }),
  // kubebuilder's scaffold: false for local runs, true in the deploy manifests.
  spec({
    flag: 'metrics-secure',
    key: 'metricsSecure',
    kind: 'bool',
    default: false,
    help: 'serve /metrics over HTTPS, only to callers the API server allows get /metrics (the deploy manifests turn it on)',
  }),
  spec({
    flag: 'metrics-cert-dir',
    key: 'metricsCertDir',
    kind: 'string',
    default: '',
    help: 'where tls.crt and tls.key for --metrics-secure are, reloaded on change; default: a self-signed pair made at start',
  }),
  spec({
    flag: 'health-probe-bind-address',
    key: 'healthProbeBindAddress',
    kind: 'address',
    default: ':8081',
    help: 'address of /healthz and /readyz; "0" disables them',
  }),
  spec({
    flag: 'leader-elect',
    key: 'leaderElect',
    kind: 'bool',
    default: false,
    help: 'hold a Lease so that one replica works at a time (the deploy manifests turn it on)',
  }),
  spec({
    flag: 'leader-election-id',
    key: 'leaderElectionId',
    kind: 'string',
    default: 'pod-sync-operator',
    help: 'name of the Lease',
  }),
  spec({
    flag: 'leader-election-namespace',
    key: 'leaderElectionNamespace',
    kind: 'string',
    default: '',
    help: "namespace of the Lease; default: the pod's namespace (service-account namespace file, then $POD_NAMESPACE)",
  }),
  spec({
    flag: 'leader-election-lease-duration',
    key: 'leaseDurationMs',
    kind: 'duration',
    default: LEASE_DURATION_MS,
    min: 1,
    help: 'how long a candidate waits after the last observed renewal before taking the lease (client-go: 15s)',
  }),
  spec({
    flag: 'leader-election-renew-deadline',
    key: 'renewDeadlineMs',
    kind: 'duration',
    default: RENEW_DEADLINE_MS,
    min: 1,
    help: 'how long the leader keeps retrying a renewal before it gives up leading (client-go: 10s)',
  }),
  spec({
    flag: 'leader-election-retry-period',
    key: 'retryPeriodMs',
    kind: 'duration',
    default: RETRY_PERIOD_MS,
    min: 1,
    help: 'interval between acquire and renew attempts (client-go: 2s)',
  }),
  spec({
    flag: 'graceful-shutdown-timeout',
    key: 'gracefulShutdownTimeoutMs',
    kind: 'duration',
    default: GRACEFUL_SHUTDOWN_TIMEOUT_MS,
    min: 0,
    help: 'how long in-flight syncs may drain on SIGTERM (controller-runtime: 30s)',
  }),
  spec({
    flag: 'kube-api-qps',
    key: 'kubeApiQps',
    kind: 'number',
    default: KUBE_API_QPS,
    min: 0.001,
    help: 'client-side request rate limit to the API server (client-go: 5)',
  }),
  spec({
    flag: 'kube-api-burst',
    key: 'kubeApiBurst',
    kind: 'int',
    default: KUBE_API_BURST,
    min: 1,
    help: 'client-side request burst (client-go: 10)',
  }),
  spec({
    flag: 'log-level',
    key: 'logLevel',
    kind: 'enum',
    default: 'info',
    values: LOG_LEVELS,
    help: 'least severe level logged',
  }),
  spec({
    flag: 'log-format',
    key: 'logFormat',
    kind: 'enum',
    default: 'auto',
    values: LOG_FORMATS,
    help: 'auto (pretty when stdout is a terminal, else json), json (one object per line) or pretty',
  }),
];
