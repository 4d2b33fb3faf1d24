import { readFileSync } from 'node:fs';
import { anonymousConfig, isTransportTls, type RestConfig } from '../client/index.ts';
import type { AuthInfo, Cluster, Config, Context } from './api.ts';
import { KubeconfigError } from './errors.ts';

/** What the command line overrides in the merged kubeconfig (client-go's ConfigOverrides, the part we use). */
export interface ConfigOverrides {
  /** --master: replaces the cluster's server, and with it the kubeconfig's tls-server-name. */
  server?: string | undefined;
}

/** The merged kubeconfig names no cluster at all (client-go's ErrEmptyConfig): try in-cluster next. */
export class EmptyConfigError extends KubeconfigError {
  override name = 'EmptyConfigError';
}

export interface ClientConfigResult {
  config: RestConfig;
  /** The current context, its cluster and user, for the start-up log line. */
  context: string;
  cluster: string;
  user: string;
  /** Keys outside the schema in the entries used: ignored, as kubectl ignores them, and reported. */
  warnings: string[];
}

/** The extension of a cluster entry that exec plugins receive as spec.cluster.config. */
export const EXEC_CLUSTER_EXTENSION = 'client.authentication.k8s.io/exec';

const emptyCluster = (): Cluster => ({
  server: '',
  tlsServerName: '',
  insecureSkipTlsVerify: false,
  certificateAuthority: '',
  certificateAuthorityData: undefined,
  proxyUrl: '',
  disableCompression: false,
  extensions: new Map(),
  locationOfOrigin: '',
  unknownFields: [],
});

/**
 * The REST config of the current context of a merged kubeconfig, as client-go's DirectClientConfig
 * builds it: the context's cluster with the overrides applied, checked as ConfirmUsable checks it,
 * then the user's credentials and the cluster's TLS, both only for an https server.
 * Stricter than client-go where it would quietly go anonymous: a context that names a user or a
 * cluster no file defines is an error. proxy-url is refused (not supported).
 * Sources: client-go tools/clientcmd/client_config.go ClientConfig, getCluster,
 * getUserIdentificationPartialConfig, getServerIdentificationPartialConfig; validation.go
 * validateClusterInfo, validateAuthInfo; transport/transport.go TLSConfigFor (CA with insecure).
 * @throws EmptyConfigError when nothing names a server; KubeconfigError for anything unusable.
 */
export function clientConfig(merged: Config, overrides: ConfigOverrides = {}): ClientConfigResult {
  const contextName = merged.currentContext;
  const context: Context = merged.contexts.get(contextName) ?? {
    cluster: '',
    user: '',
    namespace: '',
    locationOfOrigin: '',
    unknownFields: [],
  };
  if (contextName !== '' && !merged.contexts.has(contextName)) {
    throw new KubeconfigError(`current-context "${contextName}" is not a context of the kubeconfig`);
  }
  const clusterEntry = merged.clusters.get(context.cluster);
  if (context.cluster !== '' && !clusterEntry) {
    throw new KubeconfigError(
      `context "${contextName}" names cluster "${context.cluster}", which no kubeconfig defines`,
    );
  }
  const userEntry = merged.authInfos.get(context.user);
  if (context.user !== '' && !userEntry) {
    throw new KubeconfigError(
      `context "${contextName}" names user "${context.user}", which no kubeconfig defines`,
    );
  }
  const cluster = { ...(clusterEntry ?? emptyCluster()) };
  if (overrides.server) {
    cluster.server = overrides.server;
    // getCluster: an overridden server clears the kubeconfig's tls-server-name.
    cluster.tlsServerName = '';
  }
  if (!cluster.server) {
    if (!clusterEntry) {
      throw new EmptyConfigError(
        contextName === ''
          ? 'the kubeconfig has no current-context'
          : `context "${contextName}" names no cluster`,
      );
    }
    throw new KubeconfigError(`cluster "${context.cluster}" has no server`);
  }
  const user = userEntry;
  const clusterAt = `cluster "${context.cluster}"`;
  const userAt = `user "${context.user}"`;
  validateCluster(cluster, clusterAt);
  if (user) validateUser(user, userAt);

  const host = normalizeHost(cluster.server, clusterAt);
  const config: RestConfig = { ...anonymousConfig(host), disableCompression: cluster.disableCompression };
  if (user?.impersonate) {
    config.impersonate = {
      userName: user.impersonate,
      uid: user.impersonateUid,
      groups: user.impersonateGroups,
      extra: user.impersonateUserExtra,
    };
  }
  if (isTransportTls(host)) {
    if (user) userIdentification(config, user, cluster, userAt);
    config.tls.caFile = cluster.certificateAuthority;
    config.tls.caData = cluster.certificateAuthorityData;
    config.tls.insecure = cluster.insecureSkipTlsVerify;
    config.tls.serverName = cluster.tlsServerName;
    if (config.tls.insecure && (config.tls.caFile || config.tls.caData)) {
      throw new KubeconfigError(
        `${clusterAt}: insecure-skip-tls-verify with a certificate authority is not allowed (specify one or the other)`,
      );
    }
  }

  const warnings: string[] = [];
  const unknown = (at: string, keys: readonly string[]) => {
    for (const key of keys) warnings.push(`kubeconfig ${at}: unknown field "${key}" ignored`);
  };
  unknown(`context "${contextName}"`, context.unknownFields);
  if (clusterEntry) unknown(clusterAt, clusterEntry.unknownFields);
  if (user) {
    unknown(userAt, user.unknownFields);
    if (user.exec) unknown(`${userAt} exec`, user.exec.unknownFields);
  }
  return { config, context: contextName, cluster: context.cluster, user: context.user, warnings };
}

/**
 * client-go's host rules: a server without a scheme is http (DefaultServerURL with no TLS configured
 * yet); a path prefix is kept, its query and fragment dropped.
 */
export function normalizeHost(server: string, at: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `http://${server}`);
  } catch {
    throw new KubeconfigError(`${at}: server "${server}" is not a URL such as https://10.0.0.1:6443`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeconfigError(`${at}: server "${server}" is not an http or https URL`);
  }
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}

function userIdentification(config: RestConfig, user: AuthInfo, cluster: Cluster, at: string): void {
  if (user.token) {
    config.bearerToken = user.token;
    config.bearerTokenFile = user.tokenFile;
  } else if (user.tokenFile) {
    // Read once now, as client-go does: an unreadable file fails here, not at the first request.
    try {
      config.bearerToken = readFileSync(user.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new KubeconfigError(`${at}: tokenFile ${user.tokenFile}: ${(err as Error).message}`);
    }
    config.bearerTokenFile = user.tokenFile;
  }
  if (user.clientCertificate || user.clientCertificateData) {
    config.tls.certFile = user.clientCertificate;
    config.tls.certData = user.clientCertificateData;
    config.tls.keyFile = user.clientKey;
    config.tls.keyData = user.clientKeyData;
  }
  if (user.username || user.password) {
    config.username = user.username;
    config.password = user.password;
  }
  if (user.authProvider) config.authProvider = user.authProvider;
  if (user.exec) {
    const { command, args, env, apiVersion, installHint, provideClusterInfo, interactiveMode } = user.exec;
    config.execProvider = {
      command,
      args,
      env,
      apiVersion,
      installHint,
      provideClusterInfo,
      // validateUser made sure it is set.
      interactiveMode: interactiveMode as 'Never' | 'IfAvailable' | 'Always',
      config: cluster.extensions.get(EXEC_CLUSTER_EXTENSION),
    };
  }
}

function validateCluster(cluster: Cluster, at: string): void {
  if (cluster.proxyUrl) {
    throw new KubeconfigError(`${at}: proxy-url is not supported (${cluster.proxyUrl})`);
  }
  if (cluster.certificateAuthority && cluster.certificateAuthorityData) {
    throw new KubeconfigError(
      `${at}: certificate-authority-data and certificate-authority are both specified`,
    );
  }
  readable(cluster.certificateAuthority, `${at}: certificate-authority`);
}

function validateUser(user: AuthInfo, at: string): void {
  const methods = [user.token ? 'token' : '', user.username || user.password ? 'basicAuth' : ''].filter(
    Boolean,
  );
  if (methods.length > 1) {
    throw new KubeconfigError(
      `${at}: more than one authentication method (${methods.join(', ')}); only one is allowed`,
    );
  }
  if (user.clientCertificate || user.clientCertificateData) {
    if (user.clientCertificate && user.clientCertificateData) {
      throw new KubeconfigError(`${at}: client-certificate-data and client-certificate are both specified`);
    }
    if (user.clientKey && user.clientKeyData) {
      throw new KubeconfigError(`${at}: client-key-data and client-key are both specified`);
    }
    if (!user.clientKey && !user.clientKeyData) {
      throw new KubeconfigError(`${at}: a client certificate needs client-key or client-key-data`);
    }
    readable(user.clientCertificate, `${at}: client-certificate`);
    readable(user.clientKey, `${at}: client-key`);
  }
  const exec = user.exec;
  if (exec) {
    if (user.authProvider)
      throw new KubeconfigError(`${at}: auth-provider and exec cannot both be specified`);
    if (!exec.command) throw new KubeconfigError(`${at}: exec needs a command`);
    if (!exec.apiVersion) throw new KubeconfigError(`${at}: exec needs an apiVersion`);
    if (!EXEC_API_VERSIONS.has(exec.apiVersion)) {
      throw new KubeconfigError(
        `${at}: exec apiVersion "${exec.apiVersion}" is not client.authentication.k8s.io/v1 or /v1beta1`,
      );
    }
    if (exec.env.some((e) => !e.name)) throw new KubeconfigError(`${at}: exec env entry without a name`);
    if (!exec.interactiveMode) {
      throw new KubeconfigError(
        `${at}: exec needs interactiveMode (Never, IfAvailable or Always) for ${exec.apiVersion}`,
      );
    }
  }
  if (
    (user.impersonateUid ||
      user.impersonateGroups.length > 0 ||
      Object.keys(user.impersonateUserExtra).length > 0) &&
    !user.impersonate
  ) {
    throw new KubeconfigError(
      `${at}: as-uid, as-groups or as-user-extra without as (the user to impersonate)`,
    );
  }
}

/** The exec credential API versions client-go accepts (plugin/pkg/client/auth/exec/exec.go apiVersions). */
export const EXEC_API_VERSIONS: ReadonlySet<string> = new Set([
  'client.authentication.k8s.io/v1',
  'client.authentication.k8s.io/v1beta1',
]);

function readable(path: string, at: string): void {
  if (!path) return;
  try {
    readFileSync(path);
  } catch (err) {
    throw new KubeconfigError(`${at} ${path}: ${(err as Error).message}`);
  }
}
