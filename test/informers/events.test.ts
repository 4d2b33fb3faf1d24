import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRestClient } from '../../src/client/index.ts';
import { apiConfiguration } from '../helpers/api-configuration.ts';
import {
  isTombstone,
  lister,
  objectKey,
  PODS,
  REPLICASETS,
  SharedInformerFactory,
  type KubeObject,
} from '../../src/informers/index.ts';
import { adminKubeConfig, createNamespace, podManifest, restConfigOf } from '../helpers/cluster.ts';
import { eventually, metricValue } from '../../src/testing/index.ts';

interface Pod extends KubeObject {
  spec?: { containers?: { name: string }[] };
}

const nameOf = (o: KubeObject): string => o.metadata?.name ?? '?';
const rvOf = (o: KubeObject): string => o.metadata?.resourceVersion ?? '?';

describe('informers against the real API server', () => {
  const registry = new Registry();
  let client: HttpRestClient;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  beforeAll(() => {
    client = HttpRestClient.fromConfig(restConfigOf(adminKubeConfig()), { registry });
    // The generated client goes through the same pool and counter.
    core = new CoreV1Api(apiConfiguration(client.transport));
    apps = new AppsV1Api(apiConfiguration(client.transport));
  });
  afterAll(async () => {
    await client.transport.destroy();
  });

  it('delivers add, update and delete in order, after the store changed, and ends equal to a LIST', async () => {
    const namespace = await createNamespace('inf-events');
    await core.createNamespacedPod({ namespace, body: podManifest('before') });
    const factory = new SharedInformerFactory({ client, namespace });
    const pods = factory.informerFor<Pod>(PODS);
    const events: string[] = [];
    const storeMismatches: string[] = [];
    pods.addEventHandler({
      onAdd: (pod, initial) => {
        events.push(`add ${nameOf(pod)} ${initial}`);
        if (pods.store.get(objectKey(pod)) !== pod) storeMismatches.push(`add ${nameOf(pod)}`);
      },
      onUpdate: (old, pod) => {
        events.push(`update ${nameOf(pod)}`);
        if (rvOf(old) === rvOf(pod)) storeMismatches.push(`update without change ${nameOf(pod)}`);
        if (pods.store.get(objectKey(pod)) !== pod) storeMismatches.push(`update ${nameOf(pod)}`);
      },
      onDelete: (obj) => {
        events.push(`delete ${isTombstone(obj) ? `tombstone ${obj.key}` : nameOf(obj)}`);
        if (!isTombstone(obj) && pods.store.get(objectKey(obj)))
          storeMismatches.push(`delete ${nameOf(obj)}`);
      },
    });
    const controller = new AbortController();
    factory.start(controller.signal);
    try {
      expect(await factory.waitForCacheSync(controller.signal, 10_000)).toBe(true);
      expect(events).toEqual(['add before true']);

      await core.createNamespacedPod({ namespace, body: podManifest('p1') });
      await core.patchNamespacedPod({
        namespace,
        name: 'p1',
        body: [{ op: 'add', path: '/metadata/labels/changed', value: 'yes' }],
      });
      await core.deleteNamespacedPod({ namespace, name: 'p1', gracePeriodSeconds: 0 });
      await eventually(() => Promise.resolve(events.includes('delete p1')));

      const p1 = events.filter((e) => e.includes(' p1'));
      expect(p1[0]).toBe('add p1 false');
      expect(p1.at(-1)).toBe('delete p1');
      // The label change, and possibly the deletionTimestamp, arrive as updates in between.
      expect(p1.slice(1, -1).length).toBeGreaterThanOrEqual(1);
      expect(p1.slice(1, -1).every((e) => e === 'update p1')).toBe(true);
      expect(storeMismatches).toEqual([]);

      const list = await core.listNamespacedPod({ namespace });
      const expected = list.items.map((p) => `${p.metadata?.name}@${p.metadata?.resourceVersion}`).sort();
      const cached = pods.store
        .list()
        .map((p) => `${nameOf(p)}@${rvOf(p)}`)
        .sort();
      expect(cached).toEqual(expected);
      expect(cached).toEqual([`before@${list.items[0]?.metadata?.resourceVersion}`]);

      const cachedPod = lister(pods).get(namespace, 'before');
      expect(cachedPod?.kind).toBe('Pod');
      expect(cachedPod?.metadata).not.toHaveProperty('managedFields');
      expect(Object.isFrozen(cachedPod?.spec?.containers?.[0])).toBe(true);
      expect(lister(pods).list(namespace)).toHaveLength(1);
      expect(lister(pods).list('elsewhere')).toHaveLength(0);
    } finally {
      controller.abort();
      await factory.shutdown();
    }
  });

  it('a metadata-only informer on a grouped path caches PartialObjectMetadata from list and watch', async () => {
    const namespace = await createNamespace('inf-meta');
    const replicaSet = (name: string) => ({
      metadata: { name, labels: { app: name } },
      spec: {
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: podManifest(name).spec },
      },
    });
    await apps.createNamespacedReplicaSet({ namespace, body: replicaSet('listed') });
    const factory = new SharedInformerFactory({ client });
    const rs = factory.informerFor<KubeObject>(REPLICASETS, { namespace, metadataOnly: true });
    const controller = new AbortController();
    factory.start(controller.signal);
    try {
      expect(await factory.waitForCacheSync(controller.signal, 10_000)).toBe(true);
      await apps.createNamespacedReplicaSet({ namespace, body: replicaSet('watched') });
      await eventually(() => Promise.resolve(rs.store.size === 2));
      for (const name of ['listed', 'watched']) {
        const obj = rs.store.get(`${namespace}/${name}`) as Record<string, unknown> | undefined;
        expect(obj).toMatchObject({
          apiVersion: 'meta.k8s.io/v1',
          kind: 'PartialObjectMetadata',
          metadata: { name, namespace, labels: { app: name } },
        });
        expect(obj).not.toHaveProperty('spec');
        expect(obj).not.toHaveProperty('status');
      }
    } finally {
      controller.abort();
      await factory.shutdown();
    }
  });

  it('shares one connection pool between the generated API and informers, and counts requests', async () => {
    const namespace = await createNamespace('inf-pool');
    const factory = new SharedInformerFactory({ client, namespace });
    factory.informerFor(PODS);
    const controller = new AbortController();
    factory.start(controller.signal);
    try {
      expect(await factory.waitForCacheSync(controller.signal, 10_000)).toBe(true);
      for (let i = 0; i < 20; i++)
        await core.createNamespacedPod({ namespace, body: podManifest(`seq-${i}`) });
      const posts = metricValue(await registry.metrics(), 'rest_client_requests_total', {
        method: 'POST',
        code: '201',
        host: client.transport.host,
      });
      expect(posts).toBeGreaterThanOrEqual(20);
      // The watches of this file, the lists and the 20 creates all share one HTTP/2 connection.
      expect(client.transport.stats()).toMatchObject({ connected: 1, protocols: ['h2'] });
    } finally {
      controller.abort();
      await factory.shutdown();
    }
  });
});
