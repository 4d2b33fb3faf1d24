import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { perRegistry } from '../metrics/index.ts';

/** controller-runtime's reconcile_time_seconds buckets, so existing dashboards read ours unchanged. */
export const RECONCILE_TIME_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25,
  1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

export const RECONCILE_RESULTS = ['success', 'error', 'requeue', 'requeue_after'] as const;
export type ReconcileResultLabel = (typeof RECONCILE_RESULTS)[number];

/** The controller metrics of one registry; every controller registered there shares them by label. */
export interface ControllerMetricSet {
  reconcileTotal: Counter<'controller' | 'result'>;
  reconcileErrors: Counter<'controller'>;
  terminalReconcileErrors: Counter<'controller'>;
  reconcileTime: Histogram<'controller'>;
  activeWorkers: Gauge<'controller'>;
  maxConcurrentReconciles: Gauge<'controller'>;
  /** Ours, not controller-runtime's: keys given up on after the last retry. */
  droppedKeys: Counter<'controller'>;
}

function create(registers: Registry[]): ControllerMetricSet {
  return {
    reconcileTotal: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    }),
    terminalReconcileErrors: new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    }),
    reconcileTime: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: [...RECONCILE_TIME_BUCKETS],
      registers,
    }),
    activeWorkers: new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
    }),
    maxConcurrentReconciles: new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    }),
    droppedKeys: new Counter({
      name: 'pod_sync_operator_dropped_keys_total',
      help: 'Keys dropped out of the queue after their last allowed retry, per controller',
      labelNames: ['controller'],
      registers,
    }),
  };
}

/** The metric set for a registry, created on first use; without a registry, metrics go nowhere. */
export const controllerMetrics = perRegistry(create);

/** Pre-initialises a controller's series to 0, as controller-runtime does, so rates exist from the start. */
export function initControllerSeries(set: ControllerMetricSet, controller: string, workers: number): void {
  for (const result of RECONCILE_RESULTS) set.reconcileTotal.inc({ controller, result }, 0);
  set.reconcileErrors.inc({ controller }, 0);
  set.terminalReconcileErrors.inc({ controller }, 0);
  set.droppedKeys.inc({ controller }, 0);
  set.activeWorkers.set({ controller }, 0);
  set.maxConcurrentReconciles.set({ controller }, workers);
}
