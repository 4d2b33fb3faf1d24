import type { Logger } from 'pino';
import { loggerOr } from '../logging/index.ts';
import type { Registry } from 'prom-client';
import { realClock, type Clock } from '../clock/index.ts';
import type { RestClient } from '../client/index.ts';
import { MIN_RESYNC_PERIOD_MS } from './defaults.ts';
import { deepFreeze } from './freeze.ts';
import { listWatchFor, type ListWatchScope } from './list-watch.ts';
import { informerLists } from './metrics.ts';
import { objectKey } from './object-key.ts';
import { Processor, type Notification, type Registration } from './processor.ts';
import { Reflector, type ReflectorConfig } from './reflector.ts';
import { Indexer, type IndexFunc, type Store } from './store.ts';
import { stripManagedFields, toPartialObjectMetadata, type Transform } from './transform.ts';
import {
  apiVersionOf,
  tombstone,
  type KubeObject,
  type ResourceHandlers,
  type ResourceRef,
} from './types.ts';

export interface SharedInformer<T extends KubeObject> {
  readonly resource: ResourceRef;
  readonly store: Store<T>;
  /**
   * Registers handlers. Added after the initial list, they first get an add (isInInitialList true)
   * for every cached object, from a microtask. resyncPeriodMs (min 1 s, 0 = none) re-delivers the
   * cache as onUpdate(obj, obj) from memory.
   */
  addEventHandler(h: ResourceHandlers<T>, options?: { resyncPeriodMs?: number }): Registration;
  /** True once the initial list has been delivered to every handler registered at the time. */
  hasSynced(): boolean;
  /**
   * Calls `handler` with the error of each failed list, e.g. an ApiError 403 when RBAC refuses the
   * resource (client-go's SetWatchErrorHandler, for lists). The reflector retries after its backoff.
   */
  addListErrorHandler(handler: (err: unknown) => void): void;
  lastSyncResourceVersion(): string | undefined;
  /** Resolves after the signal aborts and the watch is closed. An informer runs once. */
  run(signal: AbortSignal): Promise<void>;
}

export interface SharedInformerOptions<T extends KubeObject> extends ListWatchScope {
  client: RestClient;
  resource: ResourceRef;
  /** Runs on each object before it is stored; default stripManagedFields. Must be idempotent. */
  transform?: Transform | undefined;
  indexers?: Record<string, IndexFunc<T>> | undefined;
  /** Resync period of handlers that name none; 0 (none) by default. */
  resyncPeriodMs?: number | undefined;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  registry?: Registry | undefined;
  reflector?: Partial<ReflectorConfig> | undefined;
  random?: (() => number) | undefined;
}

/**
 * One reflector and one indexed store shared by many handlers (client-go's sharedIndexInformer). The
 * store changes first; the handlers hear of it after, in event order. A relist replaces the store:
 * new objects are adds, changed ones updates, and missing ones deletes carrying a Tombstone.
 */
export class SharedIndexInformer<T extends KubeObject> implements SharedInformer<T> {
  readonly resource: ResourceRef;
  readonly store: Store<T>;
  readonly #indexer: Indexer<T>;
  readonly #processor: Processor<T>;
  readonly #reflector: Reflector<T>;
  readonly #log: Logger;
  readonly #defaultResyncMs: number;
  /** The first list is in the store: handlers added from now on get a replay. */
  #listed = false;
  #synced = false;
  #started = false;
  readonly #listErrorHandlers: ((err: unknown) => void)[] = [];

  constructor(options: SharedInformerOptions<T>) {
    const clock = options.clock ?? realClock;
    const scope = {
      namespace: options.namespace,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      metadataOnly: options.metadataOnly,
    };
    const listWatch = listWatchFor(options.client, options.resource, scope);
    this.resource = options.resource;
    this.#log = loggerOr(options.logger).child({ informer: listWatch.description });
    this.#defaultResyncMs = options.resyncPeriodMs ?? 0;
    this.#indexer = new Indexer<T>(options.indexers ?? {}, (index, key, err) => {
      this.#log.error({ err, index, key }, 'index function threw: object left out of that index');
    });
    this.store = this.#indexer;
    this.#processor = new Processor<T>(clock, this.#log, () => this.#indexer.list());
    const lists = informerLists(options.registry);
    const resourceLabel = `${options.resource.resource}${options.resource.group ? `.${options.resource.group}` : ''}`;
    this.#reflector = new Reflector<T>({
      listWatch,
      store: {
        replace: (items, resourceVersion) => {
          this.#replace(items, resourceVersion);
        },
        apply: (type, obj) => {
          this.#apply(type, obj);
        },
      },
      prepare: preparer(options.resource, options.metadataOnly ?? false, options.transform) as (
        obj: KubeObject,
      ) => T,
      clock,
      logger: options.logger,
      config: options.reflector,
      random: options.random,
      onList: (reason, method) => {
        lists.inc({ resource: resourceLabel, reason, method });
      },
      onListError: (err) => {
        for (const handler of this.#listErrorHandlers) {
          try {
            handler(err);
          } catch (thrown) {
            this.#log.error({ err: thrown }, 'list error handler threw');
          }
        }
      },
    });
  }

  addEventHandler(handlers: ResourceHandlers<T>, options: { resyncPeriodMs?: number } = {}): Registration {
    let resyncMs = options.resyncPeriodMs ?? this.#defaultResyncMs;
    if (resyncMs > 0 && resyncMs < MIN_RESYNC_PERIOD_MS) {
      this.#log.warn(
        { resyncMs, minimum: MIN_RESYNC_PERIOD_MS },
        'resync period too short: raised to the minimum',
      );
      resyncMs = MIN_RESYNC_PERIOD_MS;
    }
    return this.#processor.add(handlers, resyncMs, this.#listed ? this.#indexer.list() : undefined);
  }

  addListErrorHandler(handler: (err: unknown) => void): void {
    this.#listErrorHandlers.push(handler);
  }

  /** More indices; each is built over the cached objects once. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    this.#indexer.addIndexers(indexers);
  }

  indexNames(): string[] {
    return this.#indexer.indexNames();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  lastSyncResourceVersion(): string | undefined {
    return this.#reflector.lastSyncResourceVersion();
  }

  async run(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`informer for ${this.resource.resource} already started`);
    this.#started = true;
    try {
      await this.#reflector.run(signal);
    } finally {
      this.#processor.stopResync();
    }
  }

  #replace(items: T[], resourceVersion: string): void {
    const initial = !this.#synced;
    const store = this.#indexer;
    const notifications: Notification<T>[] = [];
    const seen = new Set<string>();
    for (const obj of items) {
      const key = this.#keyOf(obj);
      if (key === undefined) continue;
      seen.add(key);
      const old = store.get(key);
      if (old === undefined) {
        store.set(key, obj);
        notifications.push({ type: 'add', obj, initial });
      } else if (!sameVersion(old, obj)) {
        store.set(key, obj);
        notifications.push({ type: 'update', old, obj });
      }
    }
    for (const key of store.listKeys()) {
      if (seen.has(key)) continue;
      const old = store.delete(key);
      // Its delete happened while we were not watching: the last state we saw may be stale.
      if (old !== undefined) notifications.push({ type: 'delete', obj: tombstone(key, old) });
    }
    this.#listed = true;
    this.#log.debug({ resourceVersion, objects: store.size, changes: notifications.length }, 'listed');
    this.#processor.distribute(notifications);
    if (initial) {
      this.#processor.markSynced();
      this.#synced = true;
      this.#processor.startResync();
    }
  }

  #apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void {
    const key = this.#keyOf(obj);
    if (key === undefined) return;
    const store = this.#indexer;
    if (type === 'DELETED') {
      // A delete for a key we do not hold was already delivered (or never concerned us): drop it.
      if (store.delete(key) !== undefined) this.#processor.distribute([{ type: 'delete', obj }]);
      return;
    }
    const old = store.get(key);
    if (old !== undefined && sameVersion(old, obj)) return;
    store.set(key, obj);
    this.#processor.distribute([
      old === undefined ? { type: 'add', obj, initial: false } : { type: 'update', old, obj },
    ]);
  }

  #keyOf(obj: T): string | undefined {
    try {
      return objectKey(obj);
    } catch (err) {
      this.#log.error({ err }, 'object without a name from the API server: ignored');
      return undefined;
    }
  }
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  const rv = a.metadata?.resourceVersion;
  return rv !== undefined && rv === b.metadata?.resourceVersion;
}

/**
 * The path of every object from the wire into the store: the shape a metadata-only informer promises,
 * the kind and apiVersion list items lack, the transform, then a deep freeze. Objects are fresh from
 * JSON.parse here, so filling fields in place is safe.
 */
function preparer(
  resource: ResourceRef,
  metadataOnly: boolean,
  transform: Transform = stripManagedFields,
): (obj: KubeObject) => KubeObject {
  const apiVersion = apiVersionOf(resource);
  return (raw) => {
    let obj = raw;
    if (metadataOnly) {
      obj = toPartialObjectMetadata(obj);
    } else if (!obj.kind) {
      obj.kind = resource.kind;
      obj.apiVersion = apiVersion;
    }
    return deepFreeze(transform(obj));
  };
}
