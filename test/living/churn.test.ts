// Churn on a living cluster of this file's own, while its API server restarts and etcd compacts at
// random; then quiet, and the operator's view must equal a LIST. Seeded: CHURN_SEED=<n> replays a run's
// choices (not its timing), and a failure names its seed.
import { randomInt } from 'node:crypto';
import type { AppsV1Api, CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { createNamespace, ownControlPlane } from '../helpers/cluster.ts';
import { latestByKey, reportsByUid, runPodSync, type RunningPodSync } from '../helpers/pod-sync.ts';
import { deployment, statefulSet } from '../helpers/workloads.ts';
import { eventually } from '../../src/testing/index.ts';

const CHURN_MS = 45_000;
const QUIET_TIMEOUT_MS = 50_000;
const seed = process.env.CHURN_SEED ? Number(process.env.CHURN_SEED) : randomInt(2 ** 31);

/** mulberry32: a small seeded generator, so that a seed replays the same choices. */
function generator(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Workload {
  namespace: string;
  kind: 'Deployment' | 'StatefulSet';
  name: string;
}

describe('churn on a living cluster with API-server restarts and etcd compactions', () => {
  const cluster = ownControlPlane({ living: true });
  let sync: RunningPodSync | undefined;
  afterAll(async () => {
    await sync?.stop();
  });

  it('ends with the operator reporting exactly what a LIST shows', async (ctx) => {
    onTestFailed(() => {
      console.error(`churn failed with seed ${seed}: rerun with CHURN_SEED=${seed}`);
    });
    const random = generator(seed);
    const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
    const log: string[] = [];
    // While the API server is down every call fails: churn goes on, faults are part of the test.
    const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
        log.push(what);
      } catch (err) {
        log.push(`${what} failed: ${(err as { code?: number }).code ?? (err as Error).message}`);
      }
    };

    sync = await runPodSync(cluster.kc);
    const workloads: Workload[] = [];
    const populate = async (namespace: string): Promise<void> => {
      for (const name of ['web', 'api']) {
        await cluster.apps.createNamespacedDeployment({
          namespace,
          body: deployment(name, 1 + Math.floor(random() * 3)),
        });
        workloads.push({ namespace, kind: 'Deployment', name });
      }
      await cluster.apps.createNamespacedStatefulSet({
        namespace,
        body: statefulSet('db', 1 + Math.floor(random() * 3), 'Parallel'),
      });
      workloads.push({ namespace, kind: 'StatefulSet', name: 'db' });
    };
    for (let i = 0; i < 3; i++) await populate(await createNamespace('churn', cluster.kc));

    const deadline = Date.now() + CHURN_MS;
    // Faults on their own clock: a restart every 8-20 s, a compaction every 3-10 s.
    const faults = (async () => {
      let nextRestart = Date.now() + 8_000 + random() * 12_000;
      let nextCompact = Date.now() + 3_000 + random() * 7_000;
      while (Date.now() < deadline) {
        await sleep(250);
        if (Date.now() >= nextRestart) {
          await attempt('restart kube-apiserver', () => cluster.cp.restartApiServer());
          nextRestart = Date.now() + 8_000 + random() * 12_000;
        }
        if (Date.now() >= nextCompact) {
          await attempt('compact etcd', () => cluster.cp.compactEtcd());
          nextCompact = Date.now() + 3_000 + random() * 7_000;
        }
      }
    })();
    let namespacesDeleted = 0;
    while (Date.now() < deadline) {
      const w = pick(workloads);
      const roll = random();
      if (!w) break;
      const patch = (path: string, value: unknown) => [{ op: 'replace', path, value }];
      if (roll < 0.35) {
        const replicas = Math.floor(random() * 5);
        await attempt(`scale ${w.namespace}/${w.name} to ${replicas}`, () =>
          w.kind === 'Deployment'
            ? cluster.apps.patchNamespacedDeploymentScale({
                namespace: w.namespace,
                name: w.name,
                body: patch('/spec/replicas', replicas),
              })
            : cluster.apps.patchNamespacedStatefulSetScale({
                namespace: w.namespace,
                name: w.name,
                body: patch('/spec/replicas', replicas),
              }),
        );
      } else if (roll < 0.6) {
        const body = [
          {
            op: 'add',
            path: '/spec/template/metadata/annotations',
            value: { 'churn/rev': String(random()) },
          },
        ];
        await attempt(`roll ${w.namespace}/${w.name}`, () =>
          w.kind === 'Deployment'
            ? cluster.apps.patchNamespacedDeployment({ namespace: w.namespace, name: w.name, body })
            : cluster.apps.patchNamespacedStatefulSet({ namespace: w.namespace, name: w.name, body }),
        );
      } else if (roll < 0.9) {
        await attempt(`delete a pod of ${w.namespace}/${w.name}`, async () => {
          const pods = (
            await cluster.core.listNamespacedPod({ namespace: w.namespace, labelSelector: `app=${w.name}` })
          ).items;
          const victim = pick(pods);
          if (victim?.metadata?.name)
            await cluster.core.deleteNamespacedPod({ namespace: w.namespace, name: victim.metadata.name });
        });
      } else if (namespacesDeleted < 2) {
        namespacesDeleted++;
        const gone = w.namespace;
        workloads.splice(0, workloads.length, ...workloads.filter((x) => x.namespace !== gone));
        await attempt(`delete namespace ${gone}`, () => cluster.core.deleteNamespace({ name: gone }));
        await attempt('make a namespace', async () => populate(await createNamespace('churn', cluster.kc)));
      }
      await sleep(100 + random() * 400);
    }
    await faults;

    // Quiet: the controllers finish, then the operator must have caught up with the API server.
    let diff: string[] = [];
    const running = sync;
    try {
      await eventually(
        async () => {
          diff = await compare(cluster.core, cluster.apps, running);
          return diff.length === 0;
        },
        QUIET_TIMEOUT_MS,
        1_000,
      );
    } catch {
      throw new Error(
        `seed ${seed}: the operator's view differs from a LIST:\n${diff.slice(0, 30).join('\n')}\nactions:\n${log.slice(-20).join('\n')}`,
      );
    }
    expect(diff).toEqual([]);
    const done = (prefix: string) => log.filter((l) => l.startsWith(prefix) && !l.includes('failed')).length;
    await ctx.annotate(
      `churn seed ${seed}: ${done('scale')} scales, ${done('roll')} rollouts, ${done('delete a pod')} pod and ` +
        `${done('delete namespace')} namespace deletions, ${done('restart')} API-server restarts, ` +
        `${done('compact')} compactions, ${log.filter((l) => l.includes('failed')).length} calls refused; ` +
        `${reportsByUid(running.lines).size} pods reported`,
    );
    expect(done('restart kube-apiserver')).toBeGreaterThan(0);
    expect(done('compact etcd')).toBeGreaterThan(0);
  }, 150_000);
});

/** Every difference between the operator's reports and the cluster as a LIST shows it now. */
async function compare(core: CoreV1Api, apps: AppsV1Api, sync: RunningPodSync): Promise<string[]> {
  const [pods, replicaSets] = await Promise.all([
    core.listPodForAllNamespaces(),
    apps.listReplicaSetForAllNamespaces(),
  ]);
  const rsOwner = new Map(
    replicaSets.items.map((rs) => [
      `${rs.metadata?.namespace}/${rs.metadata?.name}`,
      rs.metadata?.ownerReferences?.find((o) => o.controller),
    ]),
  );
  const expectedWorkload = (pod: V1Pod): { kind: string; name: string } => {
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
    if (!owner) return { kind: 'none', name: '' };
    if (owner.kind !== 'ReplicaSet') return { kind: owner.kind, name: owner.name };
    const parent = rsOwner.get(`${pod.metadata?.namespace}/${owner.name}`);
    return parent ? { kind: parent.kind, name: parent.name } : { kind: owner.kind, name: owner.name };
  };
  const diff: string[] = [];
  const latest = latestByKey(sync.lines);
  const existing = new Set<string>();
  const byPhase = new Map<string, number>();
  for (const pod of pods.items) {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const uid = pod.metadata?.uid ?? '';
    const phase = pod.status?.phase ?? 'Unknown';
    existing.add(uid);
    byPhase.set(phase, (byPhase.get(phase) ?? 0) + 1);
    const workload = expectedWorkload(pod);
    const seen = latest.get(key);
    if (!seen || seen.event === 'deleted') diff.push(`${key} (${uid}, ${phase}) exists but is not reported`);
    else if (seen.uid !== uid) diff.push(`${key}: reported uid ${String(seen.uid)}, is ${uid}`);
    else if (seen.phase !== phase) diff.push(`${key}: reported ${String(seen.phase)}, is ${phase}`);
    else if (seen.workloadKind !== workload.kind || seen.workloadName !== workload.name)
      diff.push(
        `${key}: reported ${String(seen.workloadKind)}/${String(seen.workloadName)}, is ${workload.kind}/${workload.name}`,
      );
  }
  for (const [uid, report] of reportsByUid(sync.lines)) {
    if (!existing.has(uid) && !report.gone)
      diff.push(`${report.key} (${uid}) is gone but not reported deleted`);
  }
  for (const phase of ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']) {
    const metric = await sync.metric('pod_sync_pods', { phase });
    if (metric !== (byPhase.get(phase) ?? 0))
      diff.push(`pod_sync_pods{phase="${phase}"} is ${metric}, the LIST has ${byPhase.get(phase) ?? 0}`);
  }
  return diff;
}
