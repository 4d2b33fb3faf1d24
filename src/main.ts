#!/usr/bin/env node
// The composition root: API server -> reflector -> store -> handlers -> queue -> workers -> reconciler,
// wired here and nowhere else; every piece lives in the folder named for it.
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { HttpRestClient } from './client/index.ts';
import { realClock } from './clock/index.ts';
import { KubeconfigError, loadRestConfig } from './clientcmd/index.ts';
import { parseCommandLine, usage, UsageError, podNamespace, type Settings } from './config/index.ts';
import { PodSyncController } from './controllers/pod-sync/index.ts';
import { DiscoveryClient, DynamicRESTMapper } from './discovery/index.ts';
import { SharedInformerFactory } from './informers/index.ts';
import { LeaderElector, LeaseLock, leaderElectionIdentity, RestLeaseClient } from './leaderelection/index.ts';
import { createLogger } from './logging/index.ts';
import { HeapBudget, v8HeapSource } from './memory/index.ts';
import { defaultControllerRateLimiter } from './queue/index.ts';
import { healthHandler, listen, type ListeningServer, serveMetrics } from './server/index.ts';
import { handleShutdownSignals } from './signals.ts';
import { USER_AGENT, VERSION } from './version.ts';

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
    return await runOperator(settings, log);
  } catch (err) {
    log.error({ err: { message: (err as Error).message } }, 'start-up failed');
    return err instanceof UsageError || err instanceof KubeconfigError ? 2 : 1;
  }
}

async function runOperator(settings: Settings, log: Logger): Promise<number> {
  const {
    config: restConfig,
    source,
    warnings,
  } = loadRestConfig({
    kubeconfig: settings.kubeconfig,
    master: settings.master,
    serviceAccountDir: settings.serviceAccountDir,
  });
  for (const warning of warnings) log.warn(warning);
  const leaseNamespace = settings.leaderElect ? leaderElectionNamespace(settings) : undefined;

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const client = HttpRestClient.fromConfig(restConfig, {
    registry,
    logger: log,
    userAgent: USER_AGENT,
    rateLimit: { qps: settings.kubeApiQps, burst: settings.kubeApiBurst },
  });
  const identity = leaderElectionIdentity();
  // The elector gates every sync: a replica syncs only while its last renewal is fresh.
  const elector: LeaderElector | undefined =
    leaseNamespace === undefined
      ? undefined
      : new LeaderElector({
          lock: new LeaseLock({
            client: new RestLeaseClient(client),
            namespace: leaseNamespace,
            name: settings.leaderElectionId,
            identity,
          }),
          leaseDurationMs: settings.leaseDurationMs,
          renewDeadlineMs: settings.renewDeadlineMs,
          retryPeriodMs: settings.retryPeriodMs,
          logger: log,
          registry,
          callbacks: {
            onStartedLeading: (leading): Promise<void> => {
              log.info({ identity }, 'became the leader: starting workers');
              return podSync.run(leading);
            },
            onNewLeader: (holder) => {
              if (holder && holder !== identity) log.info({ leader: holder }, 'another replica leads');
            },
          },
        });
  const factory = new SharedInformerFactory({
    client,
    logger: log,
    registry,
    defaultResyncPeriodMs: settings.resyncPeriodMs,
    ...(settings.namespace ? { namespace: settings.namespace } : {}),
  });
  const podSync = new PodSyncController({
    factory,
    restMapper: new DynamicRESTMapper({ discovery: new DiscoveryClient(client), logger: log }),
    ownerResources: settings.ownerResources,
    ...(settings.namespace ? { namespace: settings.namespace } : {}),
    ...(settings.labelSelector ? { labelSelector: settings.labelSelector } : {}),
    workers: settings.workers,
    maxRetries: settings.maxRetries,
    rateLimiter: defaultControllerRateLimiter({
      baseDelayMs: settings.retryBaseDelayMs,
      maxDelayMs: settings.retryMaxDelayMs,
    }),
    cacheSyncTimeoutMs: settings.cacheSyncTimeoutMs,
    shutdownTimeoutMs: settings.gracefulShutdownTimeoutMs,
    ...(elector ? { leaderGate: elector } : {}),
    logger: log,
    registry,
  });

  // Says when the pods cached outgrow the heap, before V8 aborts (src/memory, README "Sizing").
  const heapBudget = new HeapBudget({
    source: v8HeapSource(),
    cachedPods: () => podSync.pods.store.size,
    logger: log,
    registry,
    // The cause is logged (fatal); a drain could need the heap there is no more of.
    onExhausted: () => process.exit(1),
  });

  const shutdown = new AbortController();
  handleShutdownSignals(shutdown, log);
  const servers: ListeningServer[] = [];
  const closeServers = () => Promise.all(servers.splice(0).map((s) => s.close()));
  // Informers outlive the workers: they stop only after the last in-flight sync has drained.
  const informers = new AbortController();
  try {
    if (settings.metricsBindAddress !== '0') {
      servers.push(
        await serveMetrics({
          bindAddress: settings.metricsBindAddress,
          secure: settings.metricsSecure,
          certDir: settings.metricsCertDir,
          registry,
          client,
          clock: realClock,
          logger: log,
        }),
      );
    }
    if (settings.healthProbeBindAddress !== '0') {
      const synced = (): true | string => {
        const pending = podSync.unsyncedCaches();
        return pending.length === 0 || `caches not synced: ${pending.join(', ')}`;
      };
      servers.push(
        await listen(
          'health probe server',
          settings.healthProbeBindAddress,
          healthHandler({ caches: synced }),
        ),
      );
    }
    log.info(
      {
        version: VERSION,
        kubeconfig: source,
        server: restConfig.host,
        namespace: settings.namespace || '(all)',
        servers: servers.map((s) => s.url),
      },
      'starting pod-sync-operator',
    );

    // Caches run on every replica, as controller-runtime's do, so a standby takes over warm.
    heapBudget.start();
    factory.start(informers.signal);
    if (!(await podSync.waitForCacheSync(shutdown.signal, settings.cacheSyncTimeoutMs))) {
      if (shutdown.signal.aborted) return 0;
      log.error(
        { timeoutMs: settings.cacheSyncTimeoutMs },
        `caches did not sync in time (${podSync.unsyncedCaches().join(', ')}): is the API server reachable, and may this identity list pods?`,
      );
      return 1;
    }
    log.info('caches synced');
    heapBudget.synced();

    if (!elector) {
      await podSync.run(shutdown.signal);
      return 0;
    }
    const result = await elector.run(shutdown.signal);
    // 'lost' was logged by the elector; controller-runtime's main exits 1 on "leader election lost".
    return result.reason === 'lost' ? 1 : 0;
  } finally {
    heapBudget.stop();
    informers.abort();
    await factory.shutdown();
    await closeServers();
    await client.close();
    log.info('stopped');
  }
}

function leaderElectionNamespace(settings: Settings): string {
  const namespace = settings.leaderElectionNamespace || podNamespace(settings.serviceAccountDir, process.env);
  if (!namespace) {
    throw new UsageError(
      '--leader-elect needs --leader-election-namespace when not running in a pod (no service-account namespace file, no $POD_NAMESPACE)',
    );
  }
  return namespace;
}

process.exitCode = await main();
// Ending by itself lets pino's last lines out; a handle that should have closed must not keep us alive.
setTimeout(() => process.exit(), 2_000).unref();
