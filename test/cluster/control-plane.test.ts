import { existsSync } from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../hack/cluster/control-plane.ts';
import { isAlive } from '../../hack/cluster/process.ts';
import { podManifest } from '../helpers/cluster.ts';
import { processGroupMembers } from '../helpers/processes.ts';

// A control plane of this file's own: restarting and compacting must not disturb other tests.
describe('ControlPlane fault handles', () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  const namespace = 'handles';

  beforeAll(async () => {
    cp = await ControlPlane.start();
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(async () => {
    await cp.stop();
  });

  it('restartApiServer keeps the data and the port', async () => {
    const created = await core.createNamespacedPod({ namespace, body: podManifest('survivor') });
    const before = cp.state.pids.apiserver;

    await cp.restartApiServer();

    expect(cp.state.pids.apiserver).not.toBe(before);
    expect(isAlive(before)).toBe(false);
    const read = await core.readNamespacedPod({ namespace, name: 'survivor' });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
  });

  it('compactEtcd makes older resourceVersions answer 410 Gone', async () => {
    const first = await core.createNamespacedPod({ namespace, body: podManifest('old') });
    const oldRv = first.metadata?.resourceVersion ?? '';
    await core.createNamespacedPod({ namespace, body: podManifest('newer') });

    // Before compaction the exact old revision can still be read.
    const page = await core.listNamespacedPod({
      namespace,
      resourceVersion: oldRv,
      resourceVersionMatch: 'Exact',
    });
    expect(page.items.map((p) => p.metadata?.name)).toContain('old');

    const revision = await cp.compactEtcd();
    expect(revision).toBeGreaterThan(Number(oldRv));
    await expect(
      core.listNamespacedPod({ namespace, resourceVersion: oldRv, resourceVersionMatch: 'Exact' }),
    ).rejects.toMatchObject({ code: 410 });
  });

  it('stop ends every process it started and removes its temp dir', async () => {
    const groups = [cp.state.pids.apiserver, cp.state.pids.etcd];
    const members = groups.flatMap(processGroupMembers);
    expect(members.length).toBeGreaterThanOrEqual(4); // a guard and a binary each

    await cp.stop();

    expect(members.filter(isAlive)).toEqual([]);
    expect(existsSync(cp.dir)).toBe(false);
  });
});
