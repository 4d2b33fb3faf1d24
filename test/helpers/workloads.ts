// Workloads for the living cluster, where kube-controller-manager makes their pods, kube-scheduler
// binds them and kwok runs them: no image is pulled, a bound pod is Running and Ready at once, a Job's
// pod Succeeds, and a deleted pod is gone as soon as it is marked.
import type {
  AppsV1Api,
  CoreV1Api,
  V1CronJob,
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1Pod,
  V1PodSpec,
  V1ReplicationController,
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

/** `suspend` stops it from making Jobs on its schedule; Jobs made from it by hand still run. */
export function cronJob(name: string, schedule = '* * * * *', suspend = false): V1CronJob {
  return {
    metadata: { name },
    spec: {
      schedule,
      ...(suspend ? { suspend } : {}),
      jobTemplate: {
        spec: {
          template: { metadata: { labels: { app: name } }, spec: podSpec({ restartPolicy: 'Never' }) },
        },
      },
    },
  };
}

/** One pod on every node: the living cluster's three kwok nodes. */
export function daemonSet(name: string): V1DaemonSet {
  const labels = { app: name };
  return {
    metadata: { name },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec() } },
  };
}

/** One pod, which kwok runs to Succeeded; the Job controller labels it and selects it by its uid. */
export function job(name: string): V1Job {
  return {
    metadata: { name },
    spec: {
      template: { metadata: { labels: { app: name } }, spec: podSpec({ restartPolicy: 'Never' }) },
    },
  };
}

/**
 * The Job `kubectl create job <name> --from=cronjob/<cron>` makes (kubectl's create_job.go,
 * createJobFromCronJob): the CronJob's job template, annotated as made by hand, controlled by the
 * CronJob.
 */
export function jobFromCronJob(name: string, cron: V1CronJob): V1Job {
  const template = cron.spec.jobTemplate;
  return {
    metadata: {
      name,
      annotations: { 'cronjob.kubernetes.io/instantiate': 'manual', ...template.metadata?.annotations },
      ...(template.metadata?.labels ? { labels: template.metadata.labels } : {}),
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name: cron.metadata?.name ?? '',
          uid: cron.metadata?.uid ?? '',
          controller: true,
        },
      ],
    },
    ...(template.spec ? { spec: template.spec } : {}),
  };
}

export function replicationController(name: string, replicas: number): V1ReplicationController {
  const labels = { app: name };
  return {
    metadata: { name },
    spec: { replicas, selector: labels, template: { metadata: { labels }, spec: podSpec() } },
  };
}

/** Pods matching app=<app> in the namespace, as the API server lists them now. */
export async function podsOf(core: CoreV1Api, namespace: string, app: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
}

/** Exactly `want` pods, none terminating, every one Ready. */
function allReady(pods: readonly V1Pod[], want: number): boolean {
  return pods.length === want && pods.every((p) => !p.metadata?.deletionTimestamp && isReady(p));
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
      return allReady(pods, want);
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
      return allReady(pods, want);
    },
    timeoutMs,
    200,
  );
  return pods;
}

export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
