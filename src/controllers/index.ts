export { Controller, type ControllerOptions } from './controller.ts';
export { CACHE_SYNC_TIMEOUT_MS } from './defaults.ts';
