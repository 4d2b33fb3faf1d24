import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../client/index.ts';
import {
  FakeClock,
  FakeRestClient,
  captureLogs,
  eventually,
  flush,
  metricValue,
  type Labels,
} from '../../testing/index.ts';
import {
  formatGroupKind,
  NoKindMatchError,
  type GroupKind,
  type RESTMapping,
} from '../../discovery/index.ts';
import { SharedInformerFactory } from '../../informers/index.ts';
import { PodSyncController } from './pod-sync-controller.ts';
import { OwnerNotCachedError } from './workload.ts';

const pod = (uid: string, resourceVersion: string, owner?: { kind: string; name: string; uid: string }) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'p',
    namespace: 'ns',
    uid,
    resourceVersion,
    ...(owner
      ? {
          ownerReferences: [
            {
              apiVersion: owner.kind === 'Widget' ? 'example.com/v1' : 'apps/v1',
              ...owner,
              controller: true,
            },
          ],
        }
      : {}),
  },
  spec: { nodeName: 'n1' },
  status: { phase: 'Running' },
});

const meta = (
  name: string,
  uid: string,
  resourceVersion: string,
  controller?: { apiVersion: string; kind: string; name: string; uid: string },
) => ({
  apiVersion: 'meta.k8s.io/v1',
  kind: 'PartialObjectMetadata',
  metadata: {
    name,
    namespace: 'ns',
    uid,
    resourceVersion,
    labels: { dropped: 'by ownerView' },
    ...(controller ? { ownerReferences: [{ ...controller, controller: true }] } : {}),
  },
});

const MAPPINGS: Record<string, RESTMapping> = {
  'ReplicaSet.apps': {
    group: 'apps',
    version: 'v1',
    resource: 'replicasets',
    kind: 'ReplicaSet',
    namespaced: true,
  },
  'Deployment.apps': {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespaced: true,
  },
  'StatefulSet.apps': {
    group: 'apps',
    version: 'v1',
    resource: 'statefulsets',
    kind: 'StatefulSet',
    namespaced: true,
  },
  'Widget.example.com': {
    group: 'example.com',
    version: 'v1',
    resource: 'widgets',
    kind: 'Widget',
    namespaced: true,
  },
};

function fakeMapper() {
  const asked: string[] = [];
  return {
    asked,
    restMapping(gk: GroupKind): Promise<RESTMapping> {
      asked.push(formatGroupKind(gk));
      const found = MAPPINGS[formatGroupKind(gk)];
      return found ? Promise.resolve(found) : Promise.reject(new NoKindMatchError(gk));
    },
  };
}

/** A pod sync controller over a fake API server whose lists `lists` answers by resource path. */
function harness(lists: Record<string, unknown[] | ApiError>, ownerResources?: string[]) {
  const client = new FakeRestClient();
  client.listHandler = (path) => {
    const answer = lists[path] ?? [];
    if (answer instanceof ApiError) throw answer;
    return { metadata: { resourceVersion: '10' }, items: answer };
  };
  const { logger, lines } = captureLogs();
  const registry = new Registry();
  const factory = new SharedInformerFactory({
    client,
    logger,
    reflector: { backoff: { initialMs: 1, maxMs: 1 } },
  });
  const mapper = fakeMapper();
  const podSync = new PodSyncController({
    factory,
    restMapper: mapper,
    logger,
    registry,
    ...(ownerResources ? { ownerResources } : {}),
  });
  const stop = new AbortController();
  factory.start(stop.signal);
  const queued = () => takeQueued(podSync);
  const watch = (suffix: string) => client.watches.find((w) => w.path.endsWith(suffix));
  const metric = async (name: string, labels: Labels) => metricValue(await registry.metrics(), name, labels);
  return {
    client,
    lines,
    podSync,
    mapper,
    queued,
    watch,
    metric,
    stop: async () => {
      stop.abort();
      podSync.owners.close();
      await factory.shutdown();
    },
  };
}

/** Takes every key the controller's queue holds now, marking each done: what a sync would be asked for. */
async function takeQueued(podSync: PodSyncController): Promise<string[]> {
  const keys: string[] = [];
  while (podSync.controller.queue.len() > 0) {
    const next = await podSync.controller.queue.get();
    if (next.shutdown) break;
    keys.push(next.item);
    podSync.controller.queue.done(next.item);
  }
  return keys;
}

describe('PodSyncController.sync', () => {
  it('reports a pod whose uid changed under the same key as recreated, then added', async () => {
    const h = harness({ '/api/v1/pods': [pod('uid-1', '5')] });
    await eventually(() => h.podSync.hasSynced() && h.watch('/pods') !== undefined, 5_000, 1);

    h.podSync.sync('ns/p');
    expect(h.lines.filter((l) => l.event === 'added')).toMatchObject([
      { uid: 'uid-1', phase: 'Running', node: 'n1' },
    ]);

    // A delete and a re-create that reach the cache as one update, as after a missed watch window.
    h.watch('/pods')?.push('MODIFIED', pod('uid-2', '11'));
    await eventually(() => h.podSync.pods.store.get('ns/p')?.metadata?.uid === 'uid-2', 5_000, 1);
    h.podSync.sync('ns/p');

    expect(h.lines.filter((l) => l.event === 'recreated')).toMatchObject([
      { key: 'ns/p', oldUid: 'uid-1', uid: 'uid-2' },
    ]);
    expect(h.lines.filter((l) => l.event === 'added').map((l) => l.uid)).toEqual(['uid-1', 'uid-2']);
    expect(await h.metric('pod_sync_transitions_total', { type: 'recreated' })).toBe(1);
    await h.stop();
  });

  it('reports a pod at once while its owner is missing, fails the sync, and syncs it again when the owner arrives', async () => {
    const h = harness({
      '/api/v1/pods': [pod('uid-p', '5', { kind: 'ReplicaSet', name: 'rs', uid: 'uid-rs' })],
      '/apis/apps/v1/deployments': [meta('web', 'uid-web', '20')],
    });
    await eventually(() => h.podSync.hasSynced(), 5_000, 1);
    await h.queued();

    expect(() => {
      h.podSync.sync('ns/p');
    }).toThrow(OwnerNotCachedError);
    expect(h.lines.filter((l) => l.event === 'added')).toMatchObject([
      {
        workloadKind: 'ReplicaSet',
        workloadName: 'rs',
        unresolvedOwnerKind: 'ReplicaSet',
        unresolvedOwnerName: 'rs',
        unresolvedOwnerUid: 'uid-rs',
      },
    ]);
    expect(await h.metric('pod_sync_unresolved_owner_pods', { group: 'apps', kind: 'ReplicaSet' })).toBe(1);

    // The ReplicaSet reaches the cache: the pod is queued; the Deployment cache starts and fills.
    h.watch('/replicasets')?.push(
      'ADDED',
      meta('rs', 'uid-rs', '21', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-web' }),
    );
    await eventually(
      () => h.podSync.controller.queue.len() > 0 && h.watch('/deployments') !== undefined,
      5_000,
      1,
    );
    await eventually(() => h.podSync.owners.unsettled().length === 0, 5_000, 1);
    expect(await h.queued()).toEqual(['ns/p']);
    h.podSync.sync('ns/p');
    expect(h.lines.filter((l) => l.event === 'workload_changed')).toMatchObject([
      {
        workloadKind: 'Deployment',
        workloadName: 'web',
        previousWorkloadKind: 'ReplicaSet',
        previousWorkloadName: 'rs',
        previousUnresolvedOwnerKind: 'ReplicaSet',
        msg: 'pod workload resolved',
      },
    ]);
    expect(h.lines.filter((l) => l.event === 'added')).toHaveLength(1);
    expect(await h.metric('pod_sync_unresolved_owner_pods', { group: 'apps', kind: 'ReplicaSet' })).toBe(0);

    // A change high up the chain (the Deployment goes away) reaches the pod two levels down.
    h.watch('/deployments')?.push('DELETED', meta('web', 'uid-web', '22'));
    await eventually(() => h.podSync.controller.queue.len() > 0, 5_000, 1);
    expect(await h.queued()).toEqual(['ns/p']);
    // The walk now stops at the missing Deployment: said so, not "changed".
    expect(() => {
      h.podSync.sync('ns/p');
    }).toThrow(OwnerNotCachedError);
    expect(h.lines.filter((l) => l.event === 'workload_changed').at(-1)).toMatchObject({
      workloadKind: 'Deployment',
      workloadName: 'web',
      unresolvedOwnerKind: 'Deployment',
      previousWorkloadKind: 'Deployment',
      previousWorkloadName: 'web',
      msg: 'pod workload unresolved',
    });
    await h.stop();
  });

  it('spends no retry while the owner kind is looked up or listed, and syncs the pod again once it has listed', async () => {
    const client = new FakeRestClient();
    client.streamInitialEvents = false;
    const clock = new FakeClock();
    const { logger, lines } = captureLogs();
    const factory = new SharedInformerFactory({ client, logger });
    let mapped: ((mapping: RESTMapping) => void) | undefined;
    const restMapper = {
      restMapping: () =>
        new Promise<RESTMapping>((resolve) => {
          mapped = resolve;
        }),
    };
    const podSync = new PodSyncController({ factory, restMapper, clock, logger });
    const stop = new AbortController();
    factory.start(stop.signal);
    const queued = () => takeQueued(podSync);
    const initialEventsEnd = {
      metadata: { resourceVersion: '10', annotations: { 'k8s.io/initial-events-end': 'true' } },
    };
    const pods = await client.nextWatch();
    pods.push('BOOKMARK', initialEventsEnd);
    await eventually(() => podSync.hasSynced(), 5_000, 1);
    // The first pod owned through a kind met at run time: the kind is looked up, then listed.
    pods.push('ADDED', pod('uid-p', '11', { kind: 'ReplicaSet', name: 'rs', uid: 'uid-rs' }));
    await eventually(() => mapped !== undefined, 5_000, 1);
    await queued();

    expect(() => {
      podSync.sync('ns/p');
    }).not.toThrow();
    expect(lines.filter((l) => l.event === 'added')).toMatchObject([
      { workloadKind: 'ReplicaSet', unresolvedOwnerKind: 'ReplicaSet', unresolvedOwnerUid: 'uid-rs' },
    ]);
    mapped?.(MAPPINGS['ReplicaSet.apps'] as RESTMapping);
    const replicaSets = await client.nextWatch();
    expect(await queued()).toEqual(['ns/p']);
    expect(() => {
      podSync.sync('ns/p');
    }).not.toThrow();

    // Listed, and the ReplicaSet is not there: from now on its resolution spends the retries. A pod
    // synced after the list failed at once, and its retries run: the list's news is not for it.
    replicaSets.push('BOOKMARK', initialEventsEnd);
    await eventually(() => podSync.owners.unsettled().length === 0, 5_000, 1);
    pods.push('ADDED', {
      ...pod('uid-q', '12', { kind: 'ReplicaSet', name: 'rs', uid: 'uid-rs' }),
      metadata: {
        ...pod('uid-q', '12', { kind: 'ReplicaSet', name: 'rs', uid: 'uid-rs' }).metadata,
        name: 'q',
      },
    });
    await eventually(() => podSync.pods.store.get('ns/q') !== undefined, 5_000, 1);
    expect(await queued()).toEqual(['ns/q']);
    expect(() => {
      podSync.sync('ns/q');
    }).toThrow(/not in the cache/);
    clock.step(100);
    await flush();
    expect(await queued()).toEqual(['ns/p']);
    expect(() => {
      podSync.sync('ns/p');
    }).toThrow(/not in the cache/);
    expect(lines.filter((l) => l.event === 'added')).toHaveLength(2);
    stop.abort();
    podSync.owners.close();
    await factory.shutdown();
  });

  it('keeps only what a walk reads of an owner', async () => {
    const h = harness({
      '/api/v1/pods': [pod('uid-p', '5', { kind: 'ReplicaSet', name: 'rs', uid: 'uid-rs' })],
      '/apis/apps/v1/replicasets': [meta('rs', 'uid-rs', '7')],
    });
    await eventually(() => h.podSync.hasSynced(), 5_000, 1);
    const watch = h.watch('/replicasets');
    expect(watch?.accept).toContain('as=PartialObjectMetadata;g=meta.k8s.io;v=v1');
    h.podSync.sync('ns/p');
    expect(h.lines.filter((l) => l.event === 'added')).toMatchObject([
      { workloadKind: 'ReplicaSet', workloadName: 'rs' },
    ]);
    await h.stop();
  });

  it('reports a kind outside --owner-resources as the top with no request for it, warning once', async () => {
    const pods = ['a', 'b', 'c'].map((name) => {
      const p = pod(`uid-${name}`, '5', { kind: 'Widget', name: 'w', uid: 'uid-w' });
      return { ...p, metadata: { ...p.metadata, name } };
    });
    const h = harness({ '/api/v1/pods': pods }, ['replicasets.apps']);
    await eventually(() => h.podSync.hasSynced() && h.lines.some((l) => l.ownerKind === 'Widget'), 5_000, 1);
    for (const name of ['a', 'b', 'c']) h.podSync.sync(`ns/${name}`);
    expect(
      h.lines
        .filter((l) => l.event === 'added')
        .map((l) => `${String(l.workloadKind)}/${String(l.workloadName)}`),
    ).toEqual(['Widget/w', 'Widget/w', 'Widget/w']);
    const warnings = h.lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      ownerKind: 'Widget',
      resource: 'widgets.example.com',
      rbac: { apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list', 'watch'] },
    });
    expect(String(warnings[0]?.fix)).toContain('add widgets.example.com to --owner-resources');
    expect(h.client.calls.filter((c) => c.path.includes('widgets'))).toEqual([]);
    await h.stop();
  });

  it('reports a kind whose list is refused (403) as the top, warns once, and is ready', async () => {
    const refused = new ApiError(403, {
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message: 'statefulsets.apps is forbidden',
    });
    const pods = ['a', 'b'].map((name) => {
      const p = pod(`uid-${name}`, '5', { kind: 'StatefulSet', name: 'db', uid: 'uid-db' });
      return { ...p, metadata: { ...p.metadata, name } };
    });
    const h = harness({ '/api/v1/pods': pods, '/apis/apps/v1/statefulsets': refused });
    await eventually(() => h.podSync.hasSynced(), 5_000, 1);
    expect(h.podSync.unsyncedCaches()).toEqual([]);
    for (const name of ['a', 'b']) h.podSync.sync(`ns/${name}`);
    expect(h.lines.filter((l) => l.event === 'added').every((l) => l.workloadKind === 'StatefulSet')).toBe(
      true,
    );
    expect(h.lines.filter((l) => l.event === 'added' && l.unresolvedOwnerKind !== undefined)).toEqual([]);
    const warned = h.lines.filter((l) => l.level === 40 && l.ownerKind === 'StatefulSet');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ reason: 'refused', resource: 'statefulsets.apps' });
    await h.stop();
  });
});

describe('PodSyncController readiness', () => {
  it('waits for the pods and the owner kinds they name, then stays ready whatever kinds come later', async () => {
    const client = new FakeRestClient();
    client.streamInitialEvents = false;
    const factory = new SharedInformerFactory({ client });
    const podSync = new PodSyncController({ factory, restMapper: fakeMapper() });
    expect(podSync.unsyncedCaches()).toEqual(['pods']);
    const stop = new AbortController();
    factory.start(stop.signal);
    const pods = await client.nextWatch();
    pods.push('ADDED', pod('uid-p', '5', { kind: 'ReplicaSet', name: 'rs', uid: 'uid-rs' }));
    pods.push('BOOKMARK', {
      metadata: { resourceVersion: '10', annotations: { 'k8s.io/initial-events-end': 'true' } },
    });
    const replicaSets = await client.nextWatch();
    expect(replicaSets.path).toBe('/apis/apps/v1/replicasets');
    expect(podSync.unsyncedCaches()).toEqual(['replicasets.apps']);
    expect(podSync.hasSynced()).toBe(false);
    replicaSets.push('BOOKMARK', {
      metadata: { resourceVersion: '10', annotations: { 'k8s.io/initial-events-end': 'true' } },
    });
    await eventually(() => podSync.hasSynced(), 5_000, 1);

    // A kind met later lists in the background: the replica stays ready.
    pods.push('ADDED', {
      ...pod('uid-q', '11', { kind: 'StatefulSet', name: 'db', uid: 'uid-db' }),
      metadata: {
        ...pod('uid-q', '11', { kind: 'StatefulSet', name: 'db', uid: 'uid-db' }).metadata,
        name: 'q',
      },
    });
    const statefulSets = await client.nextWatch();
    expect(statefulSets.path).toBe('/apis/apps/v1/statefulsets');
    expect(podSync.hasSynced()).toBe(true);
    expect(podSync.unsyncedCaches()).toEqual([]);
    stop.abort();
    podSync.owners.close();
    await factory.shutdown();
  });
});
