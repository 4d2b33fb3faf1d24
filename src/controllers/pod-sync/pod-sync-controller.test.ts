import { setImmediate as tick } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeRestClient } from '../../client/index.ts';
import { SharedInformerFactory } from '../../informers/index.ts';
import { captureLogs } from '../../../test/helpers/logs.ts';
import { PodSyncController } from './pod-sync-controller.ts';

const pod = (uid: string, resourceVersion: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid, resourceVersion },
  spec: { nodeName: 'n1' },
  status: { phase: 'Running' },
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await tick();
  expect(condition()).toBe(true);
}

describe('PodSyncController.sync', () => {
  it('reports a pod whose uid changed under the same key as recreated, then added', async () => {
    const client = new FakeRestClient();
    client.listHandler = (path) => ({
      metadata: { resourceVersion: '10' },
      items: path.endsWith('/pods') ? [pod('uid-1', '5')] : [],
    });
    const { logger, lines } = captureLogs();
    const registry = new Registry();
    const factory = new SharedInformerFactory({ client, logger });
    const podSync = new PodSyncController({ factory, logger, registry });
    const stop = new AbortController();
    factory.start(stop.signal);
    await until(() => podSync.pods.hasSynced() && client.watches.some((w) => w.path.endsWith('/pods')));

    podSync.sync('ns/p');
    expect(lines.filter((l) => l.event === 'added')).toMatchObject([
      { uid: 'uid-1', phase: 'Running', node: 'n1' },
    ]);

    // A delete and a re-create that reach the cache as one update, as after a missed watch window.
    client.watches.find((w) => w.path.endsWith('/pods'))?.push('MODIFIED', pod('uid-2', '11'));
    await until(() => podSync.pods.store.get('ns/p')?.metadata?.uid === 'uid-2');
    podSync.sync('ns/p');

    expect(lines.filter((l) => l.event === 'recreated')).toMatchObject([
      { key: 'ns/p', oldUid: 'uid-1', uid: 'uid-2' },
    ]);
    expect(lines.filter((l) => l.event === 'added').map((l) => l.uid)).toEqual(['uid-1', 'uid-2']);
    const transitions = await registry.getSingleMetric('pod_sync_transitions_total')?.get();
    expect(transitions?.values.find((v) => v.labels.type === 'recreated')?.value).toBe(1);

    stop.abort();
    await factory.shutdown();
  });
});

describe('PodSyncController.unsyncedCaches', () => {
  it('names every cache a sync reads until it has synced, so readiness waits for the owner caches too', async () => {
    const client = new FakeRestClient();
    client.listHandler = (path) => {
      if (path.endsWith('/replicasets')) throw new Error('forbidden');
      return { metadata: { resourceVersion: '10' }, items: [] };
    };
    const factory = new SharedInformerFactory({ client });
    const podSync = new PodSyncController({ factory });
    expect(podSync.unsyncedCaches()).toEqual(['pods', 'replicasets.apps', 'jobs.batch']);
    const stop = new AbortController();
    factory.start(stop.signal);
    await until(() => podSync.pods.hasSynced() && podSync.unsyncedCaches().length === 1);
    expect(podSync.unsyncedCaches()).toEqual(['replicasets.apps']);
    stop.abort();
    await factory.shutdown();
  });
});
