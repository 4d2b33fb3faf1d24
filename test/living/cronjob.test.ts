// A CronJob's Job pods, made by the CronJob and Job controllers and completed by kwok.
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, createNamespace } from '../helpers/cluster.ts';
import { reportsByUid, runPodSync, type RunningPodSync } from '../helpers/pod-sync.ts';
import { cronJob } from '../helpers/workloads.ts';
import { eventually } from '../../src/testing/index.ts';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const batch = kc.makeApiClient(BatchV1Api);
let sync: RunningPodSync | undefined;
afterAll(async () => {
  await sync?.stop();
});

describe('a CronJob on the living cluster', () => {
  it("resolves its Job's pod to the CronJob and reports it Succeeded", async () => {
    const namespace = await createNamespace('live-cron');
    sync = await runPodSync(kc, { namespace });
    const lines = sync.lines;
    // Every minute: the first Job starts at the next minute boundary, within 60 s.
    await batch.createNamespacedCronJob({ namespace, body: cronJob('report') });

    let uid = '';
    await eventually(
      async () => {
        const pods = (await core.listNamespacedPod({ namespace })).items;
        const done = pods.find((p) => p.status?.phase === 'Succeeded');
        uid = done?.metadata?.uid ?? '';
        return uid !== '';
      },
      90_000,
      500,
    );
    await eventually(
      async () => Promise.resolve(reportsByUid(lines).get(uid)?.last.phase === 'Succeeded'),
      30_000,
    );
    const report = reportsByUid(lines).get(uid);
    for (const line of report?.events.filter((l) => l.unresolvedOwnerKind === undefined) ?? []) {
      expect(line).toMatchObject({ workloadKind: 'CronJob', workloadName: 'report' });
    }
    expect(report?.last).toMatchObject({ workloadKind: 'CronJob', workloadName: 'report' });
    expect(report?.events[0]).toMatchObject({ event: 'added', uid });
    expect(await sync.metric('pod_sync_pods', { phase: 'Succeeded' })).toBeGreaterThanOrEqual(1);
  }, 150_000);
});
