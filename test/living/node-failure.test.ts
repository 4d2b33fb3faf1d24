// A node that stops being Ready, then is deleted: the node lifecycle controller taints it, the taint
// eviction controller evicts its pods, the ReplicaSet controller makes them again and the scheduler
// puts them on another node. The two nodes are the test's own (kwok manages any node carrying its
// annotation) and are tainted so that no other test's pods land on them.
import { randomBytes } from 'node:crypto';
import { AppsV1Api, CoreV1Api, type V1Node } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeNode, NODE_NOT_READY_LABEL, nodeSchedulable } from '../../hack/cluster/kwok.ts';
import { adminKubeConfig, createNamespace } from '../helpers/cluster.ts';
import { reportsByUid, runPodSync, type RunningPodSync } from '../helpers/pod-sync.ts';
import { deployment, rolledOut } from '../helpers/workloads.ts';
import { eventually } from '../../src/testing/index.ts';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
let sync: RunningPodSync | undefined;
afterAll(async () => {
  await sync?.stop();
});

const POOL = 'pod-sync-test/pool';

async function addNode(name: string, pool: string): Promise<void> {
  const node = fakeNode({ name, zone: `zone-${pool}`, labels: { [POOL]: pool } }) as V1Node;
  node.spec = { taints: [{ key: POOL, value: pool, effect: 'NoSchedule' }] };
  await core.createNode({ body: node });
  await eventually(async () => nodeSchedulable(await core.readNode({ name })), 30_000, 200);
}

describe('a node failing on the living cluster', () => {
  it('NotReady, then deleted: its pods evicted and made again elsewhere, all of it reported', async () => {
    const pool = randomBytes(3).toString('hex');
    const [first, second] = [`kwok-test-${pool}-a`, `kwok-test-${pool}-b`];
    const namespace = await createNamespace('live-node');
    sync = await runPodSync(kc, { namespace });
    const lines = sync.lines;

    await addNode(first, pool);
    // Only the first node exists yet, so every replica starts there.
    await apps.createNamespacedDeployment({
      namespace,
      body: deployment('web', 3, {
        nodeSelector: { [POOL]: pool },
        tolerations: [
          { key: POOL, operator: 'Equal', value: pool, effect: 'NoSchedule' },
          // Evicted 2 s after the node is NotReady, rather than DefaultTolerationSeconds' 30 s.
          {
            key: 'node.kubernetes.io/not-ready',
            operator: 'Exists',
            effect: 'NoExecute',
            tolerationSeconds: 2,
          },
        ],
      }),
    });
    const before = await rolledOut(apps, core, namespace, 'web');
    expect(before.map((p) => p.spec?.nodeName)).toEqual([first, first, first]);
    const oldUids = before.map((p) => p.metadata?.uid ?? '');
    await eventually(async () =>
      Promise.resolve(oldUids.every((u) => reportsByUid(lines).get(u)?.everReady)),
    );
    await addNode(second, pool);

    // kwok's node-not-ready Stage reports Ready=False while the label is on.
    await core.patchNode({
      name: first,
      body: [
        { op: 'add', path: `/metadata/labels/${NODE_NOT_READY_LABEL.replace('/', '~1')}`, value: 'true' },
      ],
    });
    await eventually(
      async () => {
        const node = await core.readNode({ name: first });
        return (node.spec?.taints ?? []).some(
          (t) => t.key === 'node.kubernetes.io/not-ready' && t.effect === 'NoExecute',
        );
      },
      30_000,
      200,
    );
    let after: Awaited<ReturnType<typeof rolledOut>> = [];
    await eventually(
      async () => {
        after = await rolledOut(apps, core, namespace, 'web');
        return after.every((p) => p.spec?.nodeName === second);
      },
      60_000,
      500,
    );
    await core.deleteNode({ name: first });
    await eventually(
      async () => (await core.listNode()).items.every((n) => n.metadata?.name !== first),
      30_000,
    );

    const newUids = after.map((p) => p.metadata?.uid ?? '');
    await eventually(async () => {
      const reports = reportsByUid(lines);
      return Promise.resolve(
        oldUids.every((u) => reports.get(u)?.gone) && newUids.every((u) => reports.get(u)?.everReady),
      );
    }, 30_000);
    const reports = reportsByUid(lines);
    for (const uid of oldUids) {
      expect(reports.get(uid)?.events.at(-1)).toMatchObject({
        event: 'deleted',
        node: first,
        workloadKind: 'Deployment',
        workloadName: 'web',
      });
    }
    for (const uid of newUids) {
      expect(reports.get(uid)?.last).toMatchObject({
        node: second,
        phase: 'Running',
        ready: true,
        workloadKind: 'Deployment',
        workloadName: 'web',
      });
      expect(reports.get(uid)?.gone).toBe(false);
    }
    expect(await sync.metric('pod_sync_pods', { phase: 'Running' })).toBe(3);
  }, 150_000);
});
