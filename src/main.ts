#!/usr/bin/env node
// The composition root: what runs. The manager (src/manager) starts it in order and stops it in reverse;
// src/cli parses the command line, handles signals and maps the outcome to the exit code.
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { runCommand } from './cli/index.ts';
import { HttpRestClient } from './client/index.ts';
import { loadRestConfig } from './clientcmd/index.ts';
import { leaseNamespace, type Settings } from './config/index.ts';
import { PodSyncController } from './controllers/pod-sync/index.ts';
import { DiscoveryClient, DynamicRESTMapper } from './discovery/index.ts';
import { SharedInformerFactory } from './informers/index.ts';
import { leaseElection } from './leaderelection/index.ts';
import { Manager } from './manager/index.ts';
import { processHeapBudget } from './memory/index.ts';
import { defaultControllerRateLimiter } from './queue/index.ts';
import { healthProbeServer, metricsServer } from './server/index.ts';
import { VERSION } from './version.ts';

async function run(s: Settings, log: Logger, shutdown: AbortSignal): Promise<Error | undefined> {
  const { config, source, warnings } = loadRestConfig(s);
  for (const warning of warnings) log.warn(warning);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const rateLimit = { qps: s.kubeApiQps, burst: s.kubeApiBurst };
  const client = HttpRestClient.fromConfig(config, { registry, logger: log, rateLimit });
  const mgr = new Manager({
    name: 'pod-sync-operator',
    startFields: {
      version: VERSION,
      kubeconfig: source,
      server: config.host,
      namespace: s.namespace || '(all)',
    },
    leaderElection: s.leaderElect
      ? leaseElection({ ...s, client, namespace: leaseNamespace(s, process.env), name: s.leaderElectionId })
      : undefined,
    cacheSyncTimeoutMs: s.cacheSyncTimeoutMs,
    client,
    logger: log,
    registry,
  });
  const { metricsBindAddress: bindAddress, metricsSecure: secure, metricsCertDir: certDir } = s;
  mgr.addServer(metricsServer({ bindAddress, secure, certDir, registry, client, logger: log }));
  mgr.addServer(healthProbeServer(s.healthProbeBindAddress, { caches: () => mgr.cachesSynced() }));
  // Caches run on every replica, as controller-runtime's do, so a standby takes over warm.
  const factory = new SharedInformerFactory({
    client,
    logger: log,
    registry,
    defaultResyncPeriodMs: s.resyncPeriodMs,
    namespace: s.namespace,
  });
  mgr.addCache(factory);
  const podSync = new PodSyncController({
    factory,
    restMapper: new DynamicRESTMapper({ discovery: new DiscoveryClient(client), logger: log }),
    ownerResources: s.ownerResources,
    namespace: s.namespace,
    labelSelector: s.labelSelector,
    workers: s.workers,
    maxRequeues: s.maxRequeues,
    rateLimiter: defaultControllerRateLimiter(s), // --retry-base-delay, --retry-max-delay
    gracefulShutdownTimeoutMs: s.gracefulShutdownTimeoutMs,
    leaderGate: mgr.leaderGate,
    logger: log,
    registry,
  });
  mgr.add(podSync);
  const cachedPods = () => podSync.pods.store.size;
  mgr.add(processHeapBudget({ cachedPods, hasSynced: () => podSync.hasSynced(), logger: log, registry }));
  return mgr.start(shutdown);
}

await runCommand(run);
