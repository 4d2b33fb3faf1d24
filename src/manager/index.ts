export { CACHE_SYNC_TIMEOUT_MS } from './defaults.ts';
export { CacheSyncTimeoutError, Manager, type ManagerOptions } from './manager.ts';
export type { Cache, Runnable, Server } from './runnable.ts';
