import type { KubeObject, ObjectMeta } from '../../informers/index.ts';
import { INTERNED_STRINGS } from './defaults.ts';
import { controllerOf } from './workload.ts';

/**
 * Strings many owners repeat (namespaces, the apiVersion, kind, name and uid of a shared controller)
 * arrive as a fresh copy in every object JSON.parse builds; sharing one copy each took a cached
 * ReplicaSet from about 700 to about 610 bytes of heap (test/controllers/owner-cost.test.ts). Bounded:
 * when full, the table starts over (later copies are shared again).
 */
const interned = new Map<string, string>();

function intern(text: string): string {
  const shared = interned.get(text);
  if (shared !== undefined) return shared;
  if (interned.size >= INTERNED_STRINGS) interned.clear();
  interned.set(text, text);
  return text;
}

/**
 * The owner informers' transform: what a walk up a controller chain reads of an owner (name,
 * namespace, uid, its controller reference) plus the
 * resourceVersion the informer compares. Labels, annotations, other owner references, timestamps and
 * finalizers are dropped, and so are the PartialObjectMetadata apiVersion and kind, which the cache
 * never reads. Idempotent.
 */
export function ownerView(obj: KubeObject): KubeObject {
  const metadata = obj.metadata ?? {};
  const kept: ObjectMeta = {};
  if (metadata.name !== undefined) kept.name = metadata.name;
  if (metadata.namespace !== undefined) kept.namespace = intern(metadata.namespace);
  if (metadata.uid !== undefined) kept.uid = metadata.uid;
  if (metadata.resourceVersion !== undefined) kept.resourceVersion = metadata.resourceVersion;
  const ref = controllerOf(obj);
  if (ref) {
    kept.ownerReferences = [
      {
        apiVersion: intern(ref.apiVersion),
        kind: intern(ref.kind),
        name: intern(ref.name),
        uid: intern(ref.uid),
        controller: true,
      },
    ];
  }
  return { metadata: kept };
}
