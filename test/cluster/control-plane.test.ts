import { existsSync } from 'node:fs';
import { request } from 'node:https';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../hack/cluster/control-plane.ts';
import { isAlive } from '../../hack/cluster/process.ts';
import { podManifest } from '../helpers/cluster.ts';

/** Opens a raw watch and resolves with its first event. */
function fetchWatch(cp: ControlPlane, path: string): Promise<{ type: string; object: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${cp.server}${path}`,
      { ca: cp.ca, headers: { authorization: `Bearer ${cp.token}` } },
      (res) => {
        let buffered = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          buffered += chunk;
          const newline = buffered.indexOf('\n');
          if (newline < 0) return;
          resolve(JSON.parse(buffered.slice(0, newline)) as { type: string; object: unknown });
          req.destroy();
        });
      },
    );
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
    req.end();
  });
}
import { processGroupMembers } from '../helpers/processes.ts';

// A control plane of this file's own: restarting and compacting must not disturb other tests. Its
// watch cache is off: with it on, the API server answers recent resourceVersions from its own
// snapshots, and etcd compaction only shows once the cache's window has moved past them.
describe('ControlPlane fault handles', () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  const namespace = 'handles';

  beforeAll(async () => {
    cp = await ControlPlane.start({ extraApiServerArgs: ['--watch-cache=false'] });
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

  it('compactEtcd makes older resourceVersions answer 410 Gone, for lists and watches', async () => {
    const first = await core.createNamespacedPod({ namespace, body: podManifest('old') });
    const oldRv = first.metadata?.resourceVersion ?? '';
    // Two later writes: compacting at revision R keeps R, and a watch from oldRv starts at oldRv + 1.
    await core.createNamespacedPod({ namespace, body: podManifest('newer') });
    await core.createNamespacedPod({ namespace, body: podManifest('newest') });

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
    const watch = await fetchWatch(
      cp,
      `/api/v1/namespaces/${namespace}/pods?watch=1&resourceVersion=${oldRv}`,
    );
    expect(watch).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
  });

  it('restartApiServer still serves watches afterwards', async () => {
    await cp.restartApiServer();
    const list = await core.listNamespacedPod({ namespace });
    const rv = list.metadata?.resourceVersion ?? '';
    const pending = fetchWatch(cp, `/api/v1/namespaces/${namespace}/pods?watch=1&resourceVersion=${rv}`);
    await core.createNamespacedPod({ namespace, body: podManifest('after-restart') });
    expect(await pending).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'after-restart' } } });
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
