// Deletions that the garbage collector and the namespace controller carry out: the operator must
// report every pod they remove and keep nothing of them.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { adminKubeConfig, createNamespace } from '../helpers/cluster.ts';
import { reportsByUid, runPodSync, type RunningPodSync } from '../helpers/pod-sync.ts';
import { deployment, rolledOut, statefulSet, statefulSetReady } from '../helpers/workloads.ts';
import { eventually } from '../../src/testing/index.ts';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const running: RunningPodSync[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

async function allGone(sync: RunningPodSync, uids: readonly string[], timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      const reports = reportsByUid(sync.lines);
      return Promise.resolve(uids.every((uid) => reports.get(uid)?.gone === true));
    },
    timeoutMs,
    200,
  );
}

describe('garbage collection on the living cluster', () => {
  it('a Deployment deleted in the background: the GC removes its ReplicaSet and pods, each reported deleted', async () => {
    const namespace = await createNamespace('live-gc');
    const sync = await runPodSync(kc, { namespace });
    running.push(sync);
    await apps.createNamespacedDeployment({ namespace, body: deployment('web', 4) });
    const pods = await rolledOut(apps, core, namespace, 'web');
    const uids = pods.map((p) => p.metadata?.uid ?? '');
    await eventually(async () =>
      Promise.resolve(uids.every((u) => reportsByUid(sync.lines).get(u)?.everReady)),
    );

    await apps.deleteNamespacedDeployment({ namespace, name: 'web', propagationPolicy: 'Background' });
    await eventually(
      async () =>
        (await apps.listNamespacedReplicaSet({ namespace })).items.length === 0 &&
        (await core.listNamespacedPod({ namespace })).items.length === 0,
      60_000,
      200,
    );
    await allGone(sync, uids);
    const reports = reportsByUid(sync.lines);
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      const replicaSet = pod.metadata?.ownerReferences?.find((r) => r.controller);
      const events = reports.get(uid)?.events ?? [];
      expect(
        events.some(
          (l) => l.workloadKind === 'Deployment' && l.workloadName === 'web' && !l.unresolvedOwnerKind,
        ),
        uid,
      ).toBe(true);
      const last = events.at(-1);
      expect(last).toMatchObject({ event: 'deleted', lastSeenUid: uid });
      // The GC deletes the Deployment, then the ReplicaSet, then its pods: a pod synced in between
      // finds an owner gone from the API server and says so, and its deleted line keeps that view.
      if (last?.unresolvedOwnerKind !== 'ReplicaSet') {
        expect(last).toMatchObject({ workloadKind: 'Deployment', workloadName: 'web' });
        if (last?.unresolvedOwnerKind !== undefined)
          expect(last).toMatchObject({ unresolvedOwnerKind: 'Deployment', unresolvedOwnerName: 'web' });
      } else {
        expect(last).toMatchObject({
          workloadKind: 'ReplicaSet',
          workloadName: replicaSet?.name,
          unresolvedOwnerKind: 'ReplicaSet',
          unresolvedOwnerName: replicaSet?.name,
          unresolvedOwnerUid: replicaSet?.uid,
        });
      }
    }
    expect(sync.podSync.pods.store.listKeys()).toEqual([]);
    expect(await sync.metric('pod_sync_pods')).toBe(0);
  });

  it('a namespace of 50 pods deleted: every pod reported deleted, nothing of it left in the pod cache', async () => {
    const namespace = await createNamespace('live-ns');
    // All namespaces, as the operator runs by default: the namespace's keys must leave a shared cache.
    const sync = await runPodSync(kc);
    running.push(sync);
    await apps.createNamespacedDeployment({ namespace, body: deployment('web', 40) });
    await apps.createNamespacedStatefulSet({ namespace, body: statefulSet('db', 10, 'Parallel') });
    const pods = [
      ...(await rolledOut(apps, core, namespace, 'web', 90_000)),
      ...(await statefulSetReady(apps, core, namespace, 'db', 90_000)),
    ];
    expect(pods).toHaveLength(50);
    const uids = pods.map((p) => p.metadata?.uid ?? '');
    await eventually(
      async () => Promise.resolve(uids.every((u) => reportsByUid(sync.lines).get(u) !== undefined)),
      30_000,
    );

    await core.deleteNamespace({ name: namespace });
    await eventually(
      () =>
        core.readNamespace({ name: namespace }).then(
          () => false,
          (err: unknown) => (err as { code?: number }).code === 404,
        ),
      90_000,
      500,
    );
    await allGone(sync, uids);
    const reports = reportsByUid(sync.lines);
    for (const uid of uids) expect(reports.get(uid)?.events.at(-1)).toMatchObject({ event: 'deleted' });
    const ours = (key: string) => key.startsWith(`${namespace}/`);
    expect(sync.podSync.pods.store.listKeys().filter(ours)).toEqual([]);
  }, 180_000);
});
