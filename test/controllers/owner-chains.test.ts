// Owner chains of any kind and depth, on a control plane of this file's own: it is bare (no
// kube-controller-manager), so no garbage collector deletes the pods whose owners are missing on purpose.
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  type V1OwnerReference,
  type V1Pod,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../hack/cluster/control-plane.ts';
import { podManifest } from '../helpers/cluster.ts';
import { startOperator, type OperatorProcess } from '../helpers/operator.ts';
import {
  createCustom,
  installCrd,
  ownerRef,
  setCustomOwners,
  type CustomKind,
  type Owned,
} from '../helpers/owners.ts';
import { metricsText } from '../helpers/metrics.ts';
import { lastReported, type ReportedWorkload } from '../helpers/reports.ts';
import { eventually, metricSum, type LogLine } from '../../src/testing/index.ts';

const WIDGET: CustomKind = { group: 'alpha.example.com', kind: 'Widget' };
const GADGET: CustomKind = { group: 'beta.example.com', kind: 'Gadget' };
const OUTSIDER: CustomKind = { group: 'outside.example.com', kind: 'Outsider' };
const LATECOMER: CustomKind = { group: 'late.example.com', kind: 'Latecomer' };
const BUILT_IN =
  'replicasets.apps,deployments.apps,statefulsets.apps,daemonsets.apps,jobs.batch,cronjobs.batch,replicationcontrollers';
/** The default kinds, the two custom kinds and the one whose CRD comes later; never Outsider. */
const OWNER_RESOURCES = `${BUILT_IN},widgets.alpha.example.com,gadgets.beta.example.com,latecomers.late.example.com`;
const GHOST_UID = '6f1b9a4e-0000-4000-8000-00000000dead';

let cp: ControlPlane;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let batch: BatchV1Api;
const running: OperatorProcess[] = [];

beforeAll(async () => {
  cp = await ControlPlane.start();
  kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  batch = kc.makeApiClient(BatchV1Api);
  for (const custom of [WIDGET, GADGET, OUTSIDER]) await installCrd(kc, custom);
}, 120_000);
afterEach(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop('SIGKILL')));
});
afterAll(async () => {
  await cp.stop();
});

async function namespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

/**
 * The operator watching one namespace, with retries 100 ms apart doubling (dropped after about 3 s).
 * --owner-resources goes through its environment twin, so the same test runs against code without it.
 */
async function operator(ns: string, ownerResources = OWNER_RESOURCES): Promise<OperatorProcess> {
  const op = startOperator(
    ['--kubeconfig', cp.kubeconfigPath, '--namespace', ns, '--retry-base-delay=100ms'],
    {
      POD_SYNC_OWNER_RESOURCES: ownerResources,
    },
  );
  running.push(op);
  await op.waitFor((l) => l.msg === 'caches synced, starting workers', 30_000);
  return op;
}

function pod(name: string, ownerReferences: V1OwnerReference[]): V1Pod {
  const body = podManifest(name);
  body.metadata = { name, ownerReferences };
  return body;
}

const TEMPLATE = {
  metadata: { labels: { app: 'owned' } },
  spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
};

async function statefulSet(ns: string, name: string, owners: V1OwnerReference[] = []): Promise<Owned> {
  return apps.createNamespacedStatefulSet({
    namespace: ns,
    body: {
      metadata: { name, ownerReferences: owners },
      spec: { serviceName: name, selector: { matchLabels: { app: 'owned' } }, template: TEMPLATE },
    },
  });
}

async function replicaSet(ns: string, name: string, owners: V1OwnerReference[] = []): Promise<Owned> {
  return apps.createNamespacedReplicaSet({
    namespace: ns,
    body: {
      metadata: { name, ownerReferences: owners },
      spec: { selector: { matchLabels: { app: 'owned' } }, template: TEMPLATE },
    },
  });
}

async function deployment(ns: string, name: string): Promise<Owned> {
  return apps.createNamespacedDeployment({
    namespace: ns,
    body: { metadata: { name }, spec: { selector: { matchLabels: { app: 'owned' } }, template: TEMPLATE } },
  });
}

/** Waits until the pod's last reported workload is `expected`; returns every report line of the pod. */
async function reportedAs(op: OperatorProcess, ns: string, name: string, expected: ReportedWorkload) {
  let last: unknown;
  await eventually(() => {
    last = lastReported(op.lines).get(`${ns}/${name}`)?.workload;
    return Promise.resolve(JSON.stringify(last) === JSON.stringify(expected));
  }, 20_000).catch(() => {
    throw new Error(
      `${ns}/${name}: last reported workload ${JSON.stringify(last)}, want ${JSON.stringify(expected)}`,
    );
  });
  return op.lines.filter((l) => l.key === `${ns}/${name}`);
}

const warnings = (op: OperatorProcess, match: (l: LogLine) => boolean) =>
  op.lines.filter((l) => l.level === 40 && match(l));

describe('owner chains of any kind and depth', () => {
  it('resolves custom resource -> StatefulSet -> Pod, already in the first report', async () => {
    const ns = await namespace('cr-sts');
    const widget = await createCustom(kc, WIDGET, ns, 'shop');
    const sts = await statefulSet(ns, 'db', [ownerRef(widget)]);
    await core.createNamespacedPod({ namespace: ns, body: pod('db-0', [ownerRef(sts)]) });

    const op = await operator(ns);
    const lines = await reportedAs(op, ns, 'db-0', { kind: 'Widget', name: 'shop' });
    // The owner caches were warm before the workers started: no unresolved report first.
    expect(lines.filter((l) => l.event !== undefined).map((l) => l.event)).toEqual(['added']);
  });

  it('resolves four levels through two custom kinds: Gadget -> Widget -> ReplicaSet -> Pod', async () => {
    const ns = await namespace('four');
    const op = await operator(ns);
    const gadget = await createCustom(kc, GADGET, ns, 'top');
    const widget = await createCustom(kc, WIDGET, ns, 'middle', [ownerRef(gadget)]);
    const rs = await replicaSet(ns, 'middle-abc', [ownerRef(widget)]);
    await core.createNamespacedPod({ namespace: ns, body: pod('middle-abc-1', [ownerRef(rs)]) });
    await reportedAs(op, ns, 'middle-abc-1', { kind: 'Gadget', name: 'top' });
  });

  it('reports a kind outside --owner-resources as the top with no lookup, and warns once', async () => {
    const ns = await namespace('outside');
    const outsider = await createCustom(kc, OUTSIDER, ns, 'legacy');
    const sts = await statefulSet(ns, 'legacy-db', [ownerRef(outsider)]);
    for (const name of ['legacy-db-0', 'legacy-db-1', 'legacy-db-2'])
      await core.createNamespacedPod({ namespace: ns, body: pod(name, [ownerRef(sts)]) });

    const op = await operator(ns);
    for (const name of ['legacy-db-0', 'legacy-db-1', 'legacy-db-2'])
      await reportedAs(op, ns, name, { kind: 'Outsider', name: 'legacy' });
    const warned = warnings(op, (l) => l.ownerKind === 'Outsider');
    expect(warned).toHaveLength(1);
    const text = JSON.stringify(warned[0]);
    expect(text).toContain('--owner-resources');
    expect(text).toContain('outsiders.outside.example.com');
    expect(text).toMatch(/get, list, watch/);
    // No informer, so no list of outsiders.
    expect(await metricsText((await op.addresses()).metrics)).not.toContain('outsiders');
  });

  it('refreshes discovery for a custom resource definition created after the operator started', async () => {
    const ns = await namespace('late-crd');
    // A first chain, so that discovery has run before the CRD exists.
    const early = await replicaSet(ns, 'early');
    await core.createNamespacedPod({ namespace: ns, body: pod('early-1', [ownerRef(early)]) });
    const op = await operator(ns);
    await reportedAs(op, ns, 'early-1', { kind: 'ReplicaSet', name: 'early' });

    await installCrd(kc, LATECOMER);
    const latecomer = await createCustom(kc, LATECOMER, ns, 'new');
    const job = await batch.createNamespacedJob({
      namespace: ns,
      body: {
        metadata: { name: 'new-1', ownerReferences: [ownerRef(latecomer)] },
        spec: { suspend: true, template: { spec: { ...TEMPLATE.spec, restartPolicy: 'Never' } } },
      },
    });
    await core.createNamespacedPod({ namespace: ns, body: pod('new-1-x', [ownerRef(job)]) });
    await reportedAs(op, ns, 'new-1-x', { kind: 'Latecomer', name: 'new' });
  });

  it('tells an owner made again under the same name by its uid', async () => {
    const ns = await namespace('remade');
    const d = await deployment(ns, 'web');
    const first = await replicaSet(ns, 'web-1', [ownerRef(d)]);
    await apps.deleteNamespacedReplicaSet({ namespace: ns, name: 'web-1' });
    const second = await replicaSet(ns, 'web-1', [ownerRef(d)]);
    expect(second.metadata?.uid).not.toBe(first.metadata?.uid);
    await core.createNamespacedPod({ namespace: ns, body: pod('stale', [ownerRef(first)]) });
    await core.createNamespacedPod({ namespace: ns, body: pod('fresh', [ownerRef(second)]) });

    const op = await operator(ns);
    await reportedAs(op, ns, 'fresh', { kind: 'Deployment', name: 'web' });
    const stale = await reportedAs(op, ns, 'stale', {
      kind: 'ReplicaSet',
      name: 'web-1',
      unresolved: { kind: 'ReplicaSet', name: 'web-1', uid: first.metadata?.uid ?? '' },
    });
    expect(stale.find((l) => l.event === 'added')).toMatchObject({ workloadKind: 'ReplicaSet' });
  });

  it('follows the one reference marked controller, and none without one', async () => {
    const ns = await namespace('controller-ref');
    const widget = await createCustom(kc, WIDGET, ns, 'owner');
    const sts = await statefulSet(ns, 'managed', [ownerRef(widget)]);
    const bystander = await replicaSet(ns, 'bystander');
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('two-refs', [ownerRef(bystander, false), ownerRef(sts, true)]),
    });
    await core.createNamespacedPod({ namespace: ns, body: pod('no-controller', [ownerRef(sts, null)]) });

    const op = await operator(ns);
    await reportedAs(op, ns, 'two-refs', { kind: 'Widget', name: 'owner' });
    await reportedAs(op, ns, 'no-controller', { kind: 'none', name: '' });
  });

  it('ends the walk at an owner-reference cycle with one warning, and goes on working', async () => {
    const ns = await namespace('cycle');
    const a = await createCustom(kc, WIDGET, ns, 'a');
    const b = await createCustom(kc, GADGET, ns, 'b', [ownerRef(a)]);
    await setCustomOwners(kc, WIDGET, ns, 'a', [ownerRef(b)]);
    for (const name of ['loop-1', 'loop-2'])
      await core.createNamespacedPod({ namespace: ns, body: pod(name, [ownerRef(a)]) });

    const op = await operator(ns);
    // Pod -> a -> b -> a: the walk stops at b, the last owner before the repeat.
    for (const name of ['loop-1', 'loop-2']) await reportedAs(op, ns, name, { kind: 'Gadget', name: 'b' });
    await core.createNamespacedPod({ namespace: ns, body: podManifest('after') });
    await reportedAs(op, ns, 'after', { kind: 'none', name: '' });
    const cycles = warnings(op, (l) => Array.isArray(l.cycle));
    expect(cycles).toHaveLength(1);
    expect(cycles[0]?.cycle).toEqual(['Widget.alpha.example.com/a', 'Gadget.beta.example.com/b']);
  });

  it('reports a pod whose controller never resolves at once, drops it from the retries after 5, and keeps it in the cache and the gauges', async () => {
    const ns = await namespace('never');
    const ghost = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'ghost', uid: GHOST_UID } };
    await core.createNamespacedPod({ namespace: ns, body: pod('orphan', [ownerRef(ghost)]) });
    const op = await operator(ns);
    const key = `${ns}/orphan`;

    const dropped = await op.waitFor((l) => l.level === 50 && l.key === key, 20_000);
    expect(dropped).toMatchObject({ msg: 'dropping key out of the queue after its last retry', retries: 5 });
    const lines = op.lines.filter((l) => l.key === key);
    const added = lines.findIndex((l) => l.event === 'added');
    const firstRetry = lines.findIndex((l) => l.msg === 'sync failed, retrying');
    expect(added).toBeGreaterThanOrEqual(0);
    expect(added).toBeLessThan(firstRetry);
    expect(lines[added]).toMatchObject({
      workloadKind: 'ReplicaSet',
      workloadName: 'ghost',
      unresolvedOwnerKind: 'ReplicaSet',
      unresolvedOwnerName: 'ghost',
      unresolvedOwnerUid: GHOST_UID,
    });
    const retries = lines.filter((l) => l.msg === 'sync failed, retrying');
    expect(retries.map((l) => l.attempt)).toEqual([1, 2, 3, 4, 5]);
    // 100, 200, 400, 800, 1600 ms nominal between the syncs; timers only ever fire late.
    const times = [...retries, dropped].map((l) => Number(l.time));
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(100 * 2 ** i - 5);
    });

    const text = await metricsText((await op.addresses()).metrics);
    expect(metricSum(text, 'pod_sync_operator_dropped_keys_total', { controller: 'pod-sync' })).toBe(1);
    expect(metricSum(text, 'pod_sync_pods', { phase: 'Pending' })).toBe(1);
    expect(metricSum(text, 'pod_sync_unresolved_owner_pods', { group: 'apps', kind: 'ReplicaSet' })).toBe(1);
    expect(lastReported(op.lines).get(key)?.workload.unresolved?.uid).toBe(GHOST_UID);
  });
});
