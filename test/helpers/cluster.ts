// What tests need from the shared cluster, the living one (hack/cluster/control-plane.ts): its
// controller manager makes each namespace's `default` ServiceAccount, garbage-collects and finalizes
// deleted namespaces; its scheduler binds pods to kwok's fake nodes, where they run. The cluster is
// thrown away after the run, so tests need not clean up their namespaces.
import { randomBytes } from 'node:crypto';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, inject } from 'vitest';
import { ControlPlane, type ControlPlaneOptions } from '../../hack/cluster/control-plane.ts';
import type { RestConfig } from '../../src/client/index.ts';
import { clientConfig, decodeKubeconfig, loadRestConfig } from '../../src/clientcmd/index.ts';
import { eventually } from '../../src/testing/index.ts';

export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfig'));
  return kc;
}

/** The admin kubeconfig's cluster with another bearer token, e.g. a ServiceAccount's. */
export function kubeConfigWithToken(token: string): KubeConfig {
  const admin = adminKubeConfig();
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'token-user', token }],
    contexts: [{ name: 'token', cluster: cluster.name, user: 'token-user' }],
    currentContext: 'token',
  });
  return kc;
}

/**
 * A namespace of the test's own, named prefix-<random>, once it can take pods: the ServiceAccount
 * admission plugin rejects a pod until the controller manager has made the namespace's `default`
 * ServiceAccount, a moment after the namespace.
 */
export async function createNamespace(prefix = 'test', kc = adminKubeConfig()): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({
    body: { metadata: { name, labels: { 'pod-sync-operator/test': 'true' } } },
  });
  await eventually(
    () =>
      core.readNamespacedServiceAccount({ namespace: name, name: 'default' }).then(
        () => true,
        () => false,
      ),
    30_000,
  );
  return name;
}

/** The scheduler that `podManifest` pods name: none of that name runs. */
export const UNSCHEDULED = 'pod-sync-test-no-scheduler';

/**
 * A small Pod that the API server accepts and nothing else touches: it names a scheduler that does not
 * run here (as a pod for a custom scheduler that is down), so it stays Pending and unbound, and kwok
 * never sees it. Its only changes are the test's. Tests of what controllers, the scheduler and kwok do
 * to pods use workloads (test/helpers/workloads.ts).
 */
export function podManifest(name: string, labels: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, labels: { app: 'smoke', ...labels } },
    spec: {
      schedulerName: UNSCHEDULED,
      containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }],
    },
  };
}

/** Creates a `podManifest` pod in `namespace`, as the admin. */
export async function createPod(namespace: string, name: string): Promise<void> {
  await adminKubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespacedPod({ namespace, body: podManifest(name) });
}

/** A namespace of the test's own (see createNamespace) that holds one `podManifest` pod, `first`. */
export async function namespaceWithPod(prefix: string): Promise<string> {
  const namespace = await createNamespace(prefix);
  await createPod(namespace, 'first');
  return namespace;
}

/** Creates a ServiceAccount (unless it exists) and returns a token for it via TokenRequest. */
export async function serviceAccountToken(
  namespace: string,
  name: string,
  expirationSeconds = 3600,
): Promise<string> {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  await core
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name } } })
    .catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) throw err;
    });
  const request = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}

/**
 * Whether `token` may list pods in `default`: false while the API server refuses it (401: unknown or
 * revoked) or forbids it (403: its RBAC not bound yet).
 */
export async function tokenWorks(token: string): Promise<boolean> {
  try {
    await kubeConfigWithToken(token)
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace: 'default', limit: 1 });
    return true;
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === 401 || code === 403) return false;
    throw err;
  }
}

/**
 * The REST config of a client-node KubeConfig's current cluster and user, for tests that hold one:
 * through our own kubeconfig rules, from the same YAML.
 */
export function restConfigOf(kc: KubeConfig): RestConfig {
  return clientConfig(decodeKubeconfig(kc.exportConfig(), '')).config;
}

/** The admin kubeconfig as the operator loads it. */
export function adminRestConfig(): RestConfig {
  return loadRestConfig({ kubeconfig: inject('kubeconfig') }).config;
}

/** A started control plane of a test file's own, with admin clients of it. */
export interface OwnControlPlane {
  readonly cp: ControlPlane;
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
}

/**
 * A control plane of the calling file (or describe block) alone, for tests that restart, compact or
 * reconfigure it: started in beforeAll, stopped in afterAll. Vitest runs afterAll hooks in reverse, so
 * the caller's own afterAll (stopping an operator) runs before the stop. Its fields can be read once
 * beforeAll has run, in hooks and tests.
 */
export function ownControlPlane(options: ControlPlaneOptions = {}): OwnControlPlane {
  let started: OwnControlPlane | undefined;
  beforeAll(async () => {
    const cp = await ControlPlane.start(options);
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    started = { cp, kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
  }, 120_000);
  afterAll(async () => {
    await started?.cp.stop();
  });
  const get = (): OwnControlPlane => {
    if (!started) throw new Error('the control plane starts in beforeAll: read it in a hook or a test');
    return started;
  };
  return {
    get cp() {
      return get().cp;
    },
    get kc() {
      return get().kc;
    },
    get core() {
      return get().core;
    },
    get apps() {
      return get().apps;
    },
  };
}
