import { NAMESPACE_INDEX } from './store.ts';
import type { SharedInformer } from './shared-informer.ts';
import type { KubeObject } from './types.ts';

/** Typed reads of an informer's cache by namespace and name. Objects are frozen and shared. */
export interface Lister<T> {
  /** `namespace` is ignored for a cluster-scoped resource. */
  get(namespace: string | undefined, name: string): T | undefined;
  /** One namespace through the namespace index, or everything. */
  list(namespace?: string): readonly T[];
}

export function lister<T extends KubeObject>(informer: SharedInformer<T>): Lister<T> {
  const { store, resource } = informer;
  return {
    get: (namespace, name) => store.get(resource.namespaced && namespace ? `${namespace}/${name}` : name),
    list: (namespace) =>
      resource.namespaced && namespace !== undefined
        ? store.byIndex(NAMESPACE_INDEX, namespace)
        : store.list(),
  };
}
