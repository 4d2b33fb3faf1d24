export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
export * from './defaults.ts';
export { SharedInformerFactory, type InformerOptions, type SharedInformerFactoryOptions } from './factory.ts';
export { deepFreeze } from './freeze.ts';
export { lister, type Lister } from './lister.ts';
export {
  listWatchFor,
  METADATA_LIST_ACCEPT,
  METADATA_WATCH_ACCEPT,
  resourcePath,
  type ListWatch,
  type ListWatchScope,
} from './list-watch.ts';
export { INFORMER_LISTS, informerLists, type ListCounter } from './metrics.ts';
export { objectKey, splitKey } from './object-key.ts';
export type { Notification, Registration } from './processor.ts';
export {
  DEFAULT_REFLECTOR_CONFIG,
  Reflector,
  type ListReason,
  type ReflectorOptions,
  type ReflectorStore,
  type ReflectorConfig,
} from './reflector.ts';
export { SharedIndexInformer, type SharedInformer, type SharedInformerOptions } from './shared-informer.ts';
export { Indexer, NAMESPACE_INDEX, namespaceIndexFunc, type IndexFunc, type Store } from './store.ts';
export { stripManagedFields, toPartialObjectMetadata, type Transform } from './transform.ts';
export {
  apiVersionOf,
  isTombstone,
  JOBS,
  PODS,
  REPLICASETS,
  tombstone,
  type KubeObject,
  type ObjectMeta,
  type ResourceHandlers,
  type ResourceRef,
  type Tombstone,
} from './types.ts';
