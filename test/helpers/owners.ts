// Owner chains for tests: custom resource definitions the tests install, custom objects, and owner
// references between any two objects.
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

const PAUSE_SPEC = { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] };
/** Labels no pod of a chain carries, so that a controller manager, where one runs, has nothing to adopt. */
const SELECTOR = { matchLabels: { 'pod-sync-operator/chain': 'none' } };
const TEMPLATE = { metadata: { labels: SELECTOR.matchLabels }, spec: PAUSE_SPEC };

/**
 * A pod whose controller chain runs through an object of `groupResource` (one of --owner-resources'
 * default kinds), all made by the admin: e.g. for "deployments.apps", Deployment -> ReplicaSet -> Pod.
 * The workload objects are scaled to zero, paused or suspended. Returns the pod's name and the kind.
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
  let top: Owned;
  let owner: Owned;
  switch (groupResource) {
    case 'replicasets.apps':
    case 'deployments.apps': {
      const deployment =
        groupResource === 'deployments.apps'
          ? await apps.createNamespacedDeployment({
              namespace,
              body: {
                metadata: { name },
                spec: { paused: true, replicas: 0, selector: SELECTOR, template: TEMPLATE },
              },
            })
          : undefined;
      owner = await apps.createNamespacedReplicaSet({
        namespace,
        body: {
          metadata: { name: `${name}-rs`, ownerReferences: deployment ? [ownerRef(deployment)] : [] },
          spec: { replicas: 0, selector: SELECTOR, template: TEMPLATE },
        },
      });
      top = deployment ?? owner;
      break;
    }
    case 'statefulsets.apps':
      owner = top = await apps.createNamespacedStatefulSet({
        namespace,
        body: {
          metadata: { name },
          spec: { replicas: 0, serviceName: name, selector: SELECTOR, template: TEMPLATE },
        },
      });
      break;
    case 'daemonsets.apps':
      owner = top = await apps.createNamespacedDaemonSet({
        namespace,
        body: {
          metadata: { name },
          spec: {
            selector: SELECTOR,
            template: {
              ...TEMPLATE,
              spec: { ...PAUSE_SPEC, nodeSelector: { 'pod-sync-operator/no-such': 'node' } },
            },
          },
        },
      });
      break;
    case 'jobs.batch':
    case 'cronjobs.batch': {
      const jobSpec = { suspend: true, template: { spec: { ...PAUSE_SPEC, restartPolicy: 'Never' } } };
      const cronJob =
        groupResource === 'cronjobs.batch'
          ? await batch.createNamespacedCronJob({
              namespace,
              body: {
                metadata: { name },
                spec: { schedule: '0 3 * * *', suspend: true, jobTemplate: { spec: jobSpec } },
              },
            })
          : undefined;
      owner = await batch.createNamespacedJob({
        namespace,
        body: {
          metadata: { name: `${name}-job`, ownerReferences: cronJob ? [ownerRef(cronJob)] : [] },
          spec: jobSpec,
        },
      });
      top = cronJob ?? owner;
      break;
    }
    case 'replicationcontrollers':
      owner = top = await core.createNamespacedReplicationController({
        namespace,
        body: {
          metadata: { name },
          spec: { replicas: 0, selector: SELECTOR.matchLabels, template: TEMPLATE },
        },
      });
      break;
    default:
      throw new Error(`no chain for ${groupResource}`);
  }
  const pod = `${name}-pod`;
  await core.createNamespacedPod({
    namespace,
    body: { metadata: { name: pod, ownerReferences: [ownerRef(owner)] }, spec: PAUSE_SPEC },
  });
  return { pod, kind: top.kind ?? '' };
}
