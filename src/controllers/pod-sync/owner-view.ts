import type { KubeObject, ObjectMeta } from '../../informers/types.ts';
import { controllerOf } from './workload.ts';

/**
 * The owner informers' transform: what a walk up a controller chain reads of an owner (name,
 * namespace, uid, its controller reference) plus the resourceVersion the informer compares. Labels,
 * annotations, other owner references, timestamps and finalizers are dropped, and so are the
 * PartialObjectMetadata apiVersion and kind, which the cache never reads. Idempotent.
 */
export function ownerView(obj: KubeObject): KubeObject {
  const metadata = obj.metadata ?? {};
  const kept: ObjectMeta = {};
  if (metadata.name !== undefined) kept.name = metadata.name;
  if (metadata.namespace !== undefined) kept.namespace = metadata.namespace;
  if (metadata.uid !== undefined) kept.uid = metadata.uid;
  if (metadata.resourceVersion !== undefined) kept.resourceVersion = metadata.resourceVersion;
  const ref = controllerOf(obj);
  if (ref) {
    const { apiVersion, kind, name, uid } = ref;
    kept.ownerReferences = [{ apiVersion, kind, name, uid, controller: true }];
  }
  return { metadata: kept };
}
