#!/usr/bin/env node
// The composition root: what runs, in the order the manager (src/manager) starts it.
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { HttpRestClient } from './client/index.ts';
import { realClock } from './clock/index.ts';
import { KubeconfigError, loadRestConfig } from './clientcmd/index.ts';
import { parseCommandLine, usage, UsageError, leaseNamespace, type Settings } from './config/index.ts';
import { PodSyncController } from './controllers/pod-sync/index.ts';
import { DiscoveryClient, DynamicRESTMapper } from './discovery/index.ts';
import { SharedInformerFactory } from './informers/index.ts';
import { LeaseLock, leaderElectionIdentity, RestLeaseClient } from './leaderelection/index.ts';
import { createLogger } from './logging/index.ts';
import { Manager } from './manager/index.ts';
import { HeapBudget, v8HeapSource } from './memory/index.ts';
import { defaultControllerRateLimiter } from './queue/index.ts';
import { healthHandler, listen, serveMetrics } from './server/index.ts';
import { handleShutdownSignals } from './signals.ts';
import { VERSION } from './version.ts';

/**
 * Exit codes: 0 clean shutdown, 1 runtime failure (cache sync timeout, leadership lost, heap exhausted),
 * 2 bad input (flags, kubeconfig).
 */
async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`pod-sync-operator: ${err.message} (see --help)\n`);
    return 2;
  }
  if (parsed.action === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (parsed.action === 'version') {
    process.stdout.write(`pod-sync-operator ${VERSION}\n`);
    return 0;
  }
  const { settings } = parsed;
  const log = createLogger({ level: settings.logLevel, format: settings.logFormat });
  try {
    // A failure the manager stopped on is logged where it was seen.
    return (await run(settings, log)) ? 1 : 0;
  } catch (err) {
    log.error({ err }, 'start-up failed');
    return err instanceof UsageError || err instanceof KubeconfigError ? 2 : 1;
  }
}

async function run(s: Settings, log: Logger): Promise<Error | undefined> {
  const { kubeconfig, master, serviceAccountDir } = s;
  const { config, source, warnings } = loadRestConfig({ kubeconfig, master, serviceAccountDir });
  for (const warning of warnings) log.warn(warning);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const rateLimit = { qps: s.kubeApiQps, burst: s.kubeApiBurst };
  const client = HttpRestClient.fromConfig(config, { registry, logger: log, rateLimit });
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = s;
  const mgr = new Manager({
    name: 'pod-sync-operator',
    startFields: {
      version: VERSION,
      kubeconfig: source,
      server: config.host,
      namespace: s.namespace || '(all)',
    },
    leaderElection: s.leaderElect
      ? {
          lock: new LeaseLock({
            client: new RestLeaseClient(client),
            namespace: leaseNamespace(s, process.env),
            name: s.leaderElectionId,
            identity: leaderElectionIdentity(),
          }),
          leaseDurationMs,
          renewDeadlineMs,
          retryPeriodMs,
        }
      : undefined,
    cacheSyncTimeoutMs: s.cacheSyncTimeoutMs,
    logger: log,
    registry,
  });
  const factory = new SharedInformerFactory({
    client,
    logger: log,
    registry,
    defaultResyncPeriodMs: s.resyncPeriodMs,
    namespace: s.namespace,
  });
  const podSync = new PodSyncController({
    factory,
    restMapper: new DynamicRESTMapper({ discovery: new DiscoveryClient(client), logger: log }),
    ownerResources: s.ownerResources,
    namespace: s.namespace,
    labelSelector: s.labelSelector,
    workers: s.workers,
    maxRequeues: s.maxRequeues,
    rateLimiter: defaultControllerRateLimiter({
      retryBaseDelayMs: s.retryBaseDelayMs,
      retryMaxDelayMs: s.retryMaxDelayMs,
    }),
    gracefulShutdownTimeoutMs: s.gracefulShutdownTimeoutMs,
    leaderGate: mgr.leaderGate,
    logger: log,
    registry,
  });

  if (s.metricsBindAddress !== '0') {
    const { metricsBindAddress: bindAddress, metricsSecure: secure, metricsCertDir: certDir } = s;
    mgr.addServer(() =>
      serveMetrics({ bindAddress, secure, certDir, registry, client, clock: realClock, logger: log }),
    );
  }
  if (s.healthProbeBindAddress !== '0') {
    const probes = healthHandler({ caches: () => mgr.cachesSynced() });
    mgr.addServer(() => listen('health probe server', s.healthProbeBindAddress, probes));
  }
  // Says when the pods cached outgrow the heap, before V8 aborts (src/memory, docs/sizing.md); the
  // cause is logged (fatal), and a drain could need the heap there is no more of: exit at once.
  mgr.add(
    new HeapBudget({
      source: v8HeapSource(),
      cachedPods: () => podSync.pods.store.size,
      hasSynced: () => podSync.hasSynced(),
      logger: log,
      registry,
      onExhausted: () => process.exit(1),
    }),
  );
  // Caches run on every replica, as controller-runtime's do, so a standby takes over warm.
  mgr.addCache(factory);
  mgr.add(podSync);

  const shutdown = new AbortController();
  handleShutdownSignals(shutdown, log);
  try {
    return await mgr.start(shutdown.signal);
  } finally {
    await client.close();
    log.info('stopped');
  }
}

process.exitCode = await main();
// Ending by itself lets pino's last lines out; a handle that should have closed must not keep us alive.
setTimeout(() => process.exit(), 2_000).unref();
