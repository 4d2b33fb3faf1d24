import { describe, expect, it } from 'vitest';
import type { Store } from '../../informers/store.ts';
import type { KubeObject } from '../../informers/types.ts';
import { NO_WORKLOAD, OwnerNotCachedError, resolveWorkload, type OwnerCaches } from './workload.ts';

function storeOf(objects: KubeObject[]): Store<KubeObject> {
  const byKey = new Map(objects.map((o) => [`${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`, o]));
  return {
    get: (key) => byKey.get(key),
    list: () => [...byKey.values()],
    listKeys: () => [...byKey.keys()],
    byIndex: () => [],
    get size() {
      return byKey.size;
    },
  };
}

const ref = (apiVersion: string, kind: string, name: string, uid: string) => ({
  apiVersion,
  kind,
  name,
  uid,
  controller: true,
});

function owned(
  name: string,
  owner?: ReturnType<typeof ref>,
  extra: ReturnType<typeof ref>[] = [],
): KubeObject {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      ownerReferences: [...extra, ...(owner ? [owner] : [])],
    },
  };
}

function caches(replicaSets: KubeObject[] = [], jobs: KubeObject[] = []): OwnerCaches {
  return { replicaSets: storeOf(replicaSets), jobs: storeOf(jobs) };
}

describe('resolveWorkload', () => {
  it('walks Pod -> ReplicaSet -> Deployment', () => {
    const rs = owned('web-abc', ref('apps/v1', 'Deployment', 'web', 'uid-web'));
    const pod = owned('web-abc-1', ref('apps/v1', 'ReplicaSet', 'web-abc', 'uid-web-abc'));
    expect(resolveWorkload(pod, caches([rs]))).toEqual({ kind: 'Deployment', name: 'web' });
  });

  it('stops at a ReplicaSet that no Deployment controls', () => {
    const rs = owned('bare-rs');
    const pod = owned('p', ref('apps/v1', 'ReplicaSet', 'bare-rs', 'uid-bare-rs'));
    expect(resolveWorkload(pod, caches([rs]))).toEqual({ kind: 'ReplicaSet', name: 'bare-rs' });
  });

  it('walks Pod -> Job -> CronJob, and stops at a bare Job', () => {
    const job = owned('nightly-123', ref('batch/v1', 'CronJob', 'nightly', 'uid-nightly'));
    const bare = owned('once');
    const c = caches([], [job, bare]);
    expect(resolveWorkload(owned('p', ref('batch/v1', 'Job', 'nightly-123', 'uid-nightly-123')), c)).toEqual({
      kind: 'CronJob',
      name: 'nightly',
    });
    expect(resolveWorkload(owned('q', ref('batch/v1', 'Job', 'once', 'uid-once')), c)).toEqual({
      kind: 'Job',
      name: 'once',
    });
  });

  it('takes StatefulSet, DaemonSet and unknown owners as the workload, and a pod without a controller as none', () => {
    expect(resolveWorkload(owned('db-0', ref('apps/v1', 'StatefulSet', 'db', 'u1')), caches())).toEqual({
      kind: 'StatefulSet',
      name: 'db',
    });
    expect(resolveWorkload(owned('agent', ref('apps/v1', 'DaemonSet', 'agent', 'u2')), caches())).toEqual({
      kind: 'DaemonSet',
      name: 'agent',
    });
    expect(resolveWorkload(owned('x', ref('example.com/v1', 'Widget', 'w', 'u3')), caches())).toEqual({
      kind: 'Widget',
      name: 'w',
    });
    const notController = { ...ref('apps/v1', 'ReplicaSet', 'rs', 'u4'), controller: false };
    expect(resolveWorkload(owned('solo', undefined, [notController]), caches())).toEqual(NO_WORKLOAD);
    expect(resolveWorkload(owned('solo'), caches())).toEqual(NO_WORKLOAD);
  });

  it('fails while the owning ReplicaSet or Job is not cached, or is cached under another uid', () => {
    const pod = owned('p', ref('apps/v1', 'ReplicaSet', 'web-abc', 'uid-web-abc'));
    expect(() => resolveWorkload(pod, caches())).toThrow(OwnerNotCachedError);
    expect(() => resolveWorkload(pod, caches())).toThrow(/ReplicaSet ns\/web-abc \(uid uid-web-abc\)/);
    const stale = { metadata: { name: 'web-abc', namespace: 'ns', uid: 'old-uid' } };
    expect(() => resolveWorkload(pod, caches([stale]))).toThrow(OwnerNotCachedError);
    const jobPod = owned('j', ref('batch/v1', 'Job', 'missing', 'uid-missing'));
    expect(() => resolveWorkload(jobPod, caches())).toThrow(/Job ns\/missing/);
  });
});
