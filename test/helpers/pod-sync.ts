// The operator's pod sync controller run in the test process against a cluster, and what it reported,
// read back from its log lines: the view that tests compare with the API server's.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { HttpRestClient, type RestClient } from '../../src/client/index.ts';
import { PodSyncController } from '../../src/controllers/pod-sync/index.ts';
import { DiscoveryClient, DynamicRESTMapper } from '../../src/discovery/index.ts';
import { SharedInformerFactory } from '../../src/informers/index.ts';
import { Manager } from '../../src/manager/index.ts';
import { defaultControllerRateLimiter } from '../../src/queue/index.ts';
import { captureLogs, eventually, metricSum, type LogLine } from '../../src/testing/index.ts';
import { restConfigOf } from './cluster.ts';

export interface RunningPodSync {
  lines: LogLine[];
  podSync: PodSyncController;
  /** A metric's value, summed over the series whose labels match. */
  metric: (name: string, labels?: Record<string, string>) => Promise<number>;
  stop(): Promise<void>;
}

/** Starts informers and the pod sync controller as main.ts does, and waits for the caches to sync. */
export async function runPodSync(
  kc: KubeConfig,
  options: {
    namespace?: string;
    retryBaseDelayMs?: number;
    /** Wraps the informers' client, e.g. to delay some watches. */
    wrap?: (client: RestClient) => RestClient;
    logLevel?: string;
  } = {},
): Promise<RunningPodSync> {
  const client = HttpRestClient.fromConfig(restConfigOf(kc));
  const registry = new Registry();
  const { logger, lines } = captureLogs(options.logLevel ?? 'info');
  const factory = new SharedInformerFactory({
    client: options.wrap ? options.wrap(client) : client,
    logger,
    registry,
  });
  const scope = options.namespace ? { namespace: options.namespace } : {};
  const podSync = new PodSyncController({
    factory,
    restMapper: new DynamicRESTMapper({ discovery: new DiscoveryClient(client) }),
    ...scope,
    logger,
    registry,
    rateLimiter: defaultControllerRateLimiter({ retryBaseDelayMs: options.retryBaseDelayMs ?? 100 }),
  });
  const stop = new AbortController();
  const running = managed(factory, podSync, { logger, registry }, stop.signal);
  await eventually(
    async () => Promise.resolve(lines.some((l) => l.msg === 'caches synced, starting workers')),
    30_000,
  );
  return {
    lines,
    podSync,
    metric: async (name, labels = {}) => metricSum(await registry.metrics(), name, labels),
    async stop() {
      stop.abort();
      await running;
      await client.close();
    },
  };
}

/**
 * Runs the informers and the pod sync controller under a Manager, as main.ts does: the workers start
 * once the caches have synced. Resolves once all has stopped after `signal`, with the manager's failure.
 */
export function managed(
  factory: SharedInformerFactory,
  podSync: PodSyncController,
  options: { logger: Logger; registry: Registry },
  signal: AbortSignal,
): Promise<Error | undefined> {
  const mgr = new Manager({ name: 'pod sync', ...options });
  mgr.addCache(factory);
  mgr.add(podSync);
  return mgr.start(signal);
}

/** One pod's story as the controller logged it, by uid. */
export interface PodReport {
  uid: string;
  key: string;
  events: LogLine[];
  /** The last reported state: phase, readiness, node and workload at the latest transition. */
  last: LogLine;
  /** A `deleted` line, or a `recreated` line naming this uid as the old one. */
  gone: boolean;
  everReady: boolean;
}

// workload_changed: a pod's top-level workload resolved or changed after it was first reported.
const TRANSITION = new Set([
  'added',
  'phase_changed',
  'ready',
  'unready',
  'container_restarted',
  'workload_changed',
]);

/** Every pod the controller reported, by uid, from its transition lines. */
export function reportsByUid(lines: readonly LogLine[]): Map<string, PodReport> {
  const reports = new Map<string, PodReport>();
  const of = (uid: string, key: string, line: LogLine): PodReport => {
    let report = reports.get(uid);
    if (!report) {
      report = { uid, key, events: [], last: line, gone: false, everReady: false };
      reports.set(uid, report);
    }
    return report;
  };
  for (const line of lines) {
    if (typeof line.event !== 'string' || typeof line.key !== 'string') continue;
    const key = line.key;
    if (line.event === 'deleted') {
      const report = of(String(line.lastSeenUid), key, line);
      report.events.push(line);
      report.gone = true;
      continue;
    }
    if (line.event === 'recreated') {
      const old = of(String(line.oldUid), key, line);
      old.events.push(line);
      old.gone = true;
      continue;
    }
    if (!TRANSITION.has(line.event)) continue;
    const report = of(String(line.uid), key, line);
    report.events.push(line);
    report.last = line;
    if (line.ready === true) report.everReady = true;
  }
  return reports;
}

/** The newest report under a key (namespace/name): what the controller believes is there now. */
export function latestByKey(lines: readonly LogLine[]): Map<string, LogLine> {
  const latest = new Map<string, LogLine>();
  for (const line of lines) {
    if (typeof line.event !== 'string' || typeof line.key !== 'string') continue;
    if (line.event === 'recreated') continue;
    latest.set(line.key, line);
  }
  return latest;
}
