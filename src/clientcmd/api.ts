// The kubeconfig schema (clientcmd api v1) as client-go holds it after decoding: named lists become
// maps, and every cluster, user and context remembers the file it came from (LocationOfOrigin), so
// that relative file references resolve against that file's folder.
// Source: k8s.io/client-go tools/clientcmd/api/v1/types.go and api/types.go.

export interface Cluster {
  /** The API server URL, e.g. https://10.0.0.1:6443; `--master` overrides it. */
  server: string;
  /** TLS server name for SNI and verification, when it differs from the server's host. */
  tlsServerName: string;
  insecureSkipTlsVerify: boolean;
  /** A PEM file (a path, resolved against the kubeconfig's folder). */
  certificateAuthority: string;
  certificateAuthorityData: Buffer | undefined;
  proxyUrl: string;
  disableCompression: boolean;
  /** Named extensions, decoded JSON; `client.authentication.k8s.io/exec` goes to exec plugins. */
  extensions: ReadonlyMap<string, unknown>;
  locationOfOrigin: string;
  /** Keys of the entry that are not in the schema; kubectl ignores them, we warn. */
  unknownFields: readonly string[];
}

export type ExecInteractiveMode = 'Never' | 'IfAvailable' | 'Always';

export interface ExecEnvVar {
  name: string;
  value: string;
}

export interface ExecConfig {
  /** A path (resolved when it has a separator) or a name looked up on PATH. */
  command: string;
  args: string[];
  env: ExecEnvVar[];
  /** client.authentication.k8s.io/v1 or /v1beta1. */
  apiVersion: string;
  installHint: string;
  provideClusterInfo: boolean;
  /** Empty only when the file left it out for v1, which validation refuses. */
  interactiveMode: ExecInteractiveMode | '';
  unknownFields: readonly string[];
}

export interface AuthProviderConfig {
  name: string;
  config: Record<string, string>;
}

export interface AuthInfo {
  clientCertificate: string;
  clientCertificateData: Buffer | undefined;
  clientKey: string;
  clientKeyData: Buffer | undefined;
  token: string;
  tokenFile: string;
  /** `as`: the user to impersonate. */
  impersonate: string;
  impersonateUid: string;
  impersonateGroups: string[];
  impersonateUserExtra: Record<string, string[]>;
  username: string;
  password: string;
  authProvider: AuthProviderConfig | undefined;
  exec: ExecConfig | undefined;
  locationOfOrigin: string;
  unknownFields: readonly string[];
}

export interface Context {
  cluster: string;
  user: string;
  namespace: string;
  locationOfOrigin: string;
  unknownFields: readonly string[];
}

/** One kubeconfig file, or several merged. */
export interface Config {
  currentContext: string;
  clusters: Map<string, Cluster>;
  authInfos: Map<string, AuthInfo>;
  contexts: Map<string, Context>;
}

export function emptyConfig(): Config {
  return { currentContext: '', clusters: new Map(), authInfos: new Map(), contexts: new Map() };
}

export function isEmptyConfig(config: Config): boolean {
  return (
    config.currentContext === '' &&
    config.clusters.size === 0 &&
    config.authInfos.size === 0 &&
    config.contexts.size === 0
  );
}
