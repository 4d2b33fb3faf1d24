// What an owner kind costs: the requests and watches it adds, and the heap its metadata cache takes,
// measured on the real API server with 2,000 ReplicaSets as metadata of the Kubernetes shape (labels,
// annotations, managed fields, an owner). The figures are printed and recorded in docs/owners.md. It is a
// measurement, so it runs on a bare control plane of its own: on the living cluster the controller
// manager would act on each ReplicaSet, and the figures would measure that too.
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig, type V1ReplicaSet } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../hack/cluster/control-plane.ts';
import { HttpRestClient } from '../../src/client/index.ts';
import {
  PodSyncController,
  OWNER_UID_INDEX,
  ownerView,
  controllerUid,
} from '../../src/controllers/pod-sync/index.ts';
import { DiscoveryClient, DynamicRESTMapper } from '../../src/discovery/index.ts';
import {
  REPLICASETS,
  SharedInformerFactory,
  type InformerOptions,
  type KubeObject,
} from '../../src/informers/index.ts';
import { restConfigOf } from '../helpers/cluster.ts';
import { ownerRef } from '../helpers/owners.ts';
import { lastReported } from '../helpers/reports.ts';
import { collectGarbage, inParallel, InstrumentedClient } from '../informers/helpers.ts';
import { eventually, captureLogs, metricSum } from '../../src/testing/index.ts';

const OWNERS = 2_000;
const TEMPLATE = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
};

function heapAfterGc(): number {
  if (!collectGarbage()) throw new Error('no gc');
  return process.memoryUsage().heapUsed;
}

describe('the cost of an owner kind', () => {
  let cp: ControlPlane;
  const admin = new KubeConfig();
  beforeAll(async () => {
    cp = await ControlPlane.start();
    admin.loadFromFile(cp.kubeconfigPath);
  });
  afterAll(async () => {
    await cp.stop();
  });

  it('is one watch-list request (then its watch) per kind met, discovery twice in all, and a few hundred bytes per owner', async () => {
    const apps = admin.makeApiClient(AppsV1Api);
    const core = admin.makeApiClient(CoreV1Api);
    const namespace = `owner-cost-${randomBytes(3).toString('hex')}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const deployment = await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: { paused: true, replicas: 0, selector: { matchLabels: { app: 'web' } }, template: TEMPLATE },
      },
    });
    const names = Array.from({ length: OWNERS }, (_, i) => `web-${String(i).padStart(10, '0')}`);
    await inParallel(names, 20, (name) =>
      apps.createNamespacedReplicaSet({
        namespace,
        body: {
          metadata: {
            name,
            labels: { app: 'web', 'pod-template-hash': name.slice(-10) },
            annotations: {
              'deployment.kubernetes.io/desired-replicas': '3',
              'deployment.kubernetes.io/max-replicas': '4',
              'deployment.kubernetes.io/revision': '7',
            },
            ownerReferences: [Object.assign(ownerRef(deployment), { blockOwnerDeletion: true })],
          },
          spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: TEMPLATE },
        } satisfies V1ReplicaSet,
      }),
    );

    const registry = new Registry();
    const rest = HttpRestClient.fromConfig(restConfigOf(admin), { registry });
    const client = new InstrumentedClient(rest);
    const { gets } = client;
    const { logger, lines } = captureLogs('info');
    const factory = new SharedInformerFactory({ client, logger, registry, namespace });
    const podSync = new PodSyncController({
      factory,
      restMapper: new DynamicRESTMapper({ discovery: new DiscoveryClient(client), logger }),
      namespace,
      logger,
      registry,
    });
    const stop = new AbortController();
    factory.start(stop.signal);
    const running = podSync.start(stop.signal);
    const requests = async () =>
      metricSum(await registry.metrics(), 'rest_client_requests_total', { method: 'GET' });
    try {
      await eventually(() => Promise.resolve(podSync.hasSynced()), 30_000);
      const base = { requests: await requests(), watches: client.watches };
      expect(base).toMatchObject({ requests: 1, watches: 1 });

      // One pod owned through a ReplicaSet by the Deployment: two owner kinds, met on demand.
      const rs = await apps.readNamespacedReplicaSet({ namespace, name: names[0] ?? '' });
      await core.createNamespacedPod({
        namespace,
        body: { metadata: { name: 'web-2', ownerReferences: [ownerRef(rs)] }, spec: TEMPLATE.spec },
      });
      await eventually(() => {
        const workload = lastReported(lines).get(`${namespace}/web-2`)?.workload;
        return Promise.resolve(workload?.kind === 'Deployment' && !workload.unresolved);
      }, 30_000);
      await eventually(() => Promise.resolve(podSync.owners.settled()), 30_000);
      const two = { requests: await requests(), watches: client.watches };
      // Discovery (/api, /apis), then a watch-list each for ReplicaSets and Deployments.
      expect(gets).toEqual(['/api', '/apis']);
      expect(two.requests - base.requests).toBe(4);
      expect(two.watches - base.watches).toBe(2);

      // A third kind: a Job and a pod it owns. No discovery now, one more watch-list.
      const job = await admin.makeApiClient(BatchV1Api).createNamespacedJob({
        namespace,
        body: {
          metadata: { name: 'once' },
          spec: { suspend: true, template: { spec: { ...TEMPLATE.spec, restartPolicy: 'Never' } } },
        },
      });
      await core.createNamespacedPod({
        namespace,
        body: { metadata: { name: 'once-1', ownerReferences: [ownerRef(job)] }, spec: TEMPLATE.spec },
      });
      await eventually(() => {
        const workload = lastReported(lines).get(`${namespace}/once-1`)?.workload;
        return Promise.resolve(workload?.kind === 'Job' && !workload.unresolved && podSync.owners.settled());
      }, 30_000);
      const three = { requests: await requests(), watches: client.watches };
      expect(three.requests - two.requests).toBe(1);
      expect(three.watches - two.watches).toBe(1);

      // Heap per cached ReplicaSet: the owner caches' view (with their index), plain
      // PartialObjectMetadata (managed fields dropped, the informers' default), the whole object. Each
      // informer runs alone, measured after a full GC before and after its list.
      const measure = async (options: InformerOptions): Promise<number> => {
        const other = new SharedInformerFactory({ client: rest, namespace });
        const done = new AbortController();
        const before = heapAfterGc();
        const informer = other.informerFor<KubeObject>(REPLICASETS, options);
        other.start(done.signal);
        await eventually(() => Promise.resolve(informer.hasSynced()), 30_000);
        const bytes = (heapAfterGc() - before) / OWNERS;
        expect(informer.store.size).toBe(OWNERS);
        done.abort();
        await other.shutdown();
        return bytes;
      };
      const variants: Record<string, InformerOptions> = {
        'owner view': {
          metadataOnly: true,
          transform: ownerView,
          indexers: { [OWNER_UID_INDEX]: controllerUid },
        },
        PartialObjectMetadata: { metadataOnly: true },
        'whole object': {},
      };
      // Five rounds after one to warm up code and allocator; the median of each variant counts.
      const rounds: Record<string, number[]> = {};
      for (let round = 0; round < 6; round++)
        for (const [name, options] of Object.entries(variants)) {
          const measured = await measure(options);
          if (round > 0) (rounds[name] ??= []).push(measured);
        }
      const bytes = Object.fromEntries(
        Object.entries(rounds).map(([name, values]) => [
          name,
          Math.round(values.sort((a, b) => a - b)[2] ?? 0),
        ]),
      );
      console.log(
        `owner cost: ${two.requests - base.requests} requests for the first 2 kinds (2 discovery + 1 watch-list each), ` +
          `${three.requests - two.requests} for a third; heap per ReplicaSet cached (median of 5): ${JSON.stringify(bytes)} bytes`,
      );
      expect(bytes['owner view']).toBeLessThan(bytes.PartialObjectMetadata ?? 0);
      expect(bytes['owner view']).toBeLessThan(1_024);
    } finally {
      stop.abort();
      await running;
      podSync.owners.close();
      await factory.shutdown();
      await rest.close();
    }
  }, 180_000);
});
