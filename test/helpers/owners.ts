// Owner chains for tests: custom resource definitions the tests install, custom objects, owner
// references between any two objects, and chains that the living cluster's controllers make.
import {
  ApiextensionsV1Api,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import { eventually } from '../../src/testing/index.ts';
import {
  cronJob,
  daemonSet,
  deployment,
  job,
  jobFromCronJob,
  podsOf,
  replicationController,
  statefulSet,
} from './workloads.ts';

/** A namespaced custom kind served at version v1, e.g. { group: 'alpha.example.com', kind: 'Widget' }. */
export interface CustomKind {
  group: string;
  kind: string;
  /** Lower-case plural; the kind lower-cased plus "s" by default. */
  plural?: string;
}

export function pluralOf(custom: CustomKind): string {
  return custom.plural ?? `${custom.kind.toLowerCase()}s`;
}

/** What an owner reference needs of an object as the API server returned it. */
export interface Owned {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; uid?: string };
}

/** An owner reference to `owner`; controller: true unless said otherwise (null leaves the field out). */
export function ownerRef(owner: Owned, controller: boolean | null = true): V1OwnerReference {
  const ref: V1OwnerReference = {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
  };
  if (controller !== null) ref.controller = controller;
  return ref;
}

/**
 * Installs the CRD and waits until the API server serves the kind: Established, and listed by
 * discovery at /apis/<group>/v1 (an informer or a RESTMapper sees it from then on).
 */
export async function installCrd(kc: KubeConfig, custom: CustomKind): Promise<void> {
  const plural = pluralOf(custom);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const name = `${plural}.${custom.group}`;
  await api.createCustomResourceDefinition({
    body: {
      metadata: { name },
      spec: {
        group: custom.group,
        scope: 'Namespaced',
        names: {
          kind: custom.kind,
          plural,
          singular: custom.kind.toLowerCase(),
          listKind: `${custom.kind}List`,
        },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
          },
        ],
      },
    },
  });
  await eventually(async () => {
    const crd = await api.readCustomResourceDefinition({ name });
    return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
  }, 30_000);
  const objects = kc.makeApiClient(CustomObjectsApi);
  await eventually(async () => {
    try {
      const list = (await objects.getAPIResources({ group: custom.group, version: 'v1' })) as {
        resources?: { name: string }[];
      };
      return (list.resources ?? []).some((r) => r.name === plural);
    } catch {
      return false;
    }
  }, 30_000);
}

/** Creates a custom object (spec {}) with the given owner references; returns it as the server did. */
export async function createCustom(
  kc: KubeConfig,
  custom: CustomKind,
  namespace: string,
  name: string,
  ownerReferences: V1OwnerReference[] = [],
): Promise<Owned> {
  const objects = kc.makeApiClient(CustomObjectsApi);
  return (await objects.createNamespacedCustomObject({
    group: custom.group,
    version: 'v1',
    namespace,
    plural: pluralOf(custom),
    body: {
      apiVersion: `${custom.group}/v1`,
      kind: custom.kind,
      metadata: { name, ...(ownerReferences.length > 0 ? { ownerReferences } : {}) },
      spec: {},
    },
  })) as Owned;
}

/** Sets a custom object's owner references (a JSON patch). */
export async function setCustomOwners(
  kc: KubeConfig,
  custom: CustomKind,
  namespace: string,
  name: string,
  ownerReferences: V1OwnerReference[],
): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject({
    group: custom.group,
    version: 'v1',
    namespace,
    plural: pluralOf(custom),
    name,
    body: [{ op: 'add', path: '/metadata/ownerReferences', value: ownerReferences }],
  });
}

/**
 * A pod whose controller chain runs through an object of `groupResource` (one of --owner-resources'
 * default kinds), made on the living cluster as in real use: the test makes the workload, its
 * controllers make the rest (Deployment -> ReplicaSet -> Pod, StatefulSet, DaemonSet on the kwok
 * nodes, Job, a Job made from a suspended CronJob as `kubectl create job --from` does,
 * ReplicationController). Waits for a pod that a controller made and returns its name, with the kind
 * of `groupResource` (e.g. ReplicaSet for "replicasets.apps", in a Deployment's chain).
 */
export async function chainThrough(
  kc: KubeConfig,
  namespace: string,
  groupResource: string,
): Promise<{ pod: string; kind: string }> {
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const name = groupResource.split('.')[0] ?? groupResource;
  let kind: string;
  switch (groupResource) {
    case 'replicasets.apps':
    case 'deployments.apps':
      await apps.createNamespacedDeployment({ namespace, body: deployment(name, 1) });
      kind = groupResource === 'deployments.apps' ? 'Deployment' : 'ReplicaSet';
      break;
    case 'statefulsets.apps':
      await apps.createNamespacedStatefulSet({ namespace, body: statefulSet(name, 1) });
      kind = 'StatefulSet';
      break;
    case 'daemonsets.apps':
      await apps.createNamespacedDaemonSet({ namespace, body: daemonSet(name) });
      kind = 'DaemonSet';
      break;
    case 'jobs.batch':
      await batch.createNamespacedJob({ namespace, body: job(name) });
      kind = 'Job';
      break;
    case 'cronjobs.batch': {
      // Suspended: the Job made from it is the only one.
      const body = cronJob(name, '0 3 * * *', true);
      const cron = await batch.createNamespacedCronJob({ namespace, body });
      await batch.createNamespacedJob({ namespace, body: jobFromCronJob(`${name}-manual`, cron) });
      kind = 'CronJob';
      break;
    }
    case 'replicationcontrollers':
      await core.createNamespacedReplicationController({ namespace, body: replicationController(name, 1) });
      kind = 'ReplicationController';
      break;
    default:
      throw new Error(`no chain for ${groupResource}`);
  }
  let pod = '';
  await eventually(
    async () => {
      const made = (await podsOf(core, namespace, name)).find(
        (p) => !p.metadata?.deletionTimestamp && p.metadata?.ownerReferences?.some((r) => r.controller),
      );
      pod = made?.metadata?.name ?? '';
      return pod !== '';
    },
    60_000,
    200,
  );
  return { pod, kind };
}
