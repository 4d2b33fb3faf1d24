import { ApiError, ResponseDecodeError, TransportError, WatchDecodeError } from './errors.ts';
import { parseRetryAfter } from './retry-after.ts';
import { KubeTransport, type TransportOptions, type TransportResponse } from './transport.ts';
import type { RestConfig } from './rest-config.ts';
import { decodeWatchStream, type WatchEvent } from './watch-stream.ts';

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface RequestOptions {
  /** The Accept header, e.g. to ask for PartialObjectMetadata; application/json by default. */
  accept?: string;
  /** Sends after a 429 or 5xx with a Retry-After; the transport's (10) by default, 0 for none. */
  maxRetries?: number;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: ListMeta;
  items: T[];
}

/** Reads from the API server: what informers need. Paths are absolute API paths (/api/v1/pods). */
export interface RestClient {
  get<T>(path: string, query?: Query, signal?: AbortSignal, options?: RequestOptions): Promise<T>;
  list<T>(
    path: string,
    query?: Query,
    signal?: AbortSignal,
    options?: RequestOptions,
  ): Promise<ObjectList<T>>;
  /**
   * Opens a watch (adds watch=true) when iteration starts. Throws ApiError for an error status,
   * TransportError when the connection fails or breaks, WatchDecodeError for a malformed line; ends
   * when the server closes the stream (its timeoutSeconds). Breaking out of the loop closes the request.
   */
  watch<T>(
    path: string,
    query?: Query,
    signal?: AbortSignal,
    options?: RequestOptions,
  ): AsyncIterable<WatchEvent<T>>;
}

/**
 * Writes to the API server: client-go's rest client Post and Put verbs, the body sent as JSON. Both
 * resolve with the decoded response object and throw ApiError for an error status (409 Conflict for
 * a stale resourceVersion or an existing name: see isConflict), TransportError when no response came.
 */
export interface RestWriter {
  post: WriteVerb;
  put: WriteVerb;
}

/** One write verb: `body` sent as JSON to `path`, the decoded response object back. */
export type WriteVerb = <T>(
  path: string,
  body: unknown,
  query?: Query,
  signal?: AbortSignal,
  options?: RequestOptions,
) => Promise<T>;

/** RestClient over a KubeTransport: one shared connection pool, every request counted. */
export class HttpRestClient implements RestClient, RestWriter {
  readonly transport: KubeTransport;
  readonly #ownsTransport: boolean;

  constructor(transport: KubeTransport, ownsTransport = false) {
    this.transport = transport;
    this.#ownsTransport = ownsTransport;
  }

  /** A client with a transport of its own, closed by close(). */
  static fromConfig(config: RestConfig, options: TransportOptions = {}): HttpRestClient {
    return new HttpRestClient(KubeTransport.fromConfig(config, options), true);
  }

  async get<T>(path: string, query?: Query, signal?: AbortSignal, options?: RequestOptions): Promise<T> {
    return this.#decode<T>('GET', path, await this.#send(path, query, signal, options, false), signal);
  }

  async post<T>(
    path: string,
    body: unknown,
    query?: Query,
    signal?: AbortSignal,
    options?: RequestOptions,
  ): Promise<T> {
    return this.#write<T>('POST', path, body, query, signal, options);
  }

  async put<T>(
    path: string,
    body: unknown,
    query?: Query,
    signal?: AbortSignal,
    options?: RequestOptions,
  ): Promise<T> {
    return this.#write<T>('PUT', path, body, query, signal, options);
  }

  async #write<T>(
    method: 'POST' | 'PUT',
    path: string,
    body: unknown,
    query: Query | undefined,
    signal: AbortSignal | undefined,
    options: RequestOptions | undefined,
  ): Promise<T> {
    const response = await this.transport.request({
      method,
      path: withQuery(path, query),
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
      ...(options?.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    });
    return this.#decode<T>(method, path, response, signal);
  }

  /** The JSON body of a 2xx response; ApiError for any other status. */
  async #decode<T>(
    method: string,
    path: string,
    response: TransportResponse,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    if (response.status < 200 || response.status > 299) throw await apiErrorOf(response);
    let text: string;
    try {
      text = await response.body.text();
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw new TransportError(`${method} ${path}: response broke: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ResponseDecodeError(`${method} ${path}: response is not JSON: ${text.slice(0, 200)}`, {
        cause: err,
      });
    }
  }

  async list<T>(
    path: string,
    query?: Query,
    signal?: AbortSignal,
    options?: RequestOptions,
  ): Promise<ObjectList<T>> {
    const list = await this.get<ObjectList<T> | { items?: null }>(path, query, signal, options);
    if (list.items === null || list.items === undefined) return { ...list, items: [] };
    if (!Array.isArray(list.items)) throw new ResponseDecodeError(`GET ${path}: items is not an array`);
    return list as ObjectList<T>;
  }

  async *watch<T>(
    path: string,
    query?: Query,
    signal?: AbortSignal,
    options?: RequestOptions,
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const response = await this.#send(path, { ...query, watch: true }, signal, options, true);
    if (response.status !== 200) throw await apiErrorOf(response);
    try {
      yield* decodeWatchStream<T>(response.body);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof WatchDecodeError) throw err;
      throw new TransportError(`watch ${path}: stream broke: ${(err as Error).message}`, { cause: err });
    } finally {
      // Reached on a normal end too; destroying an ended body is a no-op.
      response.body.destroy();
    }
  }

  async close(): Promise<void> {
    if (this.#ownsTransport) await this.transport.close();
  }

  #send(
    path: string,
    query: Query | undefined,
    signal: AbortSignal | undefined,
    options: RequestOptions | undefined,
    streaming: boolean,
  ): Promise<TransportResponse> {
    return this.transport.request({
      method: 'GET',
      path: withQuery(path, query),
      ...(options?.accept ? { headers: { accept: options.accept } } : {}),
      ...(signal ? { signal } : {}),
      ...(options?.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
      streaming,
    });
  }
}

export function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const encoded = params.toString();
  if (!encoded) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${encoded}`;
}

async function apiErrorOf(response: TransportResponse): Promise<ApiError> {
  const text = await response.body.text().catch(() => '');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's HTML page, a plain-text 503): keep the text.
  }
  return new ApiError(response.status, body, parseRetryAfter(response.headers['retry-after'], Date.now()));
}
