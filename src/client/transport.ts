import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { loggerOr } from '../logging/index.ts';
import type { Registry } from 'prom-client';
import { buildConnector, Pool, type Dispatcher } from 'undici';
import { realClock, type Clock } from '../clock/index.ts';
import { TokenBucketRateLimiter } from '../flowcontrol/index.ts';
import {
  credentialsFor,
  pemOf,
  type ClientIdentity,
  type CredentialHeaders,
  type CredentialSource,
  type RequestCredentials,
} from './credentials.ts';
import { ConnectionHealth, type Http2Health } from './connection-health.ts';
import {
  HTTP2_PING_TIMEOUT_MS,
  HTTP2_READ_IDLE_TIMEOUT_MS,
  IDLE_SOCKET_TIMEOUT_MS,
  KUBE_API_BURST,
  KUBE_API_QPS,
  MAX_RETRIES,
  TCP_KEEPALIVE_INITIAL_DELAY_MS,
  USER_AGENT,
} from './defaults.ts';
import { TransportError } from './errors.ts';
import { restClientRequests, TRANSPORT_ERROR_CODE, type RequestCounter } from './metrics.ts';
import { isTransportTls, type RestConfig } from './rest-config.ts';
import { sendWithRetry } from './with-retry.ts';

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
  /**
   * Cap on connections to the API server. HTTP/2 needs one; unlimited by default because over
   * HTTP/1.1 (a server or proxy without h2, or plain http) every watch holds one.
   */
  maxConnections?: number;
  /** The HTTP/2 health check; client-go's 30 s read idle and 15 s PING timeout by default. */
  http2Health?: Http2Health;
  /**
   * Client-side rate limit, a token bucket over every request (a watch counts once, when it opens),
   * as client-go's QPS and Burst: KUBE_API_QPS (50/s) and KUBE_API_BURST (100) when absent, as on the
   * command line. qps Infinity never throttles (client-go: a negative QPS, rest/config.go
   * RESTClientForConfigAndClient), for a caller with its own pacing, such as a test filling a cluster.
   */
  rateLimit?: { qps: number; burst: number };
  /**
   * How many times a request answered 429 or 5xx with a Retry-After is sent again, after that many
   * seconds; client-go's 10 by default (rest/request.go). 0 turns retries off.
   */
  maxRetries?: number;
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
  /** Overrides the transport's maxRetries for this request (0: a caller that runs its own retries). */
  maxRetries?: number;
}

export interface TransportResponse {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
}

/**
 * The connection pool to one API server, built once from a kubeconfig cluster and user and shared by
 * every request of the process (client-node 2.0 builds a new undici Agent, i.e. a new TLS connection,
 * per request). Over HTTP/2 that is one connection, as client-go keeps. Counts every request in
 * rest_client_requests_total.
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
  readonly #throttle: TokenBucketRateLimiter;
  readonly #http2Health: Http2Health;
  readonly #health: ConnectionHealth;
  readonly #maxRetries: number;
  readonly #sockets = new Set<Socket>();
  #pool: Pool | undefined;
  #poolIdentity: string | undefined;
  #lastIdentity: ClientIdentity | undefined;
  readonly #allowH2: boolean;
  #closed = false;

  constructor(init: {
    server: string;
    tls: ServerTls;
    credentials: CredentialSource;
    options?: TransportOptions;
    /**
     * HTTP/1.1 only: undici's HTTP/2 client joins a repeated header into one comma-separated field,
     * which the API server reads as one value (one impersonated group "a, b" instead of two).
     */
    http1Only?: boolean;
  }) {
    const url = new URL(init.server);
    const options = init.options ?? {};
    this.server = init.server;
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.host = `${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
    this.#tls = init.tls;
    this.#allowH2 = !init.http1Only;
    this.#credentials = init.credentials;
    this.#requests = restClientRequests(options.registry);
    this.#log = loggerOr(options.logger);
    this.#userAgent = options.userAgent ?? USER_AGENT;
    this.#maxConnections = options.maxConnections ?? null;
    this.#clock = options.clock ?? realClock;
    const { qps, burst } = options.rateLimit ?? { qps: KUBE_API_QPS, burst: KUBE_API_BURST };
    this.#throttle = new TokenBucketRateLimiter(qps, burst, this.#clock);
    this.#maxRetries = options.maxRetries ?? MAX_RETRIES;
    this.#http2Health = options.http2Health ?? {
      readIdleMs: HTTP2_READ_IDLE_TIMEOUT_MS,
      pingTimeoutMs: HTTP2_PING_TIMEOUT_MS,
    };
    this.#health = new ConnectionHealth({
      server: this.server,
      clock: this.#clock,
      log: this.#log,
      health: this.#http2Health,
    });
  }

  /**
   * The transport of a REST config. An http server gets plain HTTP/1.1 with neither credentials nor
   * TLS settings, as client-go sends it; https gets the config's TLS and credentials.
   * @throws Error when a CA or client certificate file cannot be read.
   */
  static fromConfig(config: RestConfig, options: TransportOptions = {}): KubeTransport {
    if (!isTransportTls(config.host)) {
      return new KubeTransport({
        server: config.host,
        tls: { rejectUnauthorized: true },
        credentials: {
          credentials: () => Promise.resolve({ headers: {}, identity: undefined }),
          onUnauthorized: () => undefined,
        },
        options,
      });
    }
    const tls: ServerTls = { rejectUnauthorized: !config.tls.insecure };
    const ca = pemOf(config.tls.caFile, config.tls.caData);
    if (ca) tls.ca = ca;
    if (config.tls.serverName) tls.servername = config.tls.serverName;
    const impersonate = config.impersonate;
    const repeatedHeaders =
      impersonate !== undefined &&
      (impersonate.groups.length > 1 || Object.values(impersonate.extra).some((values) => values.length > 1));
    return new KubeTransport({
      server: config.host,
      tls,
      http1Only: repeatedHeaders,
      credentials: credentialsFor(config, {
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      }),
      options,
    });
  }

  /**
   * Sends one request, again after each 429 or 5xx with a Retry-After (see sendWithRetry), and
   * resolves with the last answer. Rejects with TransportError when no answer came, with the signal's
   * reason when it aborted.
   */
  request(req: TransportRequest): Promise<TransportResponse> {
    return sendWithRetry(req, (r) => this.#send(r), {
      maxRetries: req.maxRetries ?? this.#maxRetries,
      clock: this.#clock,
      wallNow: Date.now,
      log: this.#log,
    });
  }

  async #send(req: TransportRequest): Promise<TransportResponse> {
    if (this.#closed) throw new Error('transport is closed');
    // Reserves the next token now, so concurrent requests queue in order behind the burst.
    await this.#throttle.wait(req.signal);
    let response: Dispatcher.ResponseData;
    let credentials: RequestCredentials;
    try {
      credentials = await this.#credentials.credentials();
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
    // As client-go's exec round tripper: fresh credentials are ready before the caller sees the 401.
    if (response.statusCode === 401) await this.#credentials.onUnauthorized(credentials);
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  /**
   * Connections open to the server now: normally 1 over HTTP/2, one per concurrent request over
   * HTTP/1.1. Requests in flight or queued, and the protocol each open socket negotiated (ALPN).
   */
  stats(): { connected: number; running: number; pending: number; protocols: string[] } {
    const stats = this.#pool?.stats;
    return {
      connected: stats?.connected ?? 0,
      running: stats?.running ?? 0,
      pending: stats?.pending ?? 0,
      protocols: [...this.#sockets].map((socket) => protocolOf(socket)),
    };
  }

  /** Closes the pool once in-flight requests (including watches) have finished. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#health.stop();
    await this.#pool?.close();
  }

  /** Closes every socket at once, aborting in-flight requests. */
  async destroy(): Promise<void> {
    this.#closed = true;
    this.#health.stop();
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
      // HTTP/2 when the server offers it: every watch and request multiplexes on one connection, whose
      // silent death the health check catches. While ALPN is pending undici's Pool holds later requests
      // back (its protocol probe), so even a cold start opens one connection, not one per request.
      allowH2: this.#allowH2,
      h2Options: { pingInterval: this.#http2Health.readIdleMs },
      connections: this.#maxConnections,
      keepAliveTimeout: IDLE_SOCKET_TIMEOUT_MS,
      keepAliveMaxTimeout: IDLE_SOCKET_TIMEOUT_MS,
      connect: this.#connector(identity),
    });
    this.#poolIdentity = fingerprint;
    if (previous) {
      this.#log.info({ server: this.server }, 'client certificate changed, new connections use the new one');
      // Requests in flight (watches) finish on the old sockets; close() waits for them.
      previous.close().catch(() => undefined);
    }
    return this.#pool;
  }

  /** undici's TLS connector with our options, recording each socket for stats() and the health check. */
  #connector(identity: ClientIdentity | undefined): buildConnector.connector {
    const connect = buildConnector({
      ...this.#tls,
      ...(identity ? { cert: identity.cert, key: identity.key } : {}),
      allowH2: this.#allowH2,
      preferH2: this.#allowH2,
      keepAlive: true,
      keepAliveInitialDelay: TCP_KEEPALIVE_INITIAL_DELAY_MS,
    });
    return (options, callback) => {
      connect(options, (...args) => {
        const socket = args[1];
        if (socket) {
          this.#sockets.add(socket);
          socket.once('close', () => this.#sockets.delete(socket));
          this.#health.track(socket);
        }
        callback(...args);
      });
    };
  }
}

function protocolOf(socket: Socket): string {
  const alpn = (socket as Partial<TLSSocket>).alpnProtocol;
  return typeof alpn === 'string' ? alpn : 'http/1.1';
}

function fingerprintOf(identity: ClientIdentity): string {
  return createHash('sha256').update(identity.cert).update('\0').update(identity.key).digest('hex');
}

/** Merges header sets, later ones winning, whatever the case of their names (Content-Type vs content-type). */
function lowercased(...sets: (CredentialHeaders | undefined)[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const set of sets)
    if (set) {
      for (const [name, value] of Object.entries(set)) {
        out[name.toLowerCase()] = typeof value === 'string' ? value : [...value];
      }
    }
  return out;
}
