// Owner churn, as between an owner's deletion and garbage collection: pods made, deleted, made again
// under the same name, given new phases and readiness, half of them owned by ReplicaSets that are
// deleted and made again underneath them, in three namespaces, with API-server restarts and etcd
// compactions at random. Then every pod's last reported state (log lines, metrics) must equal a LIST.
// A control plane of this file's own: bare (no garbage collector would leave the orphans alone) and
// with the watch cache off, so that a watch from a compacted resourceVersion gets its 410.
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod, type V1ReplicaSet } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../hack/cluster/control-plane.ts';
import { podManifest } from '../helpers/cluster.ts';
import { startOperator, type OperatorProcess } from '../helpers/operator.ts';
import { ownerRef, type Owned } from '../helpers/owners.ts';
import { runningStatus, setPodStatus } from '../helpers/pods.ts';
import { metricsText } from '../helpers/metrics.ts';
import { lastReported, type ReportedPod } from '../helpers/reports.ts';
import { metricSum } from '../../src/testing/index.ts';

const NAMESPACES = ['churn-a', 'churn-b', 'churn-c'];
const PODS_PER_NAMESPACE = 16;
const REPLICA_SETS = ['rs-0', 'rs-1'];
const CHURN_MS = 45_000;
const WORKERS = 4;
const FAULTS = 3;

/** mulberry32: a small seeded PRNG, so that a failing run can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ignore = () => undefined;

let cp: ControlPlane;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let op: OperatorProcess | undefined;

beforeAll(async () => {
  cp = await ControlPlane.start({ extraApiServerArgs: ['--watch-cache=false'] });
  kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
}, 120_000);
afterAll(async () => {
  await op?.stop('SIGKILL');
  await cp.stop();
});

const TEMPLATE = {
  metadata: { labels: { app: 'churn' } },
  spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
};

function replicaSetBody(name: string, deployment: Owned): V1ReplicaSet {
  return {
    metadata: { name, ownerReferences: [ownerRef(deployment)] },
    spec: { selector: { matchLabels: { app: 'churn' } }, template: TEMPLATE },
  };
}

/** What the operator should have reported last, from the API server's own state. */
async function expectedState(): Promise<Map<string, ReportedPod>> {
  const expected = new Map<string, ReportedPod>();
  for (const namespace of NAMESPACES) {
    const [pods, replicaSets, deployments] = await Promise.all([
      core.listNamespacedPod({ namespace }),
      apps.listNamespacedReplicaSet({ namespace }),
      apps.listNamespacedDeployment({ namespace }),
    ]);
    const rsByUid = new Map(replicaSets.items.map((rs) => [rs.metadata?.uid, rs]));
    const deploymentUids = new Set(deployments.items.map((d) => d.metadata?.uid));
    for (const p of pods.items) {
      const ref = p.metadata?.ownerReferences?.find((r) => r.controller === true);
      let workload: ReportedPod['workload'] = { kind: 'none', name: '' };
      if (ref) {
        const rs = rsByUid.get(ref.uid);
        const parent = rs?.metadata?.ownerReferences?.find((r) => r.controller === true);
        if (!rs) {
          workload = {
            kind: ref.kind,
            name: ref.name,
            unresolved: { kind: ref.kind, name: ref.name, uid: ref.uid },
          };
        } else if (parent && deploymentUids.has(parent.uid)) {
          workload = { kind: parent.kind, name: parent.name };
        } else {
          throw new Error(`unexpected chain for ${namespace}/${p.metadata?.name}`);
        }
      }
      expected.set(`${namespace}/${p.metadata?.name}`, {
        uid: p.metadata?.uid ?? '',
        phase: p.status?.phase ?? 'Unknown',
        ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
        workload,
      });
    }
  }
  return expected;
}

function differences(reported: Map<string, ReportedPod>, expected: Map<string, ReportedPod>): string[] {
  const out: string[] = [];
  for (const [key, want] of expected) {
    const got = reported.get(key);
    if (JSON.stringify(got) !== JSON.stringify(want))
      out.push(`${key}: reported ${JSON.stringify(got)}, listed ${JSON.stringify(want)}`);
  }
  for (const [key, got] of reported)
    if (!expected.has(key)) out.push(`${key}: reported ${JSON.stringify(got)}, not listed`);
  return out;
}

describe('every pod reported whatever its owners, through owner churn and faults', () => {
  it('ends with every pod last reported as a LIST shows it', async () => {
    const seed = Number(process.env.OWNER_CHURN_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`owner churn seed ${seed} (replay: OWNER_CHURN_SEED=${seed})`);
    // Each worker and the fault injector draw from their own sequence, so that a seed replays each
    // one's choices whatever the interleaving.
    const picker =
      (random: () => number) =>
      <T>(items: readonly T[]): T =>
        items[Math.floor(random() * items.length)] as T;

    const deployments = new Map<string, Owned>();
    const replicaSets = new Map<string, Owned>();
    for (const namespace of NAMESPACES) {
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      const deployment = await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: 'app' },
          spec: { selector: { matchLabels: { app: 'churn' } }, template: TEMPLATE },
        },
      });
      deployments.set(namespace, deployment);
      for (const name of REPLICA_SETS) {
        const rs = await apps.createNamespacedReplicaSet({
          namespace,
          body: replicaSetBody(name, deployment),
        });
        replicaSets.set(`${namespace}/${name}`, rs);
      }
    }

    op = startOperator(['--kubeconfig', cp.kubeconfigPath, '--retry-base-delay=50ms', '--log-level=info']);
    await op.waitFor((l) => l.msg === 'caches synced, starting workers', 30_000);

    const counts = { creates: 0, deletes: 0, statuses: 0, remade: 0, failed: 0, faults: [] as string[] };
    const deadline = Date.now() + CHURN_MS;
    const step = async (random: () => number): Promise<void> => {
      const pick = picker(random);
      const namespace = pick(NAMESPACES);
      const name = `p-${Math.floor(random() * PODS_PER_NAMESPACE)}`;
      const roll = random();
      if (roll < 0.35) {
        const body: V1Pod = podManifest(name);
        if (random() < 0.5) {
          const rs = replicaSets.get(`${namespace}/${pick(REPLICA_SETS)}`);
          if (rs) body.metadata = { name, ownerReferences: [ownerRef(rs)] };
        }
        await core.createNamespacedPod({ namespace, body });
        counts.creates++;
      } else if (roll < 0.55) {
        await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
        counts.deletes++;
      } else if (roll < 0.9) {
        const phase = random();
        const status =
          phase < 0.8
            ? runningStatus(random() < 0.5, Math.floor(random() * 3))
            : { phase: phase < 0.9 ? 'Succeeded' : 'Failed', conditions: [] };
        await setPodStatus(core, namespace, name, status);
        counts.statuses++;
      } else {
        // The ReplicaSet is deleted and made again under its pods: they keep the old uid.
        const rsName = pick(REPLICA_SETS);
        await apps.deleteNamespacedReplicaSet({ namespace, name: rsName }).catch(ignore);
        const deployment = deployments.get(namespace);
        if (!deployment) return;
        const rs = await apps.createNamespacedReplicaSet({
          namespace,
          body: replicaSetBody(rsName, deployment),
        });
        replicaSets.set(`${namespace}/${rsName}`, rs);
        counts.remade++;
      }
    };
    const worker = async (index: number): Promise<void> => {
      const random = prng(seed + index + 1);
      while (Date.now() < deadline) {
        // Conflicts, missing pods, refused status changes and a down API server are all part of churn.
        await step(random).catch(() => {
          counts.failed++;
        });
        await sleep(random() * 20);
      }
    };
    const faults = async (): Promise<void> => {
      const random = prng(seed);
      const times = Array.from({ length: FAULTS }, () => 3_000 + random() * (CHURN_MS - 10_000)).sort(
        (a, b) => a - b,
      );
      const started = Date.now();
      for (const at of times) {
        await sleep(Math.max(0, started + at - Date.now()));
        if (random() < 0.5) {
          counts.faults.push(`restart@${Math.round(at)}ms`);
          await cp.restartApiServer();
        } else {
          counts.faults.push(`compact@${Math.round(at)}ms`);
          await cp.compactEtcd();
        }
      }
    };
    await Promise.all([...Array.from({ length: WORKERS }, (_, i) => worker(i)), faults()]);

    // Quiet now: the operator must converge on the API server's state.
    const converge = Date.now() + 30_000;
    let expected = await expectedState();
    let diff = differences(lastReported(op.lines), expected);
    while (diff.length > 0 && Date.now() < converge) {
      await sleep(500);
      expected = await expectedState();
      diff = differences(lastReported(op.lines), expected);
    }
    const summary = `seed ${seed}: ${JSON.stringify(counts)}, ${expected.size} pods at the end`;
    console.log(
      `${summary}; dropped keys ${op.lines.filter((l) => l.msg === 'dropping key out of the queue after its last retry').length}`,
    );
    expect(diff, summary).toEqual([]);

    const text = await metricsText((await op.addresses()).metrics);
    const byPhase = new Map<string, number>();
    for (const pod of expected.values()) byPhase.set(pod.phase, (byPhase.get(pod.phase) ?? 0) + 1);
    for (const phase of ['Pending', 'Running', 'Succeeded', 'Failed'])
      expect(metricSum(text, 'pod_sync_pods', { phase }), `${summary}: pods ${phase}`).toBe(
        byPhase.get(phase) ?? 0,
      );
    const unresolved = [...expected.values()].filter((p) => p.workload.unresolved).length;
    expect(
      metricSum(text, 'pod_sync_unresolved_owner_pods', { group: 'apps', kind: 'ReplicaSet' }),
      `${summary}: unresolved`,
    ).toBe(unresolved);
    expect(counts.remade, summary).toBeGreaterThan(3);
    expect(
      unresolved + [...expected.values()].filter((p) => p.workload.kind === 'Deployment').length,
    ).toBeGreaterThan(0);
  }, 120_000);
});
