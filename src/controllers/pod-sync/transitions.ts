import { podPhase, podReady, type ContainerStatus, type Pod } from './pod.ts';
import type { Workload } from './workload.ts';

/** What the controller remembers of a pod between syncs: just enough to see what changed. */
export interface PodSnapshot {
  uid: string;
  phase: string;
  ready: boolean;
  node: string;
  workload: Workload;
  /** restartCount by container name (init containers prefixed "init:"). */
  restarts: ReadonlyMap<string, number>;
}

export type Transition =
  | { type: 'added' }
  | { type: 'phase_changed'; from: string; to: string }
  | { type: 'ready' }
  | { type: 'unready' }
  | {
      type: 'container_restarted';
      container: string;
      restartCount: number;
      reason?: string;
      exitCode?: number;
    };

export const TRANSITION_TYPES = [
  'added',
  'phase_changed',
  'ready',
  'unready',
  'container_restarted',
  'recreated',
  'deleted',
] as const;

function containers(pod: Pod): [string, ContainerStatus][] {
  return [
    ...(pod.status?.initContainerStatuses ?? []).map((c): [string, ContainerStatus] => [`init:${c.name}`, c]),
    ...(pod.status?.containerStatuses ?? []).map((c): [string, ContainerStatus] => [c.name, c]),
  ];
}

export function snapshot(pod: Pod, workload: Workload): PodSnapshot {
  return {
    uid: pod.metadata?.uid ?? '',
    phase: podPhase(pod),
    ready: podReady(pod),
    node: pod.spec?.nodeName ?? '',
    workload,
    restarts: new Map(containers(pod).map(([name, c]) => [name, c.restartCount ?? 0])),
  };
}

/** The lifecycle transitions from the last synced state to the pod as it is now, in a stable order. */
export function transitions(previous: PodSnapshot | undefined, pod: Pod, current: PodSnapshot): Transition[] {
  if (!previous) return [{ type: 'added' }];
  const found: Transition[] = [];
  if (previous.phase !== current.phase)
    found.push({ type: 'phase_changed', from: previous.phase, to: current.phase });
  if (previous.ready !== current.ready) found.push({ type: current.ready ? 'ready' : 'unready' });
  for (const [name, status] of containers(pod)) {
    const before = previous.restarts.get(name) ?? 0;
    const now = status.restartCount ?? 0;
    if (now > before) {
      const terminated = status.lastState?.terminated;
      found.push({
        type: 'container_restarted',
        container: name,
        restartCount: now,
        ...(terminated?.reason !== undefined ? { reason: terminated.reason } : {}),
        ...(terminated?.exitCode !== undefined ? { exitCode: terminated.exitCode } : {}),
      });
    }
  }
  return found;
}
