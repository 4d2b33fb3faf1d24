export { Controller, type ControllerOptions } from './controller.ts';
export { GRACEFUL_SHUTDOWN_TIMEOUT_MS, MAX_REQUEUES, WORKERS } from './defaults.ts';
export type { LeaderGate } from './leader-gate.ts';
