import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CoreV1Api } from '@kubernetes/client-node';
import { TransportError, type Query, type RestClient, type WatchEvent } from '../../src/client/index.ts';
import type { KubeObject, SharedInformer } from '../../src/informers/index.ts';

const PARTITIONED = new Error('test partition');

/**
 * A RestClient that counts what the informers ask and can cut their watches as a network partition
 * would: open watches break with a TransportError and new ones fail until heal().
 */
export class InstrumentedClient implements RestClient {
  readonly inner: RestClient;
  /** The path of every GET, in order (lists not included). */
  readonly gets: string[] = [];
  /** Paged LIST requests. */
  lists = 0;
  /** Every watch request, watch-lists included. */
  watches = 0;
  /** Watch-lists: watches that begin with the current state (sendInitialEvents). */
  streams = 0;
  bookmarks = 0;
  #partitioned = false;
  readonly #open = new Set<AbortController>();

  constructor(inner: RestClient) {
    this.inner = inner;
  }

  readonly get: RestClient['get'] = (...args) => {
    this.gets.push(args[0]);
    return this.inner.get(...args);
  };

  readonly list: RestClient['list'] = (...args) => {
    this.lists++;
    return this.inner.list(...args);
  };

  readonly watch: RestClient['watch'] = (path, query, signal, options) =>
    this.#watch(query, signal, (cut) => this.inner.watch(path, query, cut, options));

  /** Counts a watch and its bookmarks, and breaks it when the test partitions the network. */
  async *#watch<E extends WatchEvent<unknown>>(
    query: Query | undefined,
    signal: AbortSignal | undefined,
    open: (signal: AbortSignal) => AsyncIterable<E>,
  ): AsyncGenerator<E, void, undefined> {
    this.watches++;
    if (query?.sendInitialEvents === true) this.streams++;
    if (this.#partitioned) throw new TransportError('connect ECONNREFUSED (test partition)');
    const controller = new AbortController();
    const onAbort = (): void => {
      controller.abort(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#open.add(controller);
    try {
      for await (const event of open(controller.signal)) {
        if (event.type === 'BOOKMARK') this.bookmarks++;
        yield event;
      }
    } catch (err) {
      if (controller.signal.reason === PARTITIONED)
        throw new TransportError('socket closed (test partition)');
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#open.delete(controller);
    }
  }

  /** Reads of the whole state: paged lists and watch-lists. */
  get listings(): number {
    return this.lists + this.streams;
  }

  partition(): void {
    this.#partitioned = true;
    for (const controller of this.#open) controller.abort(PARTITIONED);
  }

  heal(): void {
    this.#partitioned = false;
  }
}

/** name@resourceVersion of every cached object and of every object a fresh LIST returns, sorted. */
export async function cacheAndList(
  informer: SharedInformer<KubeObject>,
  core: CoreV1Api,
  namespace: string,
): Promise<{ cached: string[]; listed: string[] }> {
  const list = await core.listNamespacedPod({ namespace });
  const listed = list.items.map((p) => `${p.metadata?.name}@${p.metadata?.resourceVersion}`).sort();
  const cached = informer.store
    .list()
    .map((p) => `${p.metadata?.name}@${p.metadata?.resourceVersion}`)
    .sort();
  return { cached, listed };
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A full garbage collection, through --expose-gc when the process has it, or enabled at run time. */
export function collectGarbage(): boolean {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      return false;
    }
  }
  gc();
  gc();
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
