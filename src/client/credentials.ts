import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { realClock, type Clock } from '../clock/index.ts';
import { AuthProviderCredentials } from './auth-provider.ts';
import {
  ExecAuthenticator,
  execClusterOf,
  type ExecAuthenticatorOptions,
  type ExecCredential,
} from './exec-authenticator.ts';
import type { ImpersonationConfig, RestConfig } from './rest-config.ts';
import { TokenFile } from './token-file.ts';

/** A client certificate and key, PEM. */
export interface ClientIdentity {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/** Header values; a list is sent as repeated headers (Impersonate-Group). */
export type CredentialHeaders = Readonly<Record<string, string | readonly string[]>>;

/** What one request needs from the user: headers, and the client certificate the connection presents. */
export interface RequestCredentials {
  readonly headers: CredentialHeaders;
  /** Set when the user has a client certificate (from the kubeconfig, or rotated by an exec plugin). */
  readonly identity: ClientIdentity | undefined;
}

/** Where a request's credentials come from; built once per REST config. */
export interface CredentialSource {
  credentials(): Promise<RequestCredentials>;
  /**
   * The server answered 401 to a request sent with `used`: refresh what can be refreshed (re-read a
   * token file, run an exec plugin again). Resolves once fresh credentials are ready.
   */
  onUnauthorized(used: RequestCredentials): Promise<void> | void;
}

export interface CredentialOptions extends Omit<ExecAuthenticatorOptions, 'clock'> {
  clock?: Clock;
  logger?: Logger;
}

/**
 * The credentials of a REST config, in client-go's order of precedence: a bearer token (a token file,
 * re-read once a minute and after a 401, wins over a static token), else basic auth; a client
 * certificate; an exec plugin only when none of those is set; an auth provider (the only path that
 * loads @kubernetes/client-node, lazily). Impersonation headers go with every request.
 * Sources: client-go transport/round_trippers.go HTTPWrappersForConfig, NewBearerAuthWithRefreshRoundTripper,
 * NewImpersonatingRoundTripper; plugin/pkg/client/auth/exec/exec.go UpdateTransportConfig.
 */
export function credentialsFor(config: RestConfig, options: CredentialOptions = {}): CredentialSource {
  const clock = options.clock ?? realClock;
  const fixed: Record<string, string | string[]> = impersonationHeaders(config.impersonate);
  const identity = staticIdentity(config);
  const hasToken = config.bearerToken !== '' || config.bearerTokenFile !== '';
  const hasBasic = config.username !== '' || config.password !== '';

  if (hasToken) {
    const file = config.bearerTokenFile ? new TokenFile(config.bearerTokenFile, clock) : undefined;
    const fallback = config.bearerToken;
    return {
      async credentials() {
        let token = fallback;
        if (file) {
          try {
            token = await file.token();
          } catch (err) {
            if (!fallback) throw err;
          }
        }
        return { headers: { ...fixed, authorization: `Bearer ${token}` }, identity };
      },
      onUnauthorized: () => {
        file?.invalidate();
      },
    };
  }
  if (hasBasic) {
    const basic = Buffer.from(`${config.username}:${config.password}`).toString('base64');
    return fixedCredentials({ ...fixed, authorization: `Basic ${basic}` }, identity);
  }
  if (identity) return fixedCredentials(fixed, identity);
  if (config.execProvider) {
    const cluster = config.execProvider.provideClusterInfo ? execClusterOf(config) : undefined;
    return new ExecCredentials(
      new ExecAuthenticator(config.execProvider, cluster, { ...options, clock }),
      fixed,
    );
  }
  if (config.authProvider) return new AuthProviderCredentials(config, fixed);
  return fixedCredentials(fixed, undefined);
}

function fixedCredentials(
  headers: CredentialHeaders,
  identity: ClientIdentity | undefined,
): CredentialSource {
  const credentials: RequestCredentials = { headers, identity };
  return { credentials: () => Promise.resolve(credentials), onUnauthorized: () => undefined };
}

/** Requests carry the plugin's token and present its certificate; a 401 runs the plugin again once. */
class ExecCredentials implements CredentialSource {
  readonly #authenticator: ExecAuthenticator;
  readonly #fixed: CredentialHeaders;
  /** One RequestCredentials per plugin credential, so a 401 can tell which credential it answered. */
  readonly #made = new WeakMap<RequestCredentials, ExecCredential>();
  #last: { credential: ExecCredential; request: RequestCredentials } | undefined;

  constructor(authenticator: ExecAuthenticator, fixed: CredentialHeaders) {
    this.#authenticator = authenticator;
    this.#fixed = fixed;
  }

  async credentials(): Promise<RequestCredentials> {
    const credential = await this.#authenticator.credential();
    if (this.#last?.credential === credential) return this.#last.request;
    const request: RequestCredentials = {
      headers: credential.token
        ? { ...this.#fixed, authorization: `Bearer ${credential.token}` }
        : this.#fixed,
      identity: credential.identity,
    };
    this.#made.set(request, credential);
    this.#last = { credential, request };
    return request;
  }

  async onUnauthorized(used: RequestCredentials): Promise<void> {
    const credential = this.#made.get(used);
    if (credential) await this.#authenticator.refreshAfterUnauthorized(credential);
  }
}

/**
 * Impersonate-User, -Uid, -Group (repeated) and -Extra-<key> (repeated), the key escaped as client-go
 * escapes it. Source: client-go transport/round_trippers.go impersonatingRoundTripper, headerKeyEscape.
 */
export function impersonationHeaders(
  impersonate: ImpersonationConfig | undefined,
): Record<string, string | string[]> {
  if (!impersonate?.userName) return {};
  const headers: Record<string, string | string[]> = { 'impersonate-user': impersonate.userName };
  if (impersonate.uid) headers['impersonate-uid'] = impersonate.uid;
  if (impersonate.groups.length > 0) headers['impersonate-group'] = [...impersonate.groups];
  for (const [key, values] of Object.entries(impersonate.extra)) {
    if (values.length > 0) headers[`impersonate-extra-${headerKeyEscape(key)}`.toLowerCase()] = [...values];
  }
  return headers;
}

/** RFC 7230 token characters stay, '%' and everything else is %-encoded byte by byte. */
function headerKeyEscape(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[!#$&'*+\-.^_`|~0-9A-Za-z]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The config's client certificate and key, read now from their files or data. */
function staticIdentity(config: RestConfig): ClientIdentity | undefined {
  const cert = pemOf(config.tls.certFile, config.tls.certData);
  const key = pemOf(config.tls.keyFile, config.tls.keyData);
  return cert && key ? { cert, key } : undefined;
}

/** A file's bytes, else the data; undefined when neither is set. */
export function pemOf(file: string, data: Buffer | undefined): Buffer | undefined {
  if (file) return readFileSync(file);
  if (data && data.length > 0) return data;
  return undefined;
}
