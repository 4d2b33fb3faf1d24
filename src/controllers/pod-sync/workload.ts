import type { KubeObject, ObjectMeta } from '../../informers/types.ts';
import type { Store } from '../../informers/store.ts';

export type OwnerReference = NonNullable<ObjectMeta['ownerReferences']>[number];

/** The object at the top of a pod's ownership chain: Deployment, CronJob, StatefulSet, ..., or the pod alone. */
export interface Workload {
  kind: string;
  name: string;
}

export const NO_WORKLOAD: Workload = { kind: 'none', name: '' };

/** An owner the pod names is not in our cache (yet): the sync fails and is retried with backoff. */
export class OwnerNotCachedError extends Error {
  override name = 'OwnerNotCachedError';
}

export interface OwnerCaches {
  replicaSets: Store<KubeObject>;
  jobs: Store<KubeObject>;
}

/** The managing controller, as client-go's GetControllerOf: the owner reference marked controller. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/**
 * Walks Pod -> ReplicaSet -> Deployment and Pod -> Job -> CronJob through the caches; StatefulSet,
 * DaemonSet and other owners are the workload themselves. Reads caches only, never the API.
 */
export function resolveWorkload(pod: KubeObject, caches: OwnerCaches): Workload {
  const owner = controllerOf(pod);
  if (!owner) return NO_WORKLOAD;
  const namespace = pod.metadata?.namespace ?? '';
  const intermediate =
    owner.kind === 'ReplicaSet' && owner.apiVersion.startsWith('apps/')
      ? { store: caches.replicaSets, parentKind: 'Deployment' }
      : owner.kind === 'Job' && owner.apiVersion.startsWith('batch/')
        ? { store: caches.jobs, parentKind: 'CronJob' }
        : undefined;
  if (!intermediate) return { kind: owner.kind, name: owner.name };

  const cached = intermediate.store.get(`${namespace}/${owner.name}`);
  // Same name, other uid: the owner was recreated and our cache still holds the old one.
  if (cached?.metadata?.uid !== owner.uid) {
    throw new OwnerNotCachedError(
      `${owner.kind} ${namespace}/${owner.name} (uid ${owner.uid}) that owns the pod is not in the cache yet`,
    );
  }
  const parent = controllerOf(cached);
  if (parent?.kind === intermediate.parentKind) return { kind: parent.kind, name: parent.name };
  return { kind: owner.kind, name: owner.name };
}

/** Index function: the uids of a pod's owners, so an owner's arrival finds the pods waiting for it. */
export function ownerUids(obj: KubeObject): string[] {
  return (obj.metadata?.ownerReferences ?? []).map((ref) => ref.uid);
}
