// Workloads for the living cluster, where kube-controller-manager makes their pods, kube-scheduler
// binds them and kwok runs them: no image is pulled, a bound pod is Running and Ready at once, a Job's
// pod Succeeds, and a deleted pod is gone as soon as it is marked.
import type {
  AppsV1Api,
  CoreV1Api,
  V1CronJob,
  V1Deployment,
  V1Pod,
  V1PodSpec,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { eventually } from '../../src/testing/index.ts';

export function podSpec(extra: Partial<V1PodSpec> = {}): V1PodSpec {
  return {
    containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }],
    ...extra,
  };
}

export function deployment(name: string, replicas: number, spec: Partial<V1PodSpec> = {}): V1Deployment {
  const labels = { app: name };
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: podSpec(spec) },
    },
  };
}

/** `Parallel` makes and deletes its pods all at once rather than one by one in order. */
export function statefulSet(
  name: string,
  replicas: number,
  podManagementPolicy: 'OrderedReady' | 'Parallel' = 'OrderedReady',
): V1StatefulSet {
  const labels = { app: name };
  return {
    metadata: { name },
    spec: {
      replicas,
      podManagementPolicy,
      serviceName: name,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: podSpec() },
    },
  };
}

export function cronJob(name: string, schedule = '* * * * *'): V1CronJob {
  return {
    metadata: { name },
    spec: {
      schedule,
      jobTemplate: { spec: { template: { spec: podSpec({ restartPolicy: 'Never' }) } } },
    },
  };
}

/** Pods matching app=<app> in the namespace, as the API server lists them now. */
export async function podsOf(core: CoreV1Api, namespace: string, app: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
}

/**
 * Waits until the Deployment's controller has observed its latest spec and every replica is updated,
 * ready and the only one left (what `kubectl rollout status` waits for), and returns its pods.
 */
export async function rolledOut(
  apps: AppsV1Api,
  core: CoreV1Api,
  namespace: string,
  name: string,
  timeoutMs = 60_000,
): Promise<V1Pod[]> {
  let pods: V1Pod[] = [];
  await eventually(
    async () => {
      const d = await apps.readNamespacedDeployment({ namespace, name });
      const want = d.spec?.replicas ?? 1;
      const s = d.status ?? {};
      if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return false;
      if ((s.updatedReplicas ?? 0) !== want || (s.readyReplicas ?? 0) !== want) return false;
      if ((s.replicas ?? 0) !== want) return false;
      pods = await podsOf(core, namespace, name);
      return pods.length === want && pods.every((p) => !p.metadata?.deletionTimestamp && isReady(p));
    },
    timeoutMs,
    200,
  );
  return pods;
}

/** Waits until the StatefulSet has all its replicas ready at its current revision. */
export async function statefulSetReady(
  apps: AppsV1Api,
  core: CoreV1Api,
  namespace: string,
  name: string,
  timeoutMs = 60_000,
): Promise<V1Pod[]> {
  let pods: V1Pod[] = [];
  await eventually(
    async () => {
      const s = await apps.readNamespacedStatefulSet({ namespace, name });
      const want = s.spec?.replicas ?? 1;
      if ((s.status?.observedGeneration ?? 0) < (s.metadata?.generation ?? 0)) return false;
      if ((s.status?.readyReplicas ?? 0) !== want || (s.status?.replicas ?? 0) !== want) return false;
      pods = await podsOf(core, namespace, name);
      return pods.length === want && pods.every((p) => !p.metadata?.deletionTimestamp && isReady(p));
    },
    timeoutMs,
    200,
  );
  return pods;
}

export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
