import { CoreV1Api } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { realClock } from '../../src/clock/index.ts';
import { HttpRestClient } from '../../src/client/index.ts';
import { DiscoveryClient, DynamicRESTMapper } from '../../src/discovery/index.ts';
import { apiConfiguration } from '../helpers/api-configuration.ts';
import { PodSyncController } from '../../src/controllers/pod-sync/index.ts';
import { SharedInformerFactory } from '../../src/informers/index.ts';
import { adminKubeConfig, createNamespace, podManifest, restConfigOf } from '../helpers/cluster.ts';
import { inParallel } from '../informers/helpers.ts';
import { eventually, captureLogs, metricSum } from '../../src/testing/index.ts';

const COUNT = 2_000;

describe('pod sync controller at 2,000 pods', () => {
  it('streams them in one request per informer and syncs each pod exactly once at start', async () => {
    const registry = new Registry();
    // Unthrottled: the 2,000 creates are the fixture, not the operator's traffic.
    const client = HttpRestClient.fromConfig(restConfigOf(adminKubeConfig()), {
      registry,
      rateLimit: { qps: Infinity, burst: 1 },
    });
    const core = new CoreV1Api(apiConfiguration(client.transport));
    const namespace = await createNamespace('sync-2000');
    const names = Array.from({ length: COUNT }, (_, i) => `pod-${String(i).padStart(4, '0')}`);
    await inParallel(names, 20, (name) => core.createNamespacedPod({ namespace, body: podManifest(name) }));
    const creates = metricSum(await registry.metrics(), 'rest_client_requests_total', { method: 'POST' });

    const { logger, lines } = captureLogs('info');
    const factory = new SharedInformerFactory({ client, logger, registry });
    const restMapper = new DynamicRESTMapper({ discovery: new DiscoveryClient(client) });
    const podSync = new PodSyncController({ factory, restMapper, namespace, logger, registry, workers: 2 });
    const stop = new AbortController();
    factory.start(stop.signal);
    const running = podSync.start(stop.signal);
    try {
      const success = async () =>
        metricSum(await registry.metrics(), 'controller_runtime_reconcile_total', { result: 'success' });
      await eventually(async () => (await success()) >= COUNT, 60_000);
      await realClock.sleep(1_000);

      const added = new Map<string, number>();
      for (const line of lines)
        if (line.event === 'added') added.set(String(line.key), (added.get(String(line.key)) ?? 0) + 1);
      expect(added.size).toBe(COUNT);
      expect([...added.values()].every((n) => n === 1)).toBe(true);
      expect(await success()).toBe(COUNT);
      expect(
        metricSum(await registry.metrics(), 'controller_runtime_reconcile_total', { result: 'error' }),
      ).toBe(0);
      // One watch-list for the pods, whatever their number; no pod names an owner, so there is no
      // discovery request and no owner informer.
      const gets = metricSum(await registry.metrics(), 'rest_client_requests_total', { method: 'GET' });
      expect(gets).toBe(1);
      expect(metricSum(await registry.metrics(), 'informer_lists_total', { method: 'watchlist' })).toBe(1);
      expect(creates).toBe(COUNT + 0);
    } finally {
      stop.abort();
      await running;
      await factory.shutdown();
      await client.close();
    }
  });
});
