// What tests need from the shared control plane. It has no kube-controller-manager, so these helpers
// do by hand what a real cluster would: there are no default ServiceAccounts, nothing garbage-collects,
// and a deleted namespace stays Terminating. The control plane is thrown away after the run, so tests
// need not clean up their namespaces.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { inject } from 'vitest';
import type { RestConfig } from '../../src/client/index.ts';
import { clientConfig, decodeKubeconfig, loadRestConfig } from '../../src/clientcmd/index.ts';

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

/** A namespace of the test's own, named prefix-<random>. */
export async function createNamespace(prefix = 'test'): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await adminKubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { 'pod-sync-operator/test': 'true' } } } });
  return name;
}

/** A small Pod that the API server accepts; nothing runs it, since there is no kubelet. */
export function podManifest(name: string, labels: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, labels: { app: 'smoke', ...labels } },
    spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
  };
}

/** Creates a ServiceAccount (no controller makes default ones) and returns a token for it via TokenRequest. */
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

/** Polls fn until it returns true or the timeout passes; for state that converges (RBAC, caches). */
export async function eventually(
  fn: () => Promise<boolean>,
  timeoutMs = 10_000,
  stepMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
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
