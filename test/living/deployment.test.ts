// A Deployment's pods as its controllers make them: the Deployment controller makes ReplicaSets, the
// ReplicaSet controller makes and deletes pods, the scheduler binds them and kwok runs them.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { adminKubeConfig, createNamespace } from '../helpers/cluster.ts';
import { reportsByUid, runPodSync, type PodReport, type RunningPodSync } from '../helpers/pod-sync.ts';
import { deployment, rolledOut } from '../helpers/workloads.ts';
import { eventually } from '../../src/testing/index.ts';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const running: RunningPodSync[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

async function watch(namespace: string): Promise<RunningPodSync> {
  const sync = await runPodSync(kc, { namespace });
  running.push(sync);
  return sync;
}

/** Waits until every given uid is reported as the test expects, then returns the reports. */
async function reported(sync: RunningPodSync, uids: readonly string[], done: (r: PodReport) => boolean) {
  await eventually(
    async () => {
      const reports = reportsByUid(sync.lines);
      return Promise.resolve(
        uids.every((uid) => {
          const report = reports.get(uid);
          return report !== undefined && done(report);
        }),
      );
    },
    30_000,
    100,
  );
  return reportsByUid(sync.lines);
}

describe('a Deployment on the living cluster', () => {
  it('rolls out a template change: every pod of both ReplicaSets resolved to the Deployment, old ones deleted', async () => {
    const namespace = await createNamespace('live-rollout');
    const sync = await watch(namespace);
    await apps.createNamespacedDeployment({ namespace, body: deployment('web', 3) });
    const first = await rolledOut(apps, core, namespace, 'web');
    const firstRs = new Set(first.map((p) => p.metadata?.ownerReferences?.[0]?.name));
    expect(firstRs.size).toBe(1);

    await apps.patchNamespacedDeployment({
      namespace,
      name: 'web',
      body: [
        {
          op: 'add',
          path: '/spec/template/metadata/annotations',
          value: { 'example.com/revision': '2' },
        },
      ],
    });
    const second = await rolledOut(apps, core, namespace, 'web');
    const secondRs = new Set(second.map((p) => p.metadata?.ownerReferences?.[0]?.name));
    expect(secondRs.size).toBe(1);
    expect([...secondRs][0]).not.toBe([...firstRs][0]);

    const oldUids = first.map((p) => p.metadata?.uid ?? '');
    const newUids = second.map((p) => p.metadata?.uid ?? '');
    const reports = await reported(sync, [...oldUids, ...newUids], (r) =>
      oldUids.includes(r.uid) ? r.gone : r.everReady,
    );
    for (const uid of [...oldUids, ...newUids]) {
      const report = reports.get(uid);
      // Every line that names a resolved workload names the Deployment (a line made while an owner
      // was not cached yet would say so in unresolvedOwnerKind), and so does the last.
      const resolved = report?.events.filter((l) => l.unresolvedOwnerKind === undefined) ?? [];
      for (const line of resolved) {
        expect(line, `${report?.key} ${String(line.event)}`).toMatchObject({
          workloadKind: 'Deployment',
          workloadName: 'web',
        });
      }
      expect(report?.last).toMatchObject({ workloadKind: 'Deployment', workloadName: 'web' });
      expect(report?.last.unresolvedOwnerKind, report?.key).toBeUndefined();
      // Pending at creation, then Running and Ready once bound: seen as one sync or as several.
      expect(report?.everReady, report?.key).toBe(true);
      expect(report?.events[0]?.event).toBe('added');
    }
    for (const uid of oldUids) {
      expect(reports.get(uid)?.events.at(-1)).toMatchObject({ event: 'deleted', lastSeenUid: uid });
    }
    for (const uid of newUids) expect(reports.get(uid)?.gone).toBe(false);
    expect(await sync.metric('pod_sync_pods', { phase: 'Running' })).toBe(3);
    // A pod may reach its cache before its new ReplicaSet reaches theirs (two watches): its sync
    // fails and is retried until the owner arrives. Failures may happen; a dropped key must not.
    expect(await sync.metric('pod_sync_operator_dropped_keys_total')).toBe(0);
  });

  it('scales up and down: new pods reported added and ready, removed ones deleted', async () => {
    const namespace = await createNamespace('live-scale');
    const sync = await watch(namespace);
    await apps.createNamespacedDeployment({ namespace, body: deployment('api', 2) });
    const two = await rolledOut(apps, core, namespace, 'api');

    await apps.patchNamespacedDeploymentScale({
      namespace,
      name: 'api',
      body: [{ op: 'replace', path: '/spec/replicas', value: 5 }],
    });
    const five = await rolledOut(apps, core, namespace, 'api');
    const added = five
      .map((p) => p.metadata?.uid ?? '')
      .filter((uid) => !two.some((p) => p.metadata?.uid === uid));
    expect(added).toHaveLength(3);
    await reported(sync, added, (r) => r.everReady);
    expect(await sync.metric('pod_sync_pods', { phase: 'Running' })).toBe(5);

    await apps.patchNamespacedDeploymentScale({
      namespace,
      name: 'api',
      body: [{ op: 'replace', path: '/spec/replicas', value: 1 }],
    });
    const one = await rolledOut(apps, core, namespace, 'api');
    const removed = five.map((p) => p.metadata?.uid ?? '').filter((uid) => uid !== one[0]?.metadata?.uid);
    expect(removed).toHaveLength(4);
    const reports = await reported(sync, removed, (r) => r.gone);
    for (const uid of removed) {
      expect(reports.get(uid)?.events.at(-1)).toMatchObject({
        event: 'deleted',
        workloadKind: 'Deployment',
        workloadName: 'api',
      });
    }
    expect(reports.get(one[0]?.metadata?.uid ?? '')?.gone).toBe(false);
    await eventually(async () => (await sync.metric('pod_sync_pods', { phase: 'Running' })) === 1);
  });
});
