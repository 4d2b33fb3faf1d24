import type { KubeObject, ObjectMeta } from '../../informers/index.ts';

export type OwnerReference = NonNullable<ObjectMeta['ownerReferences']>[number];

/** The owner the walk stopped at because it is not in the cache: its reference, as the dependent has it. */
export interface UnresolvedOwner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  /** Why: "not in the cache", "cached under another uid", "cache not synced yet", ... */
  reason: string;
  /**
   * True while the owner's kind is still being looked up or its cache has not listed yet: the kind's
   * settling syncs the pod again, so the sync does not fail (client-go's controllers do not run
   * before their caches have synced; a failure here would spend the retries meant for the owner).
   */
  settling: boolean;
}

/**
 * The top of a pod's controller chain as far as the caches tell: Deployment, CronJob, a custom kind,
 * ..., or `none` for a pod without a controller. With `unresolved`, the walk stopped at that owner
 * (kind and name are then its own): the workload may be higher up.
 */
export interface Workload {
  kind: string;
  name: string;
  unresolved?: UnresolvedOwner;
}

export const NO_WORKLOAD: Workload = Object.freeze({ kind: 'none', name: '' });

/** What the owner caches answer for one owner reference. */
export type OwnerLookup =
  | { state: 'cached'; owner: KubeObject }
  /**
   * Its kind is watched, but no object with that uid is cached (yet); `settling` while the kind is
   * being looked up or its cache has not listed: OwnerCaches reports the kind changed once it has.
   */
  | { state: 'missing'; reason: string; settling: boolean }
  /** Its kind is not watched (outside --owner-resources, or listing it is refused): the top, no lookup. */
  | { state: 'unwatched' };

export interface OwnerLookups {
  /** Looks the owner up in the caches only; `namespace` is the dependent's ('' when cluster-scoped). */
  lookup(ref: OwnerReference, namespace: string): OwnerLookup;
}

export interface Resolution {
  workload: Workload;
  /** Set when owner references loop: the owners from the first repeated one to the last before it. */
  cycle?: OwnerReference[];
}

/** A pod's owner is not in its synced cache: its sync is retried with backoff, its report does not wait. */
export class OwnerNotCachedError extends Error {
  override name = 'OwnerNotCachedError';
}

/** The managing controller, as apimachinery's GetControllerOf: the owner reference with controller true. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/**
 * Walks a pod's controller references up through the owner caches, any kinds, any depth, to the
 * first owner without a controller (the workload), an owner whose kind is not watched (the workload,
 * unlooked-up), or an owner missing from the cache (the workload, unresolved). An owner reference
 * matches only the cached object with its uid: one made again under the same name is another object.
 * A cycle stops the walk at the last owner before the repeat. Reads caches only, never the API.
 */
export function resolveWorkload(pod: KubeObject, owners: OwnerLookups): Resolution {
  let ref = controllerOf(pod);
  if (!ref) return { workload: NO_WORKLOAD };
  const chain: OwnerReference[] = [];
  const seen = new Set<string>([pod.metadata?.uid ?? '']);
  let namespace = pod.metadata?.namespace ?? '';
  for (;;) {
    if (seen.has(ref.uid)) {
      const last = chain.at(-1) ?? ref;
      const from = chain.findIndex((r) => r.uid === ref?.uid);
      return { workload: { kind: last.kind, name: last.name }, cycle: chain.slice(Math.max(from, 0)) };
    }
    seen.add(ref.uid);
    chain.push(ref);
    const found = owners.lookup(ref, namespace);
    if (found.state === 'unwatched') return { workload: { kind: ref.kind, name: ref.name } };
    if (found.state === 'missing') {
      const { apiVersion, kind, name, uid } = ref;
      const { reason, settling } = found;
      return { workload: { kind, name, unresolved: { apiVersion, kind, name, uid, reason, settling } } };
    }
    const parent = controllerOf(found.owner);
    if (!parent) return { workload: { kind: ref.kind, name: ref.name } };
    namespace = found.owner.metadata?.namespace ?? '';
    ref = parent;
  }
}

/** Index function of the pods: the uids of all their owners, so an owner's arrival finds its pods. */
export function ownerUids(obj: KubeObject): string[] {
  return (obj.metadata?.ownerReferences ?? []).map((ref) => ref.uid);
}

/** Index function of the owner caches: the uid of the object's controller, to walk down from an owner. */
export function controllerUid(obj: KubeObject): string[] {
  const ref = controllerOf(obj);
  return ref ? [ref.uid] : [];
}

/** Same top, same resolution: nothing new to report. */
export function sameWorkload(a: Workload, b: Workload): boolean {
  return a.kind === b.kind && a.name === b.name && a.unresolved?.uid === b.unresolved?.uid;
}
