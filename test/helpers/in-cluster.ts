// What the kubelet gives a pod, played by hand for an operator process on this machine: a service-account
// directory (TokenRequest token, the cluster CA, the namespace) and KUBERNETES_SERVICE_HOST/PORT, with
// no kubeconfig anywhere, so the operator configures itself exactly as it does in a cluster.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { adminKubeConfig, serviceAccountToken } from './cluster.ts';

export interface InClusterEmulation {
  /** The service-account directory: token, ca.crt, namespace. */
  dir: string;
  /** Flags that point the operator at it. */
  args: string[];
  /** The environment the kubelet sets for every container. */
  env: NodeJS.ProcessEnv;
}

/** The CA of the admin kubeconfig's cluster (the API server's serving certificate), as PEM. */
export function clusterCaPem(): string {
  const cluster = adminKubeConfig().getCurrentCluster();
  if (!cluster?.caData) throw new Error('the admin kubeconfig has no certificate-authority-data');
  return Buffer.from(cluster.caData, 'base64').toString('utf8');
}

/**
 * A service-account directory for `namespace/serviceAccount` with a fresh TokenRequest token (the
 * account is created if it does not exist). Files are world-readable so that a process running as
 * another (non-root) user can read them, as the kubelet's projected volume allows for the pod's user.
 */
export async function inClusterAs(
  namespace: string,
  serviceAccount: string,
  expirationSeconds = 3600,
): Promise<InClusterEmulation> {
  const token = await serviceAccountToken(namespace, serviceAccount, expirationSeconds);
  const dir = mkdtempSync(join(tmpdir(), 'pod-sync-sa-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'token'), token, { mode: 0o644 });
  writeFileSync(join(dir, 'ca.crt'), clusterCaPem(), { mode: 0o644 });
  writeFileSync(join(dir, 'namespace'), namespace, { mode: 0o644 });
  const server = new URL(inject('server'));
  return {
    dir,
    args: ['--service-account-dir', dir],
    env: { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port },
  };
}
