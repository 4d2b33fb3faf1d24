import { Counter, Gauge, type Registry } from 'prom-client';
import { parseGroupVersion } from '../../discovery/index.ts';
import type { Store } from '../../informers/index.ts';
import { podPhase, POD_PHASES, type Pod } from './pod.ts';
import { TRANSITION_TYPES } from './transitions.ts';
import type { Workload } from './workload.ts';

export interface PodMetrics {
  transitions: Counter<'type'>;
}

/**
 * pod_sync_pods{phase} is counted from the cache and pod_sync_unresolved_owner_pods{group,kind} from
 * the last sync of each pod, both when scraped, so no event pays for them; labels are bounded (phase,
 * transition type, owner kind): never per pod or per namespace.
 */
export function podMetrics(
  pods: Store<Pod>,
  syncedWorkloads: () => Iterable<Workload>,
  registry?: Registry,
): PodMetrics {
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
  const seen = new Map<string, { group: string; kind: string }>();
  new Gauge({
    name: 'pod_sync_unresolved_owner_pods',
    help: "Pods whose controller chain stops at an owner missing from the cache, by that owner's group and kind",
    labelNames: ['group', 'kind'],
    registers,
    collect() {
      const counts = new Map<string, { group: string; kind: string; count: number }>();
      for (const workload of syncedWorkloads()) {
        const owner = workload.unresolved;
        if (!owner) continue;
        const { group } = parseGroupVersion(owner.apiVersion);
        const key = `${owner.kind}.${group}`;
        const entry = counts.get(key) ?? { group, kind: owner.kind, count: 0 };
        entry.count++;
        counts.set(key, entry);
      }
      // A kind whose pods all resolved drops to 0 rather than vanish.
      for (const [key, labels] of seen) if (!counts.has(key)) this.set(labels, 0);
      for (const [key, { group, kind, count }] of counts) {
        seen.set(key, { group, kind });
        this.set({ group, kind }, count);
      }
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
