import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { anonymousConfig, type RestConfig } from '../client/index.ts';
import { KubeconfigError } from './errors.ts';

export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type InClusterResult =
  | { config: RestConfig; warnings: string[]; notInCluster?: never }
  | { config?: never; warnings?: never; notInCluster: string };

/**
 * The configuration a pod gets: https://KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT, the
 * service-account token (read now, then re-read as a token file), and the CA when it parses.
 * `notInCluster` says why this is not a pod (unset variables, no token file).
 * Sources: client-go rest/config.go InClusterConfig; tools/clientcmd/client_config.go
 * inClusterClientConfig.Possible.
 * @throws KubeconfigError when this is a pod but its token cannot be read.
 */
export function inClusterConfig(env: NodeJS.ProcessEnv, serviceAccountDir: string): InClusterResult {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(serviceAccountDir, 'token');
  const missing = [
    host ? undefined : 'KUBERNETES_SERVICE_HOST unset',
    port ? undefined : 'KUBERNETES_SERVICE_PORT unset',
    isFile(tokenFile) ? undefined : `no ${tokenFile}`,
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0 || !host || !port) return { notInCluster: missing.join('; ') };

  const config = anonymousConfig(`https://${host.includes(':') ? `[${host}]` : host}:${port}`);
  try {
    config.bearerToken = readFileSync(tokenFile, 'utf8').trim();
  } catch (err) {
    throw new KubeconfigError(`in-cluster: ${tokenFile}: ${(err as Error).message}`);
  }
  config.bearerTokenFile = tokenFile;
  const warnings: string[] = [];
  const caFile = join(serviceAccountDir, 'ca.crt');
  try {
    new X509Certificate(readFileSync(caFile));
    config.tls.caFile = caFile;
  } catch (err) {
    // client-go logs this and goes on with the system's roots.
    warnings.push(`in-cluster: expected to load root CA config from ${caFile}: ${(err as Error).message}`);
  }
  return { config, warnings };
}

function isFile(path: string): boolean {
  try {
    return !statSync(path).isDirectory();
  } catch {
    return false;
  }
}
