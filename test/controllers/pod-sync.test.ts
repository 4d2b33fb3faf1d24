import { AppsV1Api, CoreV1Api, type V1OwnerReference, type V1Pod } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { realClock } from '../../src/clock/clock.ts';
import { HttpRestClient, type RestClient } from '../../src/client/index.ts';
import { PodSyncController } from '../../src/controllers/pod-sync/pod-sync-controller.ts';
import { DiscoveryClient, DynamicRESTMapper } from '../../src/discovery/index.ts';
import { SharedInformerFactory } from '../../src/informers/index.ts';
import { defaultControllerRateLimiter } from '../../src/queue/index.ts';
import {
  adminKubeConfig,
  createNamespace,
  eventually,
  podManifest,
  restConfigOf,
} from '../helpers/cluster.ts';
import { captureLogs, type LogLine } from '../helpers/logs.ts';
import { runningStatus, setPodStatus } from '../helpers/pods.ts';

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
  options: { baseDelayMs?: number; wrap?: (c: RestClient) => RestClient } = {},
) {
  const client = HttpRestClient.fromConfig(restConfigOf(kc));
  const registry = new Registry();
  const { logger, lines } = captureLogs();
  const factory = new SharedInformerFactory({
    client: options.wrap ? options.wrap(client) : client,
    logger,
    registry,
  });
  const podSync = new PodSyncController({
    factory,
    restMapper: new DynamicRESTMapper({ discovery: new DiscoveryClient(client) }),
    namespace,
    logger,
    registry,
    rateLimiter: defaultControllerRateLimiter({ baseDelayMs: options.baseDelayMs ?? 100 }),
  });
  const stop = new AbortController();
  factory.start(stop.signal);
  const running = podSync.run(stop.signal);
  stops.push(async () => {
    stop.abort();
    await running;
    await factory.shutdown();
    await client.close();
  });
  await eventually(async () =>
    Promise.resolve(lines.some((l) => l.msg === 'caches synced, starting workers')),
  );
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
    return values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? 0;
  };
  return { lines, metric, podSync };
}

const byEvent = (lines: LogLine[], event: string, name?: string) =>
  lines.filter((l) => l.event === event && (name === undefined || l.name === name));

describe('pod sync controller against the real API server', () => {
  it('logs each lifecycle transition once, with workload and node, and counts it', async () => {
    const namespace = await createNamespace('sync-life');
    const { lines, metric } = await startPodSync(namespace);

    const body = podManifest('web');
    body.spec = { containers: body.spec?.containers ?? [], nodeName: 'node-a' };
    const pod = await core.createNamespacedPod({ namespace, body });
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

    await setPodStatus(core, namespace, 'web', runningStatus(false));
    await eventually(async () => Promise.resolve(byEvent(lines, 'phase_changed', 'web').length === 1));
    expect(byEvent(lines, 'phase_changed', 'web')[0]).toMatchObject({ from: 'Pending', to: 'Running' });

    await setPodStatus(core, namespace, 'web', runningStatus(true));
    await eventually(async () => Promise.resolve(byEvent(lines, 'ready', 'web').length === 1));

    await setPodStatus(core, namespace, 'web', runningStatus(false, 1, 'OOMKilled'));
    await eventually(async () => Promise.resolve(byEvent(lines, 'container_restarted', 'web').length === 1));
    expect(byEvent(lines, 'container_restarted', 'web')[0]).toMatchObject({
      container: 'main',
      restartCount: 1,
      reason: 'OOMKilled',
    });
    expect(byEvent(lines, 'unready', 'web')).toHaveLength(1);
    expect(await metric('pod_sync_pods', { phase: 'Running' })).toBe(1);

    await core.deleteNamespacedPod({ namespace, name: 'web', gracePeriodSeconds: 0 });
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
    const { rsRef } = await createDeploymentAndReplicaSet(namespace, 'web');
    await core.createNamespacedPod({
      namespace,
      body: ownedPod('web-abc-1', rsRef),
    });
    // The first pod naming a ReplicaSet starts the ReplicaSet cache, whose ReplicaSet starts the
    // Deployment cache: the report comes at once, the resolved workload once they have listed.
    const resolved = (l: LogLine) =>
      (l.event === 'added' || l.event === 'workload_changed') &&
      l.name === 'web-abc-1' &&
      l.unresolvedOwnerKind === undefined;
    await eventually(async () => Promise.resolve(lines.some(resolved)));
    expect(lines.find(resolved)).toMatchObject({ workloadKind: 'Deployment', workloadName: 'web' });
    expect(byEvent(lines, 'added', 'web-abc-1')).toHaveLength(1);
  });

  it('reports a pod at once while its ReplicaSet has not reached the cache, then its resolved workload', async () => {
    const namespace = await createNamespace('sync-late');
    // ReplicaSet watch events reach this controller 3 s late, as from a lagging informer.
    const { lines } = await startPodSync(namespace, {
      baseDelayMs: 1_000,
      wrap: (c) => delayWatchEvents(c, '/replicasets', 3_000),
    });
    const { rsRef } = await createDeploymentAndReplicaSet(namespace, 'late');
    await core.createNamespacedPod({
      namespace,
      body: ownedPod('late-1', rsRef),
    });

    await eventually(async () => Promise.resolve(byEvent(lines, 'added', 'late-1').length === 1));
    expect(byEvent(lines, 'added', 'late-1')[0]).toMatchObject({
      workloadKind: 'ReplicaSet',
      workloadName: 'late-abc',
      unresolvedOwnerKind: 'ReplicaSet',
      unresolvedOwnerName: 'late-abc',
      unresolvedOwnerUid: rsRef.uid,
    });
    await eventually(
      async () =>
        Promise.resolve(
          byEvent(lines, 'workload_changed', 'late-1').some(
            (l) => l.workloadKind === 'Deployment' && l.unresolvedOwnerKind === undefined,
          ),
        ),
      20_000,
    );
    const retries = lines.filter((l) => l.msg === 'sync failed, retrying' && l.key === `${namespace}/late-1`);
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(String((retries[0]?.err as { message?: string }).message)).toContain(
      `ReplicaSet.apps ${namespace}/late-abc`,
    );
    const changes = byEvent(lines, 'workload_changed', 'late-1');
    expect(changes.at(-1)).toMatchObject({ workloadKind: 'Deployment', workloadName: 'late' });
    // The report did not wait: the pod was added exactly once, before its owner resolved.
    expect(byEvent(lines, 'added', 'late-1')).toHaveLength(1);
  });
});

function ownedPod(name: string, owner: V1OwnerReference): V1Pod {
  const body = podManifest(name);
  body.metadata = { name, ownerReferences: [owner] };
  return body;
}

async function createDeploymentAndReplicaSet(namespace: string, name: string) {
  const labels = { app: name };
  const deployment = await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: podManifest('x').spec },
      },
    },
  });
  const rs = await apps.createNamespacedReplicaSet({
    namespace,
    body: {
      metadata: {
        name: `${name}-abc`,
        labels,
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name,
            uid: deployment.metadata?.uid ?? '',
            controller: true,
          },
        ],
      },
      spec: {
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: podManifest('x').spec },
      },
    },
  });
  const rsRef = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    name: `${name}-abc`,
    uid: rs.metadata?.uid ?? '',
    controller: true,
  };
  return { rsRef };
}
