import type { Logger } from 'pino';
import { loggerOr } from '../logging/index.ts';
import type { Registry } from 'prom-client';
import { realClock, type Clock } from '../clock/index.ts';
import type { RestClient } from '../client/index.ts';
import type { ReflectorConfig } from './reflector.ts';
import { SharedIndexInformer, type SharedInformer } from './shared-informer.ts';
import type { KubeObject, ResourceRef } from './types.ts';
import { waitForCacheSync } from './wait-for-cache-sync.ts';

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  metadataOnly?: boolean;
  resyncPeriodMs?: number;
  transform?: (obj: KubeObject) => KubeObject;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- index functions of any object type share one map
  indexers?: Record<string, (obj: any) => string[]>;
}

export interface SharedInformerFactoryOptions {
  client: RestClient;
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
  defaultResyncPeriodMs?: number;
  /** Namespace of informers that name none; all namespaces when absent. */
  namespace?: string;
  /** Reflector knobs for every informer (tests shorten them); client-go's values by default. */
  reflector?: Partial<ReflectorConfig>;
}

interface Entry {
  informer: SharedIndexInformer<KubeObject>;
  transform: InformerOptions['transform'];
  started: boolean;
}

/**
 * Hands out one shared informer per (resource, namespace, selectors, metadataOnly) and runs them:
 * client-go's SharedInformerFactory. Informers created after start() run at the next start().
 */
export class SharedInformerFactory {
  readonly #client: RestClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #registry: Registry | undefined;
  readonly #defaultResyncMs: number;
  readonly #namespace: string | undefined;
  readonly #reflectorConfig: Partial<ReflectorConfig> | undefined;
  readonly #informers = new Map<string, Entry>();
  readonly #runs: Promise<void>[] = [];
  /** Aborted by shutdown(), so it can stop informers whose start signal is still live. */
  readonly #stop = new AbortController();
  /** The signal of the last start(), for startNewInformers(). */
  #running: AbortSignal | undefined;

  constructor(opts: SharedInformerFactoryOptions) {
    this.#client = opts.client;
    this.#clock = opts.clock ?? realClock;
    this.#log = loggerOr(opts.logger);
    this.#registry = opts.registry;
    this.#defaultResyncMs = opts.defaultResyncPeriodMs ?? 0;
    this.#namespace = opts.namespace || undefined;
    this.#reflectorConfig = opts.reflector;
  }

  /** The same (resource, namespace, selectors, metadataOnly) returns the same informer. */
  informerFor<T extends KubeObject>(resource: ResourceRef, options: InformerOptions = {}): SharedInformer<T> {
    const namespace = resource.namespaced ? options.namespace || this.#namespace : undefined;
    const key = JSON.stringify([
      resource.group,
      resource.version,
      resource.resource,
      namespace ?? '',
      options.labelSelector ?? '',
      options.fieldSelector ?? '',
      options.metadataOnly ?? false,
    ]);
    const existing = this.#informers.get(key);
    if (existing) {
      if (options.transform !== existing.transform) {
        this.#log.warn(
          { resource: resource.resource },
          'informer already exists with another transform: keeping the first',
        );
      }
      // New index names are added (built over the cache once); an existing name keeps its function.
      const known = new Set(existing.informer.indexNames());
      const added = Object.entries(options.indexers ?? {}).filter(([name]) => !known.has(name));
      if (added.length > 0) existing.informer.addIndexers(Object.fromEntries(added));
      return existing.informer as unknown as SharedInformer<T>;
    }
    const informer = new SharedIndexInformer<KubeObject>({
      client: this.#client,
      resource,
      namespace,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      metadataOnly: options.metadataOnly,
      transform: options.transform,
      indexers: options.indexers,
      resyncPeriodMs: options.resyncPeriodMs ?? this.#defaultResyncMs,
      clock: this.#clock,
      logger: this.#log,
      registry: this.#registry,
      reflector: this.#reflectorConfig,
    });
    this.#informers.set(key, { informer, transform: options.transform, started: false });
    return informer as unknown as SharedInformer<T>;
  }

  /** Starts every informer not started yet; they run until `signal` aborts or shutdown(). */
  start(signal: AbortSignal): void {
    if (this.#stop.signal.aborted) throw new Error('informer factory is shut down');
    const stop = AbortSignal.any([signal, this.#stop.signal]);
    this.#running = stop;
    for (const entry of this.#informers.values()) {
      if (entry.started) continue;
      entry.started = true;
      this.#runs.push(
        entry.informer.run(stop).catch((err: unknown) => {
          this.#log.error(
            { err, resource: entry.informer.resource.resource },
            'informer stopped with an error',
          );
        }),
      );
    }
  }

  /**
   * Starts the informers created since the last start(), with that start's signal: informers asked
   * for on demand run at once, as controller-runtime's cache starts them. Does nothing before start().
   */
  startNewInformers(): void {
    const running = this.#running;
    if (!running || running.aborted) return;
    this.start(running);
  }

  /** True once every started informer has synced (waitForCacheSync); false on timeout or abort. */
  waitForCacheSync(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    const started = [...this.#informers.values()].filter((e) => e.started).map((e) => e.informer);
    return waitForCacheSync(started, { clock: this.#clock, timeoutMs, signal });
  }

  /** Stops every informer and waits until each run() has finished. */
  async shutdown(): Promise<void> {
    this.#stop.abort(new Error('informer factory shut down'));
    await Promise.allSettled(this.#runs);
  }
}
