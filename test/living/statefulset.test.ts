// A StatefulSet pod deleted by hand is made again by its controller under the same name, with a new uid.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, createNamespace } from '../helpers/cluster.ts';
import { reportsByUid, runPodSync, type RunningPodSync } from '../helpers/pod-sync.ts';
import { isReady, statefulSet, statefulSetReady } from '../helpers/workloads.ts';
import { eventually } from '../../src/testing/index.ts';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
let sync: RunningPodSync | undefined;
afterAll(async () => {
  await sync?.stop();
});

describe('a StatefulSet on the living cluster', () => {
  it('reports a pod deleted and made again under the same name as recreated, with the new uid', async () => {
    const namespace = await createNamespace('live-sts');
    sync = await runPodSync(kc, { namespace });
    const lines = sync.lines;
    await apps.createNamespacedStatefulSet({ namespace, body: statefulSet('db', 2) });
    const pods = await statefulSetReady(apps, core, namespace, 'db');
    expect(pods.map((p) => p.metadata?.name).sort()).toEqual(['db-0', 'db-1']);
    const oldUid = pods.find((p) => p.metadata?.name === 'db-1')?.metadata?.uid ?? '';
    await eventually(async () => Promise.resolve(reportsByUid(lines).get(oldUid)?.everReady === true));

    await core.deleteNamespacedPod({ namespace, name: 'db-1' });
    let newUid = '';
    await eventually(
      async () => {
        const pod = await core.readNamespacedPod({ namespace, name: 'db-1' }).catch(() => undefined);
        newUid = pod?.metadata?.uid ?? '';
        return newUid !== '' && newUid !== oldUid && isReady(pod ?? {});
      },
      30_000,
      200,
    );

    await eventually(async () => {
      const reports = reportsByUid(lines);
      return Promise.resolve(reports.get(oldUid)?.gone === true && reports.get(newUid)?.everReady === true);
    }, 30_000);
    const key = `${namespace}/db-1`;
    const ended = lines.find(
      (l) =>
        l.key === key &&
        ((l.event === 'recreated' && l.oldUid === oldUid) ||
          (l.event === 'deleted' && l.lastSeenUid === oldUid)),
    );
    // One sync that sees the uid change logs `recreated`; a sync between the delete and the new pod
    // logs `deleted`, then `added`. Either way the new pod is reported under its own uid.
    expect(ended, 'the old uid is reported gone').toBeDefined();
    if (ended?.event === 'recreated') expect(ended.uid).toBe(newUid);
    const fresh = reportsByUid(lines).get(newUid);
    expect(fresh?.events[0]).toMatchObject({
      event: 'added',
      uid: newUid,
      workloadKind: 'StatefulSet',
      workloadName: 'db',
    });
    expect(
      reportsByUid(lines).get(pods.find((p) => p.metadata?.name === 'db-0')?.metadata?.uid ?? '')?.gone,
    ).toBe(false);
  });
});
