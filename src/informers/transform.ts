import type { KubeObject } from './types.ts';

/** Runs on every object from a list or watch before it is stored. Fresh objects: may build new ones. */
export type Transform = (obj: KubeObject) => KubeObject;

/**
 * The default transform: drops metadata.managedFields, often the largest part of a small object and
 * never needed by a controller that does not do server-side apply bookkeeping itself.
 */
export function stripManagedFields(obj: KubeObject): KubeObject {
  const metadata = obj.metadata;
  if (!metadata || !('managedFields' in metadata)) return obj;
  // Rebuilding beats `delete`, which would turn the object into a slower, larger dictionary in V8.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the rest is what we keep
  const { managedFields, ...rest } = metadata;
  return { ...obj, metadata: rest };
}

/** What a metadata-only informer keeps when the server ignored the PartialObjectMetadata request. */
export function toPartialObjectMetadata(obj: KubeObject): KubeObject {
  if (obj.kind === 'PartialObjectMetadata') return obj;
  return {
    apiVersion: 'meta.k8s.io/v1',
    kind: 'PartialObjectMetadata',
    ...(obj.metadata ? { metadata: obj.metadata } : {}),
  };
}
