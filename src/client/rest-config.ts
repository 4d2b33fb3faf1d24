// What the transport needs to reach one API server as one user: client-go's rest.Config, less what
// this operator does not use (timeouts, rate limits and user agent are transport options here).

/** TLS towards the server and the client certificate. Files are read when the transport is built. */
export interface TlsClientConfig {
  /** Skip verification of the server's certificate. Never together with a CA. */
  insecure: boolean;
  /** Server name for SNI and verification, when it differs from the host. */
  serverName: string;
  caFile: string;
  caData: Buffer | undefined;
  certFile: string;
  certData: Buffer | undefined;
  keyFile: string;
  keyData: Buffer | undefined;
}

/** Impersonate-User / -Uid / -Group / -Extra-* headers. */
export interface ImpersonationConfig {
  userName: string;
  uid: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** An exec credential plugin (client.authentication.k8s.io), with what it may learn of the cluster. */
export interface ExecProviderConfig {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  /** client.authentication.k8s.io/v1 or /v1beta1. */
  apiVersion: string;
  installHint: string;
  provideClusterInfo: boolean;
  interactiveMode: 'Never' | 'IfAvailable' | 'Always';
  /** The cluster extension `client.authentication.k8s.io/exec`, handed to the plugin as spec.cluster.config. */
  config: unknown;
}

export interface RestConfig {
  /** The server URL, scheme included (http or https), with any path prefix. */
  host: string;
  tls: TlsClientConfig;
  /** A static token; a token file, when readable, wins over it at request time. */
  bearerToken: string;
  /** Re-read once a minute and after a 401; the last good token is kept. */
  bearerTokenFile: string;
  username: string;
  password: string;
  impersonate: ImpersonationConfig | undefined;
  execProvider: ExecProviderConfig | undefined;
  /** A client-node auth provider (oidc, gcp, azure...): the only path that loads @kubernetes/client-node. */
  authProvider: { name: string; config: Record<string, string> } | undefined;
  /** The cluster asks for uncompressed responses; we never ask for compression, so this changes nothing. */
  disableCompression: boolean;
}

export function emptyTls(): TlsClientConfig {
  return {
    insecure: false,
    serverName: '',
    caFile: '',
    caData: undefined,
    certFile: '',
    certData: undefined,
    keyFile: '',
    keyData: undefined,
  };
}

/** A config with only a host: no TLS settings, no credentials. */
export function anonymousConfig(host: string): RestConfig {
  return {
    host,
    tls: emptyTls(),
    bearerToken: '',
    bearerTokenFile: '',
    username: '',
    password: '',
    impersonate: undefined,
    execProvider: undefined,
    authProvider: undefined,
    disableCompression: false,
  };
}

/**
 * Only a TLS connection gets credentials and TLS settings: for an http server client-go leaves the
 * user and the cluster's TLS out of the config, so nothing secret travels in clear.
 * Source: client-go tools/clientcmd/client_config.go DirectClientConfig.ClientConfig,
 * rest/config.go IsConfigTransportTLS.
 */
export function isTransportTls(host: string): boolean {
  return new URL(host).protocol === 'https:';
}
