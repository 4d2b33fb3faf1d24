import type { CoreV1Api } from '@kubernetes/client-node';
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
import { eventually } from '../../src/testing/index.ts';

/**
 * Creates and deletes pods until stopped, ignoring failures while the API server is down. Names are
 * never reused, so each name is one pod: one add and at most one delete.
 */
function churn(core: CoreV1Api, namespace: string): { stop: () => Promise<void>; created: Set<string> } {
  const created = new Set<string>();
  const state = { running: true };
  const loop = (async () => {
    for (let i = 0; state.running; i++) {
      const name = `churn-${i}`;
      try {
        await core.createNamespacedPod({ namespace, body: podManifest(name) });
        created.add(name);
      } catch {
        await sleep(50);
      }
      // Delete an older pod every other step, so pods both appear and vanish around the restart.
      const victim = i >= 4 && i % 2 === 0 ? `churn-${i - 4}` : undefined;
      if (victim) {
        await core
          .deleteNamespacedPod({ namespace, name: victim, gracePeriodSeconds: 0 })
          .catch(() => undefined);
      }
      await sleep(20);
    }
  })();
  return {
    created,
    stop: async () => {
      state.running = false;
      await loop;
    },
  };
}

// A control plane of this file's own: restarting its API server must not disturb other tests.
describe('a pod informer across an API-server restart', () => {
  const cluster = ownControlPlane();
  const namespace = 'restart';
  beforeAll(async () => {
    await cluster.core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  it('ends equal to a LIST, with exactly one delete per deleted pod it saw', async () => {
    const rest = HttpRestClient.fromConfig(restConfigOf(cluster.kc));
    const client = new InstrumentedClient(rest);
    const factory = new SharedInformerFactory({
      client,
      namespace,
      reflector: { backoff: { initialMs: 200, maxMs: 2_000 } },
    });
    const pods = factory.informerFor<KubeObject>(PODS);
    const adds = new Map<string, number>();
    const deletes = new Map<string, number>();
    const tombstones: string[] = [];
    pods.addEventHandler({
      onAdd: (pod) => adds.set(objectKey(pod), (adds.get(objectKey(pod)) ?? 0) + 1),
      onDelete: (obj) => {
        const key = isTombstone(obj) ? obj.key : objectKey(obj);
        if (isTombstone(obj)) tombstones.push(key);
        deletes.set(key, (deletes.get(key) ?? 0) + 1);
      },
    });
    const controller = new AbortController();
    factory.start(controller.signal);
    try {
      expect(await factory.waitForCacheSync(controller.signal, 10_000)).toBe(true);
      const background = churn(cluster.core, namespace);
      await sleep(1_500);
      const watchesBefore = client.watches;
      await cluster.cp.restartApiServer();
      await sleep(2_000);
      await background.stop();

      await eventually(async () => {
        const { cached, listed } = await cacheAndList(pods, cluster.core, namespace);
        return cached.join() === listed.join();
      }, 30_000);

      const present = new Set(pods.store.listKeys());
      const problems: string[] = [];
      for (const name of background.created) {
        const key = `${namespace}/${name}`;
        const added = adds.get(key) ?? 0;
        const deleted = deletes.get(key) ?? 0;
        if (present.has(key) && (added !== 1 || deleted !== 0))
          problems.push(`${key}: present, ${added} adds, ${deleted} deletes`);
        // A pod created and deleted while the informer was reconnecting is never seen: no add, no delete.
        if (!present.has(key) && added !== deleted)
          problems.push(`${key}: gone, ${added} adds, ${deleted} deletes`);
        if (added > 1 || deleted > 1) problems.push(`${key}: ${added} adds, ${deleted} deletes`);
      }
      expect(problems).toEqual([]);
      expect([...deletes.keys()].every((key) => !present.has(key))).toBe(true);
      const deletedSeen = [...deletes.keys()].length;
      expect(deletedSeen).toBeGreaterThan(5);
      expect(client.watches).toBeGreaterThan(watchesBefore);
      console.log(
        `restart: ${background.created.size} pods created, ${deletedSeen} deletes seen (${tombstones.length} as tombstones), ` +
          `${client.lists} lists, ${client.watches} watches`,
      );
    } finally {
      controller.abort();
      await factory.shutdown();
      await rest.transport.destroy();
    }
  }, 120_000);
});
