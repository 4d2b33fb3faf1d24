import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { HttpRestClient } from '../../src/client/index.ts';
import { PODS, SharedInformerFactory, type KubeObject } from '../../src/informers/index.ts';
import { adminKubeConfig, createNamespace, podManifest, restConfigOf } from '../helpers/cluster.ts';
import { InstrumentedClient } from './helpers.ts';
import { eventually } from '../../src/testing/index.ts';

describe('watch bookmarks', () => {
  it('advance lastSyncResourceVersion with no object event and no relist', async () => {
    const kc = adminKubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const [watched, busy] = await Promise.all([createNamespace('inf-bm'), createNamespace('inf-bm-busy')]);
    const rest = HttpRestClient.fromConfig(restConfigOf(kc));
    const client = new InstrumentedClient(rest);
    // kube-apiserver sends a bookmark 2 s before a watch's deadline: 5 to 10 s watches show it soon.
    const factory = new SharedInformerFactory({
      client,
      namespace: watched,
      reflector: { minWatchTimeoutSeconds: 5 },
    });
    const pods = factory.informerFor<KubeObject>(PODS);
    const events: string[] = [];
    pods.addEventHandler({
      onAdd: (p) => events.push(`add ${p.metadata?.name}`),
      onUpdate: (_o, p) => events.push(`update ${p.metadata?.name}`),
      onDelete: () => events.push('delete'),
    });
    const controller = new AbortController();
    factory.start(controller.signal);
    try {
      expect(await factory.waitForCacheSync(controller.signal, 10_000)).toBe(true);
      const listed = pods.lastSyncResourceVersion();
      // The watch-list's own end bookmark does not count: only bookmarks of the watch after it.
      const bookmarksAtSync = client.bookmarks;
      // Pods elsewhere move the pods watch cache on; our watch, filtered to its namespace, sees none.
      await core.createNamespacedPod({ namespace: busy, body: podManifest('elsewhere') });
      await eventually(() => Promise.resolve(pods.lastSyncResourceVersion() !== listed), 25_000, 200);
      expect(client.bookmarks).toBeGreaterThan(bookmarksAtSync);
      expect(events).toEqual([]);
      // One request all along: the watch-list that listed went on as the watch.
      expect([client.lists, client.watches]).toEqual([0, 1]);
      expect(pods.store.size).toBe(0);
    } finally {
      controller.abort();
      await factory.shutdown();
      await rest.transport.destroy();
    }
  }, 60_000);
});
