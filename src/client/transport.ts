import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Pool, type Dispatcher } from 'undici';
import { realClock, type Clock } from '../clock/clock.ts';
import { BucketRateLimiter } from '../queue/rate-limiters.ts';
import {
  credentialsFromKubeConfig,
  pemOf,
  type ClientIdentity,
  type CredentialSource,
} from './credentials.ts';
import { IDLE_SOCKET_TIMEOUT_MS, TCP_KEEPALIVE_INITIAL_DELAY_MS, USER_AGENT } from './defaults.ts';
import { TransportError } from './errors.ts';
import { restClientRequests, TRANSPORT_ERROR_CODE, type RequestCounter } from './metrics.ts';

/** How the connections to the API server are secured: the cluster half of a kubeconfig. */
export interface ServerTls {
  ca?: string | Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

export interface TransportOptions {
  registry?: Registry;
  logger?: Logger;
  clock?: Clock;
  userAgent?: string;
  /** Cap on sockets to the API server; unlimited by default because every HTTP/1.1 watch holds one. */
  maxConnections?: number;
  /**
   * Client-side rate limit, a token bucket over every request (a watch counts once, when it opens),
   * as client-go's QPS and Burst. Unlimited when absent.
   */
  rateLimit?: { qps: number; burst: number };
}

export interface TransportRequest {
  method: Dispatcher.HttpMethod;
  /** Path and query, without the server's own path prefix. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** A watch: no undici body timeout, the caller runs its own idle timer. */
  streaming?: boolean;
}

export interface TransportResponse {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
}

/**
 * The connection pool to one API server, built once from a kubeconfig cluster and user and shared by
 * every request of the process (client-node 2.0 builds a new undici Agent, i.e. a new TLS connection,
 * per request). Counts every request in rest_client_requests_total.
 */
export class KubeTransport {
  /** The kubeconfig's server URL, e.g. https://127.0.0.1:6443. */
  readonly server: string;
  /** host:port, the host label of the request counter. */
  readonly host: string;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #tls: ServerTls;
  readonly #credentials: CredentialSource;
  readonly #requests: RequestCounter;
  readonly #log: Logger;
  readonly #userAgent: string;
  readonly #maxConnections: number | null;
  readonly #clock: Clock;
  readonly #limiter: BucketRateLimiter<string> | undefined;
  #pool: Pool | undefined;
  #poolIdentity: string | undefined;
  #lastIdentity: ClientIdentity | undefined;
  #closed = false;

  constructor(init: {
    server: string;
    tls: ServerTls;
    credentials: CredentialSource;
    options?: TransportOptions;
  }) {
    const url = new URL(init.server);
    const options = init.options ?? {};
    this.server = init.server;
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.host = `${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
    this.#tls = init.tls;
    this.#credentials = init.credentials;
    this.#requests = restClientRequests(options.registry);
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#userAgent = options.userAgent ?? USER_AGENT;
    this.#maxConnections = options.maxConnections ?? null;
    this.#clock = options.clock ?? realClock;
    const limit = options.rateLimit;
    this.#limiter = limit && new BucketRateLimiter<string>(limit.qps, limit.burst, this.#clock);
  }

  /** The current context's cluster and user of `kc`. Proxies (cluster proxy-url) are not supported. */
  static fromKubeConfig(kc: KubeConfig, options: TransportOptions = {}): KubeTransport {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    if (cluster.proxyUrl) throw new Error(`cluster ${cluster.name}: proxy-url is not supported`);
    if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
      // client-node's rule: credentials travel in clear only when the kubeconfig says so explicitly.
      throw new Error(`cluster ${cluster.name}: plain http requires insecure-skip-tls-verify`);
    }
    const tls: ServerTls = { rejectUnauthorized: !cluster.skipTLSVerify };
    const ca = pemOf(cluster.caFile, cluster.caData);
    if (ca) tls.ca = ca;
    if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
    return new KubeTransport({
      server: cluster.server,
      tls,
      credentials: credentialsFromKubeConfig(kc, options.clock ?? realClock),
      options,
    });
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    if (this.#closed) throw new Error('transport is closed');
    // Reserves the next token now, so concurrent requests queue in order behind the burst.
    const wait = this.#limiter?.when('') ?? 0;
    if (wait > 0) await this.#clock.sleep(wait, req.signal);
    let response: Dispatcher.ResponseData;
    try {
      const credentials = await this.#credentials.credentials();
      const pool = this.#poolFor(credentials.identity);
      response = await pool.request({
        path: this.#basePath + req.path,
        method: req.method,
        headers: lowercased(
          {
            'user-agent': this.#userAgent,
            accept: 'application/json',
            ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          req.headers,
          credentials.headers,
        ),
        body: req.body ?? null,
        signal: req.signal ?? null,
        ...(req.streaming ? { bodyTimeout: 0 } : {}),
      });
    } catch (err) {
      this.#count(TRANSPORT_ERROR_CODE, req.method);
      if (req.signal?.aborted) throw req.signal.reason;
      throw new TransportError(`${req.method} ${req.path}: ${(err as Error).message}`, { cause: err });
    }
    this.#count(String(response.statusCode), req.method);
    if (response.statusCode === 401) this.#credentials.onUnauthorized();
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  /** Sockets open to the server now (each watch holds one), and requests in flight or queued. */
  stats(): { connected: number; running: number; pending: number } {
    const stats = this.#pool?.stats;
    return { connected: stats?.connected ?? 0, running: stats?.running ?? 0, pending: stats?.pending ?? 0 };
  }

  /** Closes the pool once in-flight requests (including watches) have finished. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool?.close();
  }

  /** Closes every socket at once, aborting in-flight requests. */
  async destroy(): Promise<void> {
    this.#closed = true;
    await this.#pool?.destroy();
  }

  #count(code: string, method: string): void {
    this.#requests.inc({ code, method: method.toUpperCase(), host: this.host });
  }

  /** One pool per client identity: an exec plugin that rotates the client certificate gets a new one. */
  #poolFor(identity: ClientIdentity | undefined): Pool {
    if (this.#pool && identity === this.#lastIdentity) return this.#pool;
    this.#lastIdentity = identity;
    const fingerprint = identity ? fingerprintOf(identity) : '';
    if (this.#pool && this.#poolIdentity === fingerprint) return this.#pool;
    const previous = this.#pool;
    this.#pool = new Pool(this.#origin, {
      // HTTP/1.1: each watch holds its own socket (one per informer), so a dead one stalls one watch, not all multiplexed on one h2 connection.
      allowH2: false,
      connections: this.#maxConnections,
      keepAliveTimeout: IDLE_SOCKET_TIMEOUT_MS,
      keepAliveMaxTimeout: IDLE_SOCKET_TIMEOUT_MS,
      connect: {
        ...this.#tls,
        ...(identity ? { cert: identity.cert, key: identity.key } : {}),
        keepAlive: true,
        keepAliveInitialDelay: TCP_KEEPALIVE_INITIAL_DELAY_MS,
      },
    });
    this.#poolIdentity = fingerprint;
    if (previous) {
      this.#log.info({ server: this.server }, 'client certificate changed, new connections use the new one');
      // Requests in flight (watches) finish on the old sockets; close() waits for them.
      previous.close().catch(() => undefined);
    }
    return this.#pool;
  }
}

function fingerprintOf(identity: ClientIdentity): string {
  return createHash('sha256').update(identity.cert).update('\0').update(identity.key).digest('hex');
}

/** Merges header sets, later ones winning, whatever the case of their names (Content-Type vs content-type). */
function lowercased(...sets: (Readonly<Record<string, string>> | undefined)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const set of sets)
    if (set) for (const [name, value] of Object.entries(set)) out[name.toLowerCase()] = value;
  return out;
}
