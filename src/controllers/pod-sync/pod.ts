import type { KubeObject } from '../../informers/index.ts';

/** The fields of a Pod the sync reads; everything else is carried but not typed. */
export interface Pod extends KubeObject {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: readonly { type: string; status: string }[];
    containerStatuses?: readonly ContainerStatus[];
    initContainerStatuses?: readonly ContainerStatus[];
  };
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

export const POD_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;

export function podPhase(pod: Pod): string {
  return pod.status?.phase ?? 'Unknown';
}

export function podReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
