export { CACHE_SYNC_POLL_MS, RESYNC_PERIOD_MS } from './defaults.ts';
export { type InformerOptions, SharedInformerFactory } from './factory.ts';
export { lister } from './lister.ts';
export { objectKey, splitKey } from './object-key.ts';
export type { SharedInformer } from './shared-informer.ts';
export type { Store } from './store.ts';
export { isTombstone, type KubeObject, type ObjectMeta, PODS, REPLICASETS } from './types.ts';
export { waitForCacheSync, type Syncable } from './wait-for-cache-sync.ts';
