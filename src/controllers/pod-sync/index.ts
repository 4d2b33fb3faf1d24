export { OWNER_RESOURCES } from './defaults.ts';
export { OWNER_UID_INDEX } from './owner-caches.ts';
export { GROUP_RESOURCE_PATTERN, parseGroupResource } from './owner-resources.ts';
export { ownerView } from './owner-view.ts';
export { TRANSITION_TYPES } from './transitions.ts';
export { PodSyncController } from './pod-sync-controller.ts';
export { controllerUid } from './workload.ts';
export { OwnerCaches } from './owner-caches.ts';
