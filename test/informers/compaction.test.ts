import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { HttpRestClient } from '../../src/client/index.ts';
import {
  isTombstone,
  objectKey,
  PODS,
  SharedInformerFactory,
  type KubeObject,
} from '../../src/informers/index.ts';
import { ownControlPlane, podManifest, restConfigOf } from '../helpers/cluster.ts';
import { cacheAndList, InstrumentedClient, sleep } from './helpers.ts';
import { eventually, metricValue } from '../../src/testing/index.ts';

// A control plane of this file's own, with the watch cache off: a watch from a compacted
// resourceVersion then reaches etcd and fails with 410, instead of being served from the cache.
describe('a pod informer whose resourceVersion is compacted away while its watch is down', () => {
  const cluster = ownControlPlane({ extraApiServerArgs: ['--watch-cache=false'] });
  const namespace = 'compaction';
  beforeAll(async () => {
    await cluster.core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  it('gets 410, relists, and delivers the deletes it missed as tombstones', async () => {
    for (const name of ['keep-0', 'keep-1', 'gone-0', 'gone-1', 'gone-2']) {
      await cluster.core.createNamespacedPod({ namespace, body: podManifest(name) });
    }
    const registry = new Registry();
    const rest = HttpRestClient.fromConfig(restConfigOf(cluster.kc));
    const client = new InstrumentedClient(rest);
    const factory = new SharedInformerFactory({
      client,
      namespace,
      registry,
      reflector: { backoff: { initialMs: 100, maxMs: 500 } },
    });
    const pods = factory.informerFor<KubeObject>(PODS);
    const events: string[] = [];
    const tombstoneObjects = new Map<string, KubeObject>();
    pods.addEventHandler({
      onAdd: (pod, initial) => events.push(`add ${objectKey(pod)}${initial ? ' initial' : ''}`),
      onDelete: (obj) => {
        if (isTombstone(obj)) tombstoneObjects.set(obj.key, obj.obj);
        events.push(`delete ${isTombstone(obj) ? `tombstone ${obj.key}` : objectKey(obj)}`);
      },
    });
    const controller = new AbortController();
    factory.start(controller.signal);
    try {
      expect(await factory.waitForCacheSync(controller.signal, 10_000)).toBe(true);
      const lastSeen = pods.lastSyncResourceVersion();

      client.partition();
      for (const name of ['gone-0', 'gone-1', 'gone-2']) {
        await cluster.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
      }
      await cluster.core.createNamespacedPod({ namespace, body: podManifest('new-0') });
      const compactedAt = await cluster.cp.compactEtcd();
      expect(compactedAt).toBeGreaterThan(Number(lastSeen));
      await sleep(300);
      expect(client.listings).toBe(1);
      client.heal();

      await eventually(async () => {
        const { cached, listed } = await cacheAndList(pods, cluster.core, namespace);
        return cached.join() === listed.join();
      }, 20_000);
      expect(metricValue(await registry.metrics(), 'informer_lists_total', { reason: 'expired' })).toBe(1);
      expect(client.listings).toBe(2);

      expect(events.filter((e) => e.startsWith('delete')).sort()).toEqual([
        `delete tombstone ${namespace}/gone-0`,
        `delete tombstone ${namespace}/gone-1`,
        `delete tombstone ${namespace}/gone-2`,
      ]);
      // A tombstone carries the last state the informer saw: here, the pod as it was created.
      expect(tombstoneObjects.get(`${namespace}/gone-1`)?.metadata?.deletionTimestamp).toBeUndefined();
      expect(events).toContain(`add ${namespace}/new-0`);
      expect(events.filter((e) => e.includes('keep-0'))).toEqual([`add ${namespace}/keep-0 initial`]);
    } finally {
      controller.abort();
      await factory.shutdown();
      await rest.transport.destroy();
    }
  }, 120_000);
});
