import { CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { adminKubeConfig, createNamespace, eventually, podManifest } from '../helpers/cluster.ts';

describe('a watch on the real API server', () => {
  it('sees ADDED, MODIFIED and DELETED for a pod', async () => {
    const kc = adminKubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = await createNamespace('smoke-watch');
    const list = await core.listNamespacedPod({ namespace });

    const events: string[] = [];
    const abort = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { resourceVersion: list.metadata?.resourceVersion },
      (type: string, pod: V1Pod) => events.push(`${type} ${pod.metadata?.name ?? ''}`),
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
      await eventually(async () => Promise.resolve(events.length >= 3));
    } finally {
      abort.abort();
    }
    expect(events).toEqual(['ADDED watched', 'MODIFIED watched', 'DELETED watched']);
  });
});
