import { describe, expect, it } from 'vitest';
import type { Pod } from './pod.ts';
import { snapshot, transitions } from './transitions.ts';
import { NO_WORKLOAD } from './workload.ts';

function pod(status: Pod['status'], uid = 'u1'): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid }, spec: { nodeName: 'node-1' }, status };
}

function diff(before: Pod | undefined, after: Pod) {
  const previous = before ? snapshot(before, NO_WORKLOAD) : undefined;
  return transitions(previous, after, snapshot(after, NO_WORKLOAD));
}

const running = (ready: boolean, restarts = 0, reason?: string): Pod['status'] => ({
  phase: 'Running',
  conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  containerStatuses: [
    {
      name: 'app',
      restartCount: restarts,
      ...(reason ? { lastState: { terminated: { reason, exitCode: 137 } } } : {}),
    },
    { name: 'sidecar', restartCount: 0 },
  ],
});

describe('pod transitions', () => {
  it('a pod never synced before is added', () => {
    expect(diff(undefined, pod(running(true)))).toEqual([{ type: 'added' }]);
  });

  it('sees phase changes and readiness both ways', () => {
    expect(diff(pod({ phase: 'Pending' }), pod(running(false)))).toEqual([
      { type: 'phase_changed', from: 'Pending', to: 'Running' },
    ]);
    expect(diff(pod(running(false)), pod(running(true)))).toEqual([{ type: 'ready' }]);
    expect(diff(pod(running(true)), pod(running(false)))).toEqual([{ type: 'unready' }]);
  });

  it('reports a container restart with its last termination reason', () => {
    expect(diff(pod(running(true)), pod(running(false, 1, 'OOMKilled')))).toEqual([
      { type: 'unready' },
      { type: 'container_restarted', container: 'app', restartCount: 1, reason: 'OOMKilled', exitCode: 137 },
    ]);
  });

  it('reports nothing when nothing it tracks changed', () => {
    expect(diff(pod(running(true, 2)), pod(running(true, 2)))).toEqual([]);
  });

  it('snapshots node, phase and readiness; a pod without status is Unknown and unready', () => {
    expect(snapshot(pod(undefined), NO_WORKLOAD)).toMatchObject({
      phase: 'Unknown',
      ready: false,
      node: 'node-1',
    });
  });
});
