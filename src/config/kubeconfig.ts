import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigSources {
  /** --kubeconfig: when given, it is the only source tried. */
  flag?: string | undefined;
  /** --master: replaces the server of whatever configuration is found. */
  master?: string | undefined;
  env?: NodeJS.ProcessEnv;
  serviceAccountDir?: string;
  home?: string;
}

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  /** Where it came from, for the start-up log line: a path, or "in-cluster". */
  source: string;
}

export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

/**
 * Finds the client configuration as controller-runtime does: --kubeconfig, then $KUBECONFIG, then
 * in-cluster, then ~/.kube/config. An explicit flag that fails is an error, not a reason to fall through.
 */
export function loadKubeConfig(sources: KubeConfigSources = {}): LoadedKubeConfig {
  const loaded = findKubeConfig(sources);
  if (sources.master) withServer(loaded.kubeConfig, sources.master);
  return loaded;
}

function withServer(kc: KubeConfig, master: string): void {
  let url: URL;
  try {
    url = new URL(master);
  } catch {
    throw new KubeConfigError(`--master: "${master}" is not a URL such as https://10.0.0.1:6443`);
  }
  const current = kc.getCurrentCluster();
  if (!current)
    throw new KubeConfigError('--master: the configuration has no current cluster to point at it');
  const server = url.href.replace(/\/$/, '');
  kc.clusters = kc.clusters.map((c) => (c.name === current.name ? { ...c, server } : c));
}

function findKubeConfig(sources: KubeConfigSources): LoadedKubeConfig {
  const env = sources.env ?? process.env;
  const saDir = sources.serviceAccountDir ?? DEFAULT_SERVICE_ACCOUNT_DIR;
  const home = sources.home ?? homedir();

  if (sources.flag) return { kubeConfig: fromFile(sources.flag, '--kubeconfig'), source: sources.flag };

  const tried: string[] = [];
  const envPaths = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const envPath = envPaths.find((p) => existsSync(p));
  if (envPath) return { kubeConfig: fromFile(envPath, '$KUBECONFIG'), source: envPath };
  tried.push(
    envPaths.length ? `$KUBECONFIG (${envPaths.join(delimiter)}: no such file)` : '$KUBECONFIG (unset)',
  );

  const inCluster = inClusterConfig(env, saDir);
  if (inCluster.kubeConfig) return { kubeConfig: inCluster.kubeConfig, source: 'in-cluster' };
  tried.push(`in-cluster (${inCluster.missing})`);

  const homePath = join(home, '.kube', 'config');
  if (existsSync(homePath)) return { kubeConfig: fromFile(homePath, '~/.kube/config'), source: homePath };
  tried.push(`${homePath} (no such file)`);

  throw new KubeConfigError(`no Kubernetes client configuration found; tried ${tried.join(', ')}`);
}

function fromFile(path: string, via: string): KubeConfig {
  if (!existsSync(path)) throw new KubeConfigError(`${via}: ${path}: no such file`);
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw new KubeConfigError(`${via}: ${path}: not a valid kubeconfig: ${firstLine(err)}`);
  }
  const context = kc.getCurrentContext();
  if (!context) throw new KubeConfigError(`${via}: ${path}: no current-context`);
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server)
    throw new KubeConfigError(`${via}: ${path}: context "${context}" has no cluster server`);
  return kc;
}

function inClusterConfig(
  env: NodeJS.ProcessEnv,
  saDir: string,
): { kubeConfig: KubeConfig; missing?: never } | { kubeConfig?: never; missing: string } {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(saDir, 'token');
  const caFile = join(saDir, 'ca.crt');
  const missing = [
    host ? undefined : 'KUBERNETES_SERVICE_HOST unset',
    port ? undefined : 'KUBERNETES_SERVICE_PORT unset',
    existsSync(tokenFile) ? undefined : `no ${tokenFile}`,
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0 || !host || !port) return { missing: missing.join('; ') };

  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'in-cluster', server, caFile: existsSync(caFile) ? caFile : undefined, skipTLSVerify: false },
    ],
    users: [{ name: 'in-cluster', authProvider: { name: 'tokenFile', config: { tokenFile } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster' }],
    currentContext: 'in-cluster',
  });
  return { kubeConfig: kc };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
