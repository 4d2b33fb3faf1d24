import type { RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { realClock, type Clock } from '../clock/index.ts';
import { UsageError } from '../config/index.ts';
import { withAuthenticationAndAuthorization } from './authentication-authorization-filter.ts';
import { CertificateWatcher } from './certificate-watcher.ts';
import { CERTIFICATE_FILE, KEY_FILE } from './defaults.ts';
import { DISABLED_BIND_ADDRESS, listen, type ListeningServer, type ServerStart } from './listen.ts';
import { generateSelfSignedCertKey } from './self-signed-certificate.ts';
import { SubjectAccessReviewAuthorizer } from './subject-access-review-authorizer.ts';
import { TokenReviewAuthenticator, type ReviewClient } from './token-review-authenticator.ts';

const METRICS_PATH = '/metrics';

/** /metrics in Prometheus text format; any other path is 404. */
export function metricsHandler(registry: Registry): RequestListener {
  return (req, res) => {
    if (req.url?.split('?')[0] !== METRICS_PATH) {
      res.writeHead(404).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(`${String(err)}\n`),
    );
  };
}

export interface MetricsServerOptions {
  bindAddress: string;
  /** HTTPS, and only callers the API server authenticates and authorizes (--metrics-secure). */
  secure: boolean;
  /** Where tls.crt and tls.key are (--metrics-cert-dir); empty: a self-signed pair made at start. */
  certDir: string;
  registry: Registry;
  /** Sends the TokenReviews and SubjectAccessReviews. */
  client: ReviewClient;
  clock: Clock;
  logger: Logger;
}

/** serveMetrics for the manager to start, on the real clock; undefined when `bindAddress` is "0". */
export function metricsServer(options: Omit<MetricsServerOptions, 'clock'>): ServerStart | undefined {
  if (options.bindAddress === DISABLED_BIND_ADDRESS) return undefined;
  return () => serveMetrics({ ...options, clock: realClock });
}

/**
 * The metrics server as controller-runtime's pkg/metrics/server runs it with
 * filters.WithAuthenticationAndAuthorization. Plain: /metrics over HTTP to anyone. Secure: HTTPS with
 * the certificate of `certDir`, reloaded when its files change, or else a self-signed one made now;
 * /metrics only for a bearer token that the API server authenticates (TokenReview) and authorizes for
 * `get` on the non-resource URL /metrics (SubjectAccessReview); other paths are 404 without a review.
 * HTTP/1.1 only, as kubebuilder scaffolds it (HTTP/2 off for CVE-2023-44487). Rejects with a
 * UsageError when `certDir` lacks a valid pair, and with one line when it cannot bind.
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<ListeningServer> {
  const { bindAddress, registry, client, clock, logger } = options;
  if (!options.secure) return listen('metrics server', bindAddress, metricsHandler(registry));

  let watcher: CertificateWatcher | undefined;
  if (options.certDir) {
    const certFile = join(options.certDir, CERTIFICATE_FILE);
    const keyFile = join(options.certDir, KEY_FILE);
    try {
      watcher = new CertificateWatcher({
        certFile,
        keyFile,
        clock,
        logger,
        registry,
        onChange: (pair) => {
          server.setSecureContext(pair);
        },
      });
    } catch (err) {
      throw new UsageError(
        `--metrics-cert-dir ${options.certDir}: no usable ${CERTIFICATE_FILE} and ${KEY_FILE}: ${(err as Error).message}`,
      );
    }
  }
  const pair = watcher?.current ?? (await generateSelfSignedCertKey());
  const filtered = withAuthenticationAndAuthorization(metricsHandler(registry), {
    authenticator: new TokenReviewAuthenticator({ client, clock }),
    authorizer: new SubjectAccessReviewAuthorizer({ client, clock }),
    logger,
  });
  const server = createHttpsServer({ ...pair, ALPNProtocols: ['http/1.1'] }, (req, res) => {
    if (req.url?.split('?')[0] === METRICS_PATH) filtered(req, res);
    else res.writeHead(404).end('not found\n');
  });
  const listening = await listen('metrics server', bindAddress, server);
  const stopWatching = new AbortController();
  watcher?.start(stopWatching.signal);
  return {
    ...listening,
    close: async () => {
      stopWatching.abort();
      await listening.close();
    },
  };
}
