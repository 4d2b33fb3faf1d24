// Scrapes a metrics server as Prometheus does: GET /metrics with a bearer token, over HTTPS when the
// operator runs with --metrics-secure. Its self-signed certificate cannot be verified (no one holds its
// CA), so that is accepted unless the test passes the CA it made.
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { adminKubeConfig } from './cluster.ts';

export interface Scrape {
  status: number;
  body: string;
  /** The serving certificate's SHA-256 fingerprint (HTTPS only). */
  fingerprint?: string;
}

export interface ScrapeOptions {
  /** Sent as `Authorization: Bearer <token>`; none when undefined. */
  token?: string;
  /** Verify the server against this CA (PEM) for `servername`; otherwise accept any certificate. */
  ca?: string;
  servername?: string;
}

/** GET <metricsUrl>/metrics; never rejects for a status, only when no response comes. */
export function scrapeMetrics(metricsUrl: string, options: ScrapeOptions = {}): Promise<Scrape> {
  const url = new URL('/metrics', metricsUrl);
  const headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
  return new Promise((resolve, reject) => {
    const done = (res: IncomingMessage) => {
      const socket = res.socket as TLSSocket | null;
      const fingerprint = url.protocol === 'https:' ? socket?.getPeerCertificate().fingerprint256 : undefined;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, ...(fingerprint ? { fingerprint } : {}) });
      });
    };
    const req =
      url.protocol === 'https:'
        ? httpsGet(
            url,
            {
              headers,
              agent: false,
              ...(options.ca
                ? { ca: options.ca, servername: options.servername ?? 'localhost' }
                : { rejectUnauthorized: false }),
            },
            done,
          )
        : httpGet(url, { headers, agent: false }, done);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url.href} timed out`)));
    req.on('error', reject);
  });
}

/** The text of <metricsUrl>/metrics (see scrapeMetrics); rejects unless it answered 200. */
export async function metricsText(metricsUrl: string, options: ScrapeOptions = {}): Promise<string> {
  const scrape = await scrapeMetrics(metricsUrl, options);
  if (scrape.status !== 200) throw new Error(`GET ${metricsUrl}/metrics answered ${String(scrape.status)}`);
  return scrape.body;
}

/** The test control plane's admin token (system:masters: allowed everything, /metrics included). */
export function adminToken(): string {
  const token = adminKubeConfig().getCurrentUser()?.token;
  if (!token) throw new Error('the admin kubeconfig has no token');
  return token;
}
