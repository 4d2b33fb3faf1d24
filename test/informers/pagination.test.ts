import { CoreV1Api } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRestClient } from '../../src/client/index.ts';
import { apiConfiguration } from '../helpers/api-configuration.ts';
import { objectKey, PODS, SharedInformerFactory, type KubeObject } from '../../src/informers/index.ts';
import { adminKubeConfig, createNamespace, podManifest, restConfigOf } from '../helpers/cluster.ts';
import { metricSum } from '../../src/testing/index.ts';
import { collectGarbage, InstrumentedClient, inParallel } from './helpers.ts';

const PODS_COUNT = 2_000;

describe('the initial list of 2,000 pods', () => {
  const registry = new Registry();
  let rest: HttpRestClient;
  let namespace: string;

  beforeAll(async () => {
    // Unthrottled: the 2,000 creates are the fixture, not an informer's traffic.
    rest = HttpRestClient.fromConfig(restConfigOf(adminKubeConfig()), {
      registry,
      rateLimit: { qps: Infinity, burst: 1 },
    });
    const core = new CoreV1Api(apiConfiguration(rest.transport));
    namespace = await createNamespace('inf-2000');
    const names = Array.from({ length: PODS_COUNT }, (_, i) => `pod-${String(i).padStart(4, '0')}`);
    await inParallel(names, 20, (name) => core.createNamespacedPod({ namespace, body: podManifest(name) }));
  }, 300_000);
  afterAll(async () => {
    await rest.transport.destroy();
  });

  it.each([
    ['streamed in one watch-list request', true],
    ['read in pages of 500 when watch-lists are off', false],
  ])(
    'is %s and delivers every pod exactly once as an initial add',
    async (_how, watchList) => {
      const client = new InstrumentedClient(rest);
      const factory = new SharedInformerFactory({ client, namespace, reflector: { watchList } });
      const pods = factory.informerFor<KubeObject>(PODS);
      const adds = new Map<string, number>();
      let notInitial = 0;
      pods.addEventHandler({
        onAdd: (pod, initial) => {
          adds.set(objectKey(pod), (adds.get(objectKey(pod)) ?? 0) + 1);
          if (!initial) notInitial++;
        },
      });

      const collected = collectGarbage();
      const heapBefore = process.memoryUsage().heapUsed;
      const getsBefore = metricSum(await registry.metrics(), 'rest_client_requests_total', {
        method: 'GET',
        host: rest.transport.host,
      });
      const controller = new AbortController();
      factory.start(controller.signal);
      try {
        expect(await factory.waitForCacheSync(controller.signal, 60_000)).toBe(true);
        collectGarbage();
        const heapAfter = process.memoryUsage().heapUsed;
        const perPod = (heapAfter - heapBefore) / PODS_COUNT;
        console.log(
          `heap per cached pod at ${PODS_COUNT} pods: ${Math.round(perPod)} bytes ` +
            `(${collected ? 'after a full GC' : 'no GC available: raw delta'})`,
        );

        const gets =
          metricSum(await registry.metrics(), 'rest_client_requests_total', {
            method: 'GET',
            host: rest.transport.host,
          }) - getsBefore;
        if (watchList) {
          // One request: the stream that listed is the watch that goes on.
          expect([client.lists, client.streams, client.watches]).toEqual([0, 1, 1]);
          expect(gets).toBe(1);
        } else {
          expect(client.lists).toBe(PODS_COUNT / 500);
          // Each page is a GET counted by rest_client_requests_total (the watch counts once its headers arrive).
          expect(gets).toBeGreaterThanOrEqual(PODS_COUNT / 500);
        }
        expect(pods.store.size).toBe(PODS_COUNT);
        expect(adds.size).toBe(PODS_COUNT);
        expect([...adds.values()].every((n) => n === 1)).toBe(true);
        expect(notInitial).toBe(0);
        expect(perPod).toBeLessThan(10_000);
      } finally {
        controller.abort();
        await factory.shutdown();
      }
    },
    120_000,
  );
});
