// No kubelet runs in the test control plane: tests play its part by writing pod status through the
// status subresource, as a kubelet would.
import type { CoreV1Api, V1Pod, V1PodStatus } from '@kubernetes/client-node';

export function runningStatus(ready: boolean, restarts = 0, lastReason?: string): V1PodStatus {
  const now = new Date();
  return {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }],
    containerStatuses: [
      {
        name: 'main',
        image: 'registry.k8s.io/pause:3.10',
        imageID: '',
        ready,
        restartCount: restarts,
        started: true,
        state: { running: { startedAt: now } },
        ...(lastReason ? { lastState: { terminated: { reason: lastReason, exitCode: 137 } } } : {}),
      },
    ],
  };
}

export async function setPodStatus(
  core: CoreV1Api,
  namespace: string,
  name: string,
  status: V1PodStatus,
): Promise<V1Pod> {
  return core.patchNamespacedPodStatus({
    namespace,
    name,
    body: [{ op: 'add', path: '/status', value: status }],
  });
}
