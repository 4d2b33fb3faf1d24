import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { emptyConfig, type AuthInfo, type Config } from './api.ts';
import { decodeKubeconfig } from './decode.ts';
import { KubeconfigError } from './errors.ts';

/** Which kubeconfig files to read: one explicit file, or a precedence list merged front to back. */
export interface LoadingRules {
  /** --kubeconfig: the only file read; its absence is an error. */
  explicitPath?: string;
  /** $KUBECONFIG's list, or ~/.kube/config; missing files are skipped. */
  precedence: string[];
}

export interface LoadedConfig {
  config: Config;
  /** The files read, in order. */
  files: string[];
  /** Files of the precedence list that do not exist. */
  missing: string[];
}

/**
 * client-go's default rules: $KUBECONFIG split on the platform's list delimiter (`:`), empty entries
 * and duplicates dropped in order; ~/.kube/config when $KUBECONFIG is unset or empty.
 * Source: client-go tools/clientcmd/loader.go NewDefaultClientConfigLoadingRules.
 */
export function defaultLoadingRules(kubeconfigEnv: string | undefined, home: string): LoadingRules {
  if (kubeconfigEnv) {
    const list = kubeconfigEnv.split(process.platform === 'win32' ? ';' : ':').filter(Boolean);
    return { precedence: [...new Set(list)] };
  }
  return { precedence: [join(home, '.kube', 'config')] };
}

/**
 * Reads and merges the files of `rules`, then resolves relative file references against the folder
 * of the file that defined each entry.
 * Merge (client-go's Load): a cluster, user or context goes whole, from the first file that defines
 * its name; a later file's entry of the same name is ignored, not merged field by field.
 * current-context comes from the first file that sets it.
 * Source: client-go tools/clientcmd/loader.go Load, ResolveLocalPaths; merge.go.
 * @throws KubeconfigError when the explicit file is missing, or a file cannot be read or decoded.
 */
export function loadKubeconfigFiles(rules: LoadingRules): LoadedConfig {
  const files: string[] = [];
  const missing: string[] = [];
  const config = emptyConfig();
  if (rules.explicitPath !== undefined && !exists(rules.explicitPath)) {
    throw new KubeconfigError(`--kubeconfig ${rules.explicitPath}: no such file`);
  }
  const candidates = rules.explicitPath !== undefined ? [rules.explicitPath] : rules.precedence;
  for (const path of candidates) {
    if (!path) continue;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        missing.push(path);
        continue;
      }
      throw new KubeconfigError(`kubeconfig ${path}: cannot be read: ${(err as Error).message}`);
    }
    files.push(path);
    mergeInto(config, decodeKubeconfig(text, path));
  }
  resolveLocalPaths(config);
  return { config, files, missing };
}

/** Adds `later` under `config`: names and values already set win. */
export function mergeInto(config: Config, later: Config): void {
  if (config.currentContext === '') config.currentContext = later.currentContext;
  for (const [name, cluster] of later.clusters)
    if (!config.clusters.has(name)) config.clusters.set(name, cluster);
  for (const [name, user] of later.authInfos)
    if (!config.authInfos.has(name)) config.authInfos.set(name, user);
  for (const [name, context] of later.contexts)
    if (!config.contexts.has(name)) config.contexts.set(name, context);
}

/**
 * Makes clientcmd's file references absolute against the folder of the file each entry came from:
 * cluster certificate-authority; user client-certificate, client-key, tokenFile, and exec command
 * only when it contains a path separator (a bare name is looked up on PATH).
 * Source: client-go tools/clientcmd/loader.go ResolveLocalPaths, GetClusterFileReferences,
 * GetAuthInfoFileReferences.
 */
export function resolveLocalPaths(config: Config): void {
  for (const [name, cluster] of config.clusters) {
    if (!cluster.locationOfOrigin) continue;
    const base = resolve(dirname(cluster.locationOfOrigin));
    config.clusters.set(name, {
      ...cluster,
      certificateAuthority: against(base, cluster.certificateAuthority),
    });
  }
  for (const [name, user] of config.authInfos) {
    if (!user.locationOfOrigin) continue;
    const base = resolve(dirname(user.locationOfOrigin));
    const resolved: AuthInfo = {
      ...user,
      clientCertificate: against(base, user.clientCertificate),
      clientKey: against(base, user.clientKey),
      tokenFile: against(base, user.tokenFile),
    };
    if (user.exec?.command.includes(sep)) {
      resolved.exec = { ...user.exec, command: against(base, user.exec.command) };
    }
    config.authInfos.set(name, resolved);
  }
}

function against(base: string, path: string): string {
  return path === '' || isAbsolute(path) ? path : join(base, path);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
