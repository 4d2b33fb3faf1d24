import type { KubeConfig } from '@kubernetes/client-node';
import type { CredentialHeaders, CredentialSource, RequestCredentials } from './credentials.ts';
import type { RestConfig } from './rest-config.ts';

/**
 * A kubeconfig user with `auth-provider` (oidc, gcp, azure): @kubernetes/client-node's authenticators
 * do the work. Its runtime is imported on the first request, so no other configuration pays its load
 * time and memory. Tokens it refreshes live in its memory only (nothing is written back to the file).
 */
export class AuthProviderCredentials implements CredentialSource {
  readonly #config: RestConfig;
  readonly #fixed: CredentialHeaders;
  #kubeConfig: Promise<KubeConfig> | undefined;

  constructor(config: RestConfig, fixed: CredentialHeaders) {
    this.#config = config;
    this.#fixed = fixed;
  }

  async credentials(): Promise<RequestCredentials> {
    this.#kubeConfig ??= this.#load();
    const kc = await this.#kubeConfig;
    const opts: { headers?: Record<string, unknown> } = {};
    await kc.applyToHTTPSOptions(opts);
    const authorization = opts.headers?.Authorization ?? opts.headers?.authorization;
    return {
      headers: typeof authorization === 'string' ? { ...this.#fixed, authorization } : this.#fixed,
      identity: undefined,
    };
  }

  onUnauthorized(): void {
    // client-node's providers refresh on their own expiry; they have no invalidation hook.
  }

  async #load(): Promise<KubeConfig> {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const config = this.#config;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'cluster', server: config.host, skipTLSVerify: config.tls.insecure }],
      users: [{ name: 'user', authProvider: config.authProvider }],
      contexts: [{ name: 'context', cluster: 'cluster', user: 'user' }],
      currentContext: 'context',
    });
    return kc;
  }
}
