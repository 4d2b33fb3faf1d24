export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  deletionTimestamp?: Date | string;
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** A delete whose final state was missed (found gone on relist): obj is the last known state and may be stale. */
export interface Tombstone<T> {
  readonly kind: 'Tombstone';
  readonly key: string;
  readonly obj: T;
}

export function tombstone<T>(key: string, obj: T): Tombstone<T> {
  return Object.freeze({ kind: 'Tombstone', key, obj });
}

export function isTombstone<T>(x: T | Tombstone<T>): x is Tombstone<T> {
  if (typeof x !== 'object' || x === null) return false;
  const t = x as Partial<Tombstone<unknown>>;
  return t.kind === 'Tombstone' && typeof t.key === 'string' && 'obj' in t;
}

/**
 * Callbacks of one consumer of an informer, called after the store holds the change. Handlers run
 * synchronously in event order; a returned promise is not awaited (its rejection is logged).
 */
export interface ResourceHandlers<T> {
  onAdd?(obj: T, isInInitialList: boolean): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T | Tombstone<T>): void;
}

/** A resource the API server serves; group '' for core. */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

export const PODS: ResourceRef = Object.freeze({
  group: '',
  version: 'v1',
  resource: 'pods',
  kind: 'Pod',
  namespaced: true,
});

export const REPLICASETS: ResourceRef = Object.freeze({
  group: 'apps',
  version: 'v1',
  resource: 'replicasets',
  kind: 'ReplicaSet',
  namespaced: true,
});

export const JOBS: ResourceRef = Object.freeze({
  group: 'batch',
  version: 'v1',
  resource: 'jobs',
  kind: 'Job',
  namespaced: true,
});

/** "v1" for core, "apps/v1" otherwise: the apiVersion of the resource's objects. */
export function apiVersionOf(resource: ResourceRef): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}
