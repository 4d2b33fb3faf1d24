import { describe, expect, it } from 'vitest';
import { podSyncView } from './pod-view.ts';
import { podPhase, podReady, type Pod } from './pod.ts';
import { snapshot, transitions } from './transitions.ts';
import { ownerUids } from './workload.ts';

// A Pod as the API server sends it: more fields than the Pod type names.
const full = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-1',
    namespace: 'shop',
    uid: 'u1',
    resourceVersion: '42',
    labels: { app: 'web' },
    annotations: { 'checksum/config': 'abc' },
    managedFields: [{ manager: 'kubelet' }],
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'web-5d8f',
        uid: 'rs1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  },
  spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'web:1' }] },
  status: {
    phase: 'Running',
    hostIP: '10.0.0.1',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-07-01T09:30:00Z' }],
    containerStatuses: [
      {
        name: 'app',
        ready: true,
        restartCount: 2,
        image: 'web:1',
        state: { running: { startedAt: '2026-07-01T09:30:00Z' } },
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: '2026-07-01T09:29:00Z' } },
      },
    ],
    initContainerStatuses: [{ name: 'init', restartCount: 0 }],
  },
} as unknown as Pod;

describe('podSyncView', () => {
  it('keeps what a sync reads and drops the rest', () => {
    expect(podSyncView(full)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-1',
        namespace: 'shop',
        uid: 'u1',
        resourceVersion: '42',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f', uid: 'rs1', controller: true },
        ],
      },
      spec: { nodeName: 'node-1' },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          {
            name: 'app',
            ready: true,
            restartCount: 2,
            lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } },
          },
        ],
        initContainerStatuses: [{ name: 'init', restartCount: 0 }],
      },
    });
  });

  it('is idempotent and leaves the sync, the owner index and the metrics seeing the same pod', () => {
    const view = podSyncView(full) as Pod;
    expect(podSyncView(view)).toEqual(view);
    expect(podPhase(view)).toBe(podPhase(full));
    expect(podReady(view)).toBe(podReady(full));
    expect(ownerUids(view)).toEqual(ownerUids(full));
    const workload = { kind: 'Deployment', name: 'web' };
    expect(snapshot(view, workload)).toEqual(snapshot(full, workload));
    const before = snapshot({ ...full, status: { ...full.status, containerStatuses: [] } }, workload);
    expect(transitions(before, view, snapshot(view, workload))).toEqual(
      transitions(before, full, snapshot(full, workload)),
    );
  });

  it('copes with a pod that has no spec, status or owners (a deletion tombstone may be one)', () => {
    expect(podSyncView({ metadata: { name: 'p', namespace: 'ns' } })).toEqual({
      metadata: { name: 'p', namespace: 'ns' },
    });
  });
});
