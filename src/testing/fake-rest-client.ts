import {
  ApiError,
  type Status,
  type ObjectList,
  type Query,
  type RequestOptions,
  type RestClient,
  type WatchEvent,
} from '../client/index.ts';

export interface FakeCall {
  verb: 'get' | 'list' | 'watch';
  path: string;
  query: Query;
  accept: string | undefined;
}

type Item = { event: WatchEvent<unknown> } | { end: true } | { error: Error };

/** One open watch of a FakeRestClient; the test pushes what the server would stream. */
export class FakeWatch {
  readonly path: string;
  readonly query: Query;
  readonly accept: string | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #items: Item[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(path: string, query: Query, accept: string | undefined, signal: AbortSignal | undefined) {
    this.path = path;
    this.query = query;
    this.accept = accept;
    this.#signal = signal;
  }

  /** True once the consumer stopped reading: it aborted, broke out, or the stream ended. */
  get closed(): boolean {
    return this.#closed;
  }

  push(type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK', object: unknown): this {
    return this.#add({ event: { type, object } });
  }

  /** An in-stream ERROR event, e.g. `{ kind: 'Status', code: 410, reason: 'Expired' }`. */
  error(status: Status): this {
    return this.#add({ event: { type: 'ERROR', object: status } });
  }

  /** The server closed the stream normally (its timeoutSeconds passed). */
  end(): void {
    this.#add({ end: true });
  }

  /** The stream broke with `err` (a TransportError, a WatchDecodeError...). */
  fail(err: Error): void {
    this.#add({ error: err });
  }

  async *events(): AsyncGenerator<WatchEvent<unknown>, void, undefined> {
    try {
      for (;;) {
        const item = this.#items.shift() ?? (await this.#next());
        if ('end' in item) return;
        if ('error' in item) throw item.error;
        yield item.event;
      }
    } finally {
      this.#closed = true;
    }
  }

  #add(item: Item): this {
    this.#items.push(item);
    this.#wake?.();
    return this;
  }

  #next(): Promise<Item> {
    return new Promise<Item>((resolve, reject) => {
      const signal = this.#signal;
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => {
        this.#wake = undefined;
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#wake = () => {
        this.#wake = undefined;
        signal?.removeEventListener('abort', onAbort);
        const item = this.#items.shift();
        if (item) resolve(item);
      };
    });
  }
}

/**
 * A RestClient for unit tests: lists are served from `objects` (paginated by limit/continue at
 * `resourceVersion`) unless `listHandler` is replaced; every watch() becomes a FakeWatch the test
 * drives; a watch-list (sendInitialEvents) starts with what listHandler answers, as ADDED events and
 * the initial-events-end bookmark. Every call is recorded.
 */
export class FakeRestClient implements RestClient {
  readonly calls: FakeCall[] = [];
  objects: unknown[] = [];
  resourceVersion = '1';
  listHandler: (path: string, query: Query) => ObjectList<unknown> | Promise<ObjectList<unknown>> = (
    _path,
    query,
  ) => this.#page(query);
  getHandler: (path: string, query: Query) => unknown = (path) => {
    throw new Error(`FakeRestClient: no getHandler for ${path}`);
  };
  /** False: a watch-list is refused with 400, as by a server without the WatchList feature. */
  watchListSupported = true;
  /** False: a watch-list opens empty, and the test pushes its initial events and bookmark itself. */
  streamInitialEvents = true;
  /** Errors the next watch() calls throw when they open, one each, before any event. */
  readonly watchFailures: Error[] = [];
  readonly watches: FakeWatch[] = [];
  #taken = 0;
  #watchWaiters: (() => void)[] = [];

  count(verb: FakeCall['verb']): number {
    return this.calls.filter((c) => c.verb === verb).length;
  }

  get<T>(path: string, query: Query = {}, signal?: AbortSignal, options?: RequestOptions): Promise<T> {
    this.calls.push({ verb: 'get', path, query, accept: options?.accept });
    return abortable(
      Promise.resolve().then(() => this.getHandler(path, query) as T),
      signal,
    );
  }

  list<T>(
    path: string,
    query: Query = {},
    signal?: AbortSignal,
    options?: RequestOptions,
  ): Promise<ObjectList<T>> {
    this.calls.push({ verb: 'list', path, query, accept: options?.accept });
    return abortable(
      Promise.resolve().then(() => this.listHandler(path, query) as ObjectList<T>),
      signal,
    );
  }

  async *watch<T>(
    path: string,
    query: Query = {},
    signal?: AbortSignal,
    options?: RequestOptions,
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    this.calls.push({ verb: 'watch', path, query, accept: options?.accept });
    await Promise.resolve();
    if (signal?.aborted) throw signal.reason;
    const failure = this.watchFailures.shift();
    if (failure) throw failure;
    const watch = new FakeWatch(path, query, options?.accept, signal);
    if (query.sendInitialEvents === true) {
      if (!this.watchListSupported) {
        throw new ApiError(400, {
          kind: 'Status',
          code: 400,
          reason: 'BadRequest',
          message: 'sendInitialEvents is forbidden',
        });
      }
    }
    if (query.sendInitialEvents === true && this.streamInitialEvents) {
      // The same state a list would return (listHandler, unpaginated), streamed.
      const initial = await abortable(Promise.resolve(this.listHandler(path, selectorsOf(query))), signal);
      for (const object of initial.items) watch.push('ADDED', object);
      watch.push('BOOKMARK', {
        metadata: {
          resourceVersion: initial.metadata?.resourceVersion ?? this.resourceVersion,
          annotations: { 'k8s.io/initial-events-end': 'true' },
        },
      });
    }
    this.watches.push(watch);
    for (const wake of this.#watchWaiters.splice(0)) wake();
    yield* watch.events() as AsyncGenerator<WatchEvent<T>, void, undefined>;
  }

  /** The next watch opened that no earlier nextWatch() returned, waiting for it if need be. */
  async nextWatch(): Promise<FakeWatch> {
    while (this.#taken >= this.watches.length) {
      await new Promise<void>((resolve) => this.#watchWaiters.push(resolve));
    }
    const watch = this.watches[this.#taken++];
    if (!watch) throw new Error('unreachable');
    return watch;
  }

  #page(query: Query): ObjectList<unknown> {
    const limit = typeof query.limit === 'number' ? query.limit : Number(query.limit ?? 0);
    const start = query.continue ? Number(query.continue) : 0;
    const end = limit > 0 ? Math.min(start + limit, this.objects.length) : this.objects.length;
    return {
      metadata: {
        resourceVersion: this.resourceVersion,
        ...(end < this.objects.length ? { continue: String(end) } : {}),
      },
      items: this.objects.slice(start, end),
    };
  }
}

function selectorsOf(query: Query): Query {
  const selectors: Record<string, string | number | boolean | undefined> = {};
  if (query.labelSelector !== undefined) selectors.labelSelector = query.labelSelector;
  if (query.fieldSelector !== undefined) selectors.fieldSelector = query.fieldSelector;
  return selectors;
}

/** Like a real request, a pending answer gives way to the caller's abort. */
function abortable<T>(answer: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return answer;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    answer.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
    });
  });
}
