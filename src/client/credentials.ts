import { readFileSync } from 'node:fs';
import type { KubeConfig, User } from '@kubernetes/client-node';
import { realClock, type Clock } from '../clock/clock.ts';
import { TokenFile } from './token-file.ts';

/** A client certificate and key, PEM. */
export interface ClientIdentity {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/** What one request needs from the user: headers, and the client certificate the connection presents. */
export interface RequestCredentials {
  readonly headers: Readonly<Record<string, string>>;
  /** Set when the user has a client certificate (from the kubeconfig, or rotated by an exec plugin). */
  readonly identity: ClientIdentity | undefined;
}

/** Where a request's credentials come from; built once per kubeconfig user. */
export interface CredentialSource {
  credentials(): Promise<RequestCredentials>;
  /** The server answered 401: drop cached tokens so the next request fetches fresh ones. */
  onUnauthorized(): void;
}

/**
 * The current user of `kc` as a CredentialSource. Static tokens, basic auth and token files (the
 * in-cluster configuration) are handled here without touching the disk per request; exec plugins and
 * auth providers go through client-node's own authenticators via applyToHTTPSOptions, which also
 * picks up a client certificate an exec plugin returns. That call never creates an undici dispatcher.
 */
export function credentialsFromKubeConfig(kc: KubeConfig, clock: Clock = realClock): CredentialSource {
  const user = kc.getCurrentUser();
  const fixed: Record<string, string> = {};
  if (user?.impersonateUser) fixed['impersonate-user'] = user.impersonateUser;
  if (user?.username) {
    const basic = Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64');
    fixed.authorization = `Basic ${basic}`;
  }
  const identity = staticIdentity(user);

  if (user && (user.exec || (user.authProvider && !tokenFileOnly(user)))) {
    return new PluginCredentials(kc, fixed, identity);
  }
  if (user?.token) {
    const headers = { ...fixed, authorization: `Bearer ${user.token}` };
    return { credentials: () => Promise.resolve({ headers, identity }), onUnauthorized: () => undefined };
  }
  const tokenFilePath = tokenFileOf(user);
  if (tokenFilePath) {
    const file = new TokenFile(tokenFilePath, clock);
    return {
      credentials: async () => ({
        headers: { ...fixed, authorization: `Bearer ${await file.token()}` },
        identity,
      }),
      onUnauthorized: () => {
        file.invalidate();
      },
    };
  }
  return {
    credentials: () => Promise.resolve({ headers: fixed, identity }),
    onUnauthorized: () => undefined,
  };
}

class PluginCredentials implements CredentialSource {
  readonly #kc: KubeConfig;
  readonly #fixed: Record<string, string>;
  readonly #identity: ClientIdentity | undefined;

  constructor(kc: KubeConfig, fixed: Record<string, string>, identity: ClientIdentity | undefined) {
    this.#kc = kc;
    this.#fixed = fixed;
    this.#identity = identity;
  }

  async credentials(): Promise<RequestCredentials> {
    const opts: { headers?: Record<string, unknown>; cert?: unknown; key?: unknown } = {};
    await this.#kc.applyToHTTPSOptions(opts);
    const headers = { ...this.#fixed };
    const authorization = opts.headers?.Authorization ?? opts.headers?.authorization;
    if (typeof authorization === 'string') headers.authorization = authorization;
    const { cert, key } = opts;
    const identity = isPem(cert) && isPem(key) ? { cert, key } : this.#identity;
    return { headers, identity };
  }

  onUnauthorized(): void {
    // client-node's authenticators cache tokens until their own expiry; they have no invalidation hook.
  }
}

function tokenFileOf(user: User | null): string | undefined {
  const config = (user?.authProvider as { config?: { tokenFile?: unknown } } | undefined)?.config;
  return typeof config?.tokenFile === 'string' ? config.tokenFile : undefined;
}

function tokenFileOnly(user: User): boolean {
  const provider = user.authProvider as { name?: string; config?: Record<string, unknown> } | undefined;
  return tokenFileOf(user) !== undefined && !provider?.config?.exec && provider?.name !== 'exec';
}

function staticIdentity(user: User | null): ClientIdentity | undefined {
  const cert = pemOf(user?.certFile, user?.certData);
  const key = pemOf(user?.keyFile, user?.keyData);
  return cert && key ? { cert, key } : undefined;
}

/** kubeconfig `*-data` fields are base64 PEM; `*-file` fields are paths read once, here. */
export function pemOf(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(data, 'base64');
  return undefined;
}

function isPem(x: unknown): x is string | Buffer {
  return (typeof x === 'string' && x.length > 0) || (Buffer.isBuffer(x) && x.length > 0);
}
