import { Counter, Gauge, type Registry } from 'prom-client';
import type { Store } from '../../informers/store.ts';
import { podPhase, POD_PHASES, type Pod } from './pod.ts';
import { TRANSITION_TYPES } from './transitions.ts';

export interface PodMetrics {
  transitions: Counter<'type'>;
}

/**
 * pod_sync_pods{phase} is counted from the cache when scraped, so no event pays for it; labels are
 * bounded (phase, transition type): never per pod or per namespace.
 */
export function podMetrics(pods: Store<Pod>, registry?: Registry): PodMetrics {
  const registers = registry ? [registry] : [];
  new Gauge({
    name: 'pod_sync_pods',
    help: 'Pods in the controller cache by phase',
    labelNames: ['phase'],
    registers,
    collect() {
      const counts = new Map<string, number>(POD_PHASES.map((p) => [p, 0]));
      for (const pod of pods.list()) {
        const phase = podPhase(pod);
        counts.set(phase, (counts.get(phase) ?? 0) + 1);
      }
      for (const [phase, count] of counts) this.set({ phase }, count);
    },
  });
  const transitions = new Counter({
    name: 'pod_sync_transitions_total',
    help: 'Pod lifecycle transitions seen by the pod sync controller, by type',
    labelNames: ['type'],
    registers,
  });
  for (const type of TRANSITION_TYPES) transitions.inc({ type }, 0);
  return { transitions };
}
