import { CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { adminKubeConfig, createNamespace, podManifest } from '../helpers/cluster.ts';
import { eventually } from '../../src/testing/index.ts';

describe('a watch on the real API server', () => {
  it('sees ADDED, MODIFIED and DELETED for a pod', async () => {
    const kc = adminKubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = await createNamespace('smoke-watch');
    const list = await core.listNamespacedPod({ namespace });

    const events: { type: string; pod: V1Pod }[] = [];
    const abort = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { resourceVersion: list.metadata?.resourceVersion },
      (type: string, pod: V1Pod) => events.push({ type, pod }),
      () => undefined,
    );
    try {
      await core.createNamespacedPod({ namespace, body: podManifest('watched') });
      await core.patchNamespacedPod({
        namespace,
        name: 'watched',
        body: [{ op: 'add', path: '/metadata/labels/changed', value: 'yes' }],
      });
      await core.deleteNamespacedPod({ namespace, name: 'watched', gracePeriodSeconds: 0 });
      await eventually(async () => Promise.resolve(events.at(-1)?.type === 'DELETED'));
    } finally {
      abort.abort();
    }
    expect(events.every((e) => e.pod.metadata?.name === 'watched')).toBe(true);
    expect(events[0]?.type).toBe('ADDED');
    // The label change arrives as a MODIFIED; a delete may first show one more (deletionTimestamp set).
    expect(events[1]).toMatchObject({ type: 'MODIFIED', pod: { metadata: { labels: { changed: 'yes' } } } });
    expect(events.slice(2, -1).every((e) => e.type === 'MODIFIED' && e.pod.metadata?.deletionTimestamp)).toBe(
      true,
    );
    expect(events.at(-1)?.type).toBe('DELETED');
    const versions = events.map((e) => e.pod.metadata?.resourceVersion);
    expect(new Set(versions).size).toBe(versions.length);
  });
});
