import { AppsV1Api, CoreV1Api, KubeConfig, type V1OwnerReference, type V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../hack/cluster/control-plane.ts';
import { realClock } from '../../src/clock/index.ts';
import type { RestClient } from '../../src/client/index.ts';
import { adminKubeConfig, createNamespace, podManifest } from '../helpers/cluster.ts';
import { runPodSync } from '../helpers/pod-sync.ts';
import { runningStatus, setPodStatus } from '../helpers/pods.ts';
import { deployment, podsOf, rolledOut } from '../helpers/workloads.ts';
import { eventually, type LogLine } from '../../src/testing/index.ts';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** Delays the watch events of paths containing `part`, as a slow informer would see them. */
function delayWatchEvents(client: RestClient, part: string, delayMs: number): RestClient {
  return {
    get: (...args) => client.get(...args),
    list: (...args) => client.list(...args),
    watch<T>(...args: Parameters<RestClient['watch']>) {
      const events = client.watch<T>(...args);
      if (!args[0].includes(part)) return events;
      return (async function* () {
        for await (const event of events) {
          await realClock.sleep(delayMs);
          yield event;
        }
      })();
    },
  };
}

async function startPodSync(
  namespace: string,
  options: { retryBaseDelayMs?: number; wrap?: (c: RestClient) => RestClient; kc?: KubeConfig } = {},
) {
  const sync = await runPodSync(options.kc ?? kc, { ...options, namespace, logLevel: 'debug' });
  stops.push(() => sync.stop());
  return sync;
}

const byEvent = (lines: LogLine[], event: string, name?: string) =>
  lines.filter((l) => l.event === event && (name === undefined || l.name === name));

/** A report of the pod naming its resolved top-level workload: when added, or when it changed since. */
const resolvedTo = (name: string, kind: string) => (l: LogLine) =>
  (l.event === 'added' || l.event === 'workload_changed') &&
  l.name === name &&
  l.workloadKind === kind &&
  l.unresolvedOwnerKind === undefined;

describe('pod sync controller against the real API server', () => {
  it('tells a recreated pod by its uid', async () => {
    const namespace = await createNamespace('sync-recreate');
    const { lines } = await startPodSync(namespace);
    const first = await core.createNamespacedPod({ namespace, body: podManifest('same') });
    await eventually(async () => Promise.resolve(byEvent(lines, 'added', 'same').length === 1));

    await core.deleteNamespacedPod({ namespace, name: 'same', gracePeriodSeconds: 0 });
    const second = await core.createNamespacedPod({ namespace, body: podManifest('same') });
    const [oldUid, newUid] = [first.metadata?.uid, second.metadata?.uid];
    expect(newUid).not.toBe(oldUid);

    // The new uid is synced either as one sync that sees the uid change, or as a delete and an add.
    await eventually(async () =>
      Promise.resolve(lines.some((l) => l.name === 'same' && l.uid === newUid && l.event === 'added')),
    );
    const recreated = byEvent(lines, 'recreated', 'same');
    if (recreated.length > 0) {
      expect(recreated[0]).toMatchObject({ oldUid, uid: newUid });
    } else {
      expect(byEvent(lines, 'deleted', 'same')).toMatchObject([{ lastSeenUid: oldUid }]);
    }
  });

  it('resolves Pod -> ReplicaSet -> Deployment from the caches it starts for them', async () => {
    const namespace = await createNamespace('sync-owner');
    const { lines } = await startPodSync(namespace);
    await apps.createNamespacedDeployment({ namespace, body: deployment('web', 2) });
    const pods = await rolledOut(apps, core, namespace, 'web');
    for (const name of pods.map((p) => p.metadata?.name ?? '')) {
      await eventually(async () => Promise.resolve(lines.some(resolvedTo(name, 'Deployment'))));
      expect(lines.find(resolvedTo(name, 'Deployment'))).toMatchObject({ workloadName: 'web' });
      expect(byEvent(lines, 'added', name)).toHaveLength(1);
    }
  });

  it('reports a pod at once while its ReplicaSet has not reached the cache, then its resolved workload', async () => {
    const namespace = await createNamespace('sync-late');
    // ReplicaSet watch events (its watch-list's initial events included) reach this controller 3 s
    // late, as from a lagging informer, while the ReplicaSet controller makes the pods at once.
    const { lines, metric } = await startPodSync(namespace, {
      retryBaseDelayMs: 1_000,
      wrap: (c) => delayWatchEvents(c, '/replicasets', 3_000),
    });
    await apps.createNamespacedDeployment({ namespace, body: deployment('late', 1) });
    let pod: V1Pod | undefined;
    await eventually(async () => (pod = (await podsOf(core, namespace, 'late'))[0]) !== undefined);
    const name = pod?.metadata?.name ?? '';
    const replicaSet = pod?.metadata?.ownerReferences?.[0]?.name ?? '';

    await eventually(async () => Promise.resolve(byEvent(lines, 'added', name).length === 1));
    expect(byEvent(lines, 'added', name)[0]).toMatchObject({
      workloadKind: 'ReplicaSet',
      workloadName: replicaSet,
      unresolvedOwnerKind: 'ReplicaSet',
      unresolvedOwnerName: replicaSet,
    });
    await eventually(async () => Promise.resolve(lines.some(resolvedTo(name, 'Deployment'))), 30_000);
    // The ReplicaSet cache was still listing: the pod was synced again once it had listed (and once
    // the Deployment cache had), and no retry was spent waiting for it.
    expect(
      lines.filter((l) => l.msg === 'sync failed, retrying' && l.key === `${namespace}/${name}`),
    ).toEqual([]);
    expect(byEvent(lines, 'workload_changed', name).at(-1)).toMatchObject({
      workloadKind: 'Deployment',
      workloadName: 'late',
    });
    // The report did not wait: the pod was added exactly once, before its owner resolved.
    expect(byEvent(lines, 'added', name)).toHaveLength(1);
    expect(await metric('pod_sync_operator_dropped_keys_total', { controller: 'pod-sync' })).toBe(0);
  });
});

// Inputs no controller makes, on an API server of this file's own with no controller manager,
// scheduler or kubelet: the test writes pod status as a kubelet would (a container OOMKilled and
// restarted), and names a ReplicaSet that never exists (the garbage collector would delete the pod).
describe('pod sync controller on a bare API server', () => {
  let cp: ControlPlane;
  let bare: KubeConfig;
  let bareCore: CoreV1Api;
  beforeAll(async () => {
    cp = await ControlPlane.start();
    bare = new KubeConfig();
    bare.loadFromFile(cp.kubeconfigPath);
    bareCore = bare.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
    await cp.stop();
  });
  const createNamespace = async (name: string): Promise<string> => {
    await bareCore.createNamespace({ body: { metadata: { name } } });
    return name;
  };

  it('logs each lifecycle transition once, with workload and node, and counts it', async () => {
    const namespace = await createNamespace('sync-life');
    const { lines, metric } = await startPodSync(namespace, { kc: bare });

    const body = podManifest('web');
    body.spec = { containers: body.spec?.containers ?? [], nodeName: 'node-a' };
    const pod = await bareCore.createNamespacedPod({ namespace, body });
    const uid = pod.metadata?.uid;
    await eventually(async () => Promise.resolve(byEvent(lines, 'added', 'web').length === 1));
    expect(byEvent(lines, 'added', 'web')[0]).toMatchObject({
      controller: 'pod-sync',
      key: `${namespace}/web`,
      namespace,
      name: 'web',
      uid,
      node: 'node-a',
      workloadKind: 'none',
      phase: 'Pending',
    });

    await setPodStatus(bareCore, namespace, 'web', runningStatus(false));
    await eventually(async () => Promise.resolve(byEvent(lines, 'phase_changed', 'web').length === 1));
    expect(byEvent(lines, 'phase_changed', 'web')[0]).toMatchObject({ from: 'Pending', to: 'Running' });

    await setPodStatus(bareCore, namespace, 'web', runningStatus(true));
    await eventually(async () => Promise.resolve(byEvent(lines, 'ready', 'web').length === 1));

    await setPodStatus(bareCore, namespace, 'web', runningStatus(false, 1, 'OOMKilled'));
    await eventually(async () => Promise.resolve(byEvent(lines, 'container_restarted', 'web').length === 1));
    expect(byEvent(lines, 'container_restarted', 'web')[0]).toMatchObject({
      container: 'main',
      restartCount: 1,
      reason: 'OOMKilled',
    });
    expect(byEvent(lines, 'unready', 'web')).toHaveLength(1);
    expect(await metric('pod_sync_pods', { phase: 'Running' })).toBe(1);

    await bareCore.deleteNamespacedPod({ namespace, name: 'web', gracePeriodSeconds: 0 });
    await eventually(async () => Promise.resolve(byEvent(lines, 'deleted', 'web').length === 1));
    expect(byEvent(lines, 'deleted', 'web')[0]).toMatchObject({
      lastSeenUid: uid,
      msg: 'pod does not exist anymore',
    });

    for (const type of ['added', 'phase_changed', 'ready', 'unready', 'container_restarted', 'deleted']) {
      expect(await metric('pod_sync_transitions_total', { type })).toBe(1);
    }
    expect(await metric('pod_sync_pods', { phase: 'Running' })).toBe(0);
    expect(await metric('controller_runtime_reconcile_total', { result: 'error' })).toBe(0);
  });

  it('drops a pod whose ReplicaSet never appears after exactly 5 requeues with growing delays', async () => {
    const namespace = await createNamespace('sync-drop');
    const { lines, metric } = await startPodSync(namespace, { retryBaseDelayMs: 100, kc: bare });
    // The ReplicaSet kind is looked up and listed first, through a real ReplicaSet and its pod, so
    // that the retries below are the missing owner's alone.
    const bareApps = bare.makeApiClient(AppsV1Api);
    const real = await bareApps.createNamespacedReplicaSet({
      namespace,
      body: {
        metadata: { name: 'real' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'real' } },
          template: {
            metadata: { labels: { app: 'real' } },
            spec: podManifest('x').spec ?? { containers: [] },
          },
        },
      },
    });
    await bareCore.createNamespacedPod({
      namespace,
      body: ownedPod('warm', {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'real',
        uid: real.metadata?.uid ?? '',
        controller: true,
      }),
    });
    await eventually(async () => Promise.resolve(lines.some(resolvedTo('warm', 'ReplicaSet'))), 20_000);
    const ghost = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'ghost',
      uid: '6f1b9a4e-0000-4000-8000-000000000001',
      controller: true,
    };
    await bareCore.createNamespacedPod({
      namespace,
      body: ownedPod('orphan', ghost),
    });
    const key = `${namespace}/orphan`;

    await eventually(async () => Promise.resolve(lines.some((l) => l.level === 50 && l.key === key)), 20_000);
    const retries = lines.filter((l) => l.msg === 'sync failed, retrying' && l.key === key);
    expect(retries.map((l) => l.attempt)).toEqual([1, 2, 3, 4, 5]);
    const times = [...retries, lines.find((l) => l.level === 50 && l.key === key)].map((l) =>
      Number(l?.time),
    );
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    // 100, 200, 400, 800, 1600 ms nominal; timers only ever fire late.
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(100 * 2 ** i - 5);
    });
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1] ?? 0);
    const dropped = lines.find((l) => l.level === 50 && l.key === key);
    expect(dropped).toMatchObject({
      msg: 'dropping key out of the queue after its last retry',
      retries: 5,
      controller: 'pod-sync',
    });
    expect(await metric('pod_sync_operator_dropped_keys_total', { controller: 'pod-sync' })).toBe(1);
    // The first sync and its five retries; the warm pod never failed.
    expect(await metric('controller_runtime_reconcile_errors_total', { controller: 'pod-sync' })).toBe(6);

    await realClock.sleep(2_000);
    expect(lines.filter((l) => l.msg === 'sync failed, retrying' && l.key === key)).toHaveLength(5);
  });
});

function ownedPod(name: string, owner: V1OwnerReference): V1Pod {
  const body = podManifest(name);
  body.metadata = { name, ownerReferences: [owner] };
  return body;
}
