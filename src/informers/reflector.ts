import type { Logger } from 'pino';
import { loggerOr } from '../logging/index.ts';
import { isAborted, realClock, type Clock } from '../clock/index.ts';
import {
  ApiError,
  retryAfterMs,
  TransportError,
  WatchDecodeError,
  type WatchEvent,
} from '../client/index.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import {
  LIST_PAGE_SIZE,
  MAX_EXPIRED_LIST_RESTARTS,
  MIN_WATCH_TIMEOUT_SECONDS,
  SHORT_WATCH_MS,
  WATCH_IDLE_GRACE_MS,
  WATCH_LIST,
} from './defaults.ts';
import type { ListWatch } from './list-watch.ts';
import { ListPager, type ListResult } from './pager.ts';
import {
  nextPhase,
  WATCH,
  type Ending,
  type ListMethod,
  type ListReason,
  type Phase,
  type WatchClosed,
} from './reflector-phase.ts';
import type { KubeObject } from './types.ts';
import { InitialEvents, WatchListIncompleteError, watchListQuery } from './watch-list.ts';

/** Where a reflector puts what it learns (client-go's ReflectorStore); called synchronously, in order. */
export interface ReflectorStore<T> {
  /** A complete, consistent list: the cache becomes exactly `items`. */
  replace(items: T[], resourceVersion: string): void;
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
}

/** The reflector's knobs; client-go's values by default (see defaults.ts). */
export interface ReflectorConfig {
  pageSize: number;
  /** timeoutSeconds of each watch is random in [min, 2 * min). */
  minWatchTimeoutSeconds: number;
  watchIdleGraceMs: number;
  shortWatchMs: number;
  maxExpiredListRestarts: number;
  backoff: Partial<BackoffOptions>;
  /** Lists as one watch stream of the initial state (WatchList); paged lists when false. */
  watchList: boolean;
}

export const DEFAULT_REFLECTOR_CONFIG: Readonly<ReflectorConfig> = Object.freeze({
  pageSize: LIST_PAGE_SIZE,
  minWatchTimeoutSeconds: MIN_WATCH_TIMEOUT_SECONDS,
  watchIdleGraceMs: WATCH_IDLE_GRACE_MS,
  shortWatchMs: SHORT_WATCH_MS,
  maxExpiredListRestarts: MAX_EXPIRED_LIST_RESTARTS,
  backoff: {},
  watchList: WATCH_LIST,
});

export type { ListMethod, ListReason } from './reflector-phase.ts';

export interface ReflectorOptions<T> {
  listWatch: ListWatch;
  store: ReflectorStore<T>;
  /** Turns a decoded object into the stored one (transform, freeze); runs before the store sees it. */
  prepare: (obj: KubeObject) => T;
  clock?: Clock;
  logger?: Logger;
  config?: Partial<ReflectorConfig>;
  random?: () => number;
  /** Called after each completed list, paged or streamed. */
  onList?: (reason: ListReason, method: ListMethod) => void;
  /** Called with the error of each failed list (an ApiError 403 when RBAC refuses it), before the backoff. */
  onListError?: (err: unknown) => void;
}

/**
 * Lists then watches one resource, keeping a store equal to the server's state: client-go's Reflector.
 * A list is a consistent read, by default streamed (WatchList: one watch that first sends the current
 * state, then an initial-events-end bookmark, then goes on as a normal watch); if that stream fails
 * before its bookmark, as on a server without WatchList, the list is paged instead, once. Watches
 * resume from the last resourceVersion seen until the server answers 410, which means a relist.
 * resourceVersions are opaque: compared for equality only, never ordered. What follows each
 * failure is nextPhase's (reflector-phase.ts).
 */
export class Reflector<T> {
  readonly #listWatch: ListWatch;
  readonly #store: ReflectorStore<T>;
  readonly #prepare: (obj: KubeObject) => T;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #config: ReflectorConfig;
  readonly #random: () => number;
  readonly #backoff: Backoff;
  readonly #pager: ListPager<T>;
  readonly #onList: ((reason: ListReason, method: ListMethod) => void) | undefined;
  readonly #onListError: ((err: unknown) => void) | undefined;
  #phase: Phase;
  #resourceVersion: string | undefined;
  #eventsSinceList = 0;
  #running = false;

  constructor(options: ReflectorOptions<T>) {
    this.#listWatch = options.listWatch;
    this.#store = options.store;
    this.#prepare = options.prepare;
    this.#clock = options.clock ?? realClock;
    this.#log = loggerOr(options.logger).child({ watch: options.listWatch.description });
    this.#config = { ...DEFAULT_REFLECTOR_CONFIG, ...options.config };
    this.#random = options.random ?? Math.random;
    this.#backoff = new Backoff(this.#clock, this.#config.backoff, this.#random);
    this.#pager = new ListPager<T>(
      (query, signal) => this.#listWatch.list(query, signal),
      this.#prepare,
      this.#config,
      this.#log,
    );
    this.#onList = options.onList;
    this.#onListError = options.onListError;
    this.#phase = { kind: 'list', reason: 'initial', method: this.#config.watchList ? 'watchlist' : 'paged' };
  }

  /** The resourceVersion of the last list, event or bookmark applied. */
  lastSyncResourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  /** Lists and watches until `signal` aborts; resolves once the watch is closed. Never rejects for API errors. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error(`reflector for ${this.#listWatch.description} is already running`);
    this.#running = true;
    while (!signal.aborted) {
      const ending = await this.#attempt(signal);
      if (isAborted(signal)) break;
      const delayMs = this.#follow(ending);
      if (delayMs > 0) await this.#clock.sleep(delayMs, signal).catch(() => undefined);
    }
  }

  /** One attempt in the current phase: a paged list if due, then a watch (client-go's ListAndWatch). */
  async #attempt(signal: AbortSignal): Promise<Ending> {
    try {
      const phase = this.#phase;
      if (phase.kind === 'list' && phase.method === 'paged') {
        this.#replace(await this.#pager.list(signal), phase.reason, 'paged');
      }
      return { closed: await this.#watch(signal) };
    } catch (err) {
      return { err };
    }
  }

  /** Moves to the phase that follows `ending`, logs why, and returns how long to wait before it. */
  #follow(ending: Ending): number {
    const err = 'err' in ending ? ending.err : ending.closed.broken;
    const next = nextPhase(this.#phase, ending, {
      watchList: this.#config.watchList,
      eventsSinceList: this.#eventsSinceList,
      shortWatchMs: this.#config.shortWatchMs,
    });
    this.#phase = next.phase;
    // The backoff or the server's Retry-After, whichever is longer, for every retry whatever failed.
    const delayMs = next.backoff ? Math.max(this.#backoff.next(), retryAfterMs(err) ?? 0) : 0;
    const watch =
      'closed' in ending ? { events: ending.closed.events, durationMs: ending.closed.durationMs } : {};
    const line = err instanceof WatchDecodeError ? { line: err.line } : {};
    this.#log[next.level](
      { err, delayMs, resourceVersion: this.#resourceVersion, ...watch, ...line },
      next.msg,
    );
    if (next.listFailed) this.#onListError?.(err);
    return delayMs;
  }

  /** A complete list is in: the store becomes it, and the watch goes on from its resourceVersion. */
  #replace(list: ListResult<T>, reason: ListReason, method: ListMethod): void {
    this.#store.replace(list.items, list.resourceVersion);
    this.#resourceVersion = list.resourceVersion;
    this.#eventsSinceList = 0;
    this.#phase = WATCH;
    this.#onList?.(reason, method);
  }

  /**
   * Watches until the server ends the stream. In a watch-list phase it first gathers the initial state
   * and replaces the store with it, then goes on as a watch on the same stream.
   * @throws WatchListIncompleteError when a watch-list closes, breaks or goes silent before its end.
   */
  async #watch(signal: AbortSignal): Promise<WatchClosed> {
    const { minWatchTimeoutSeconds, watchIdleGraceMs } = this.#config;
    const listing =
      this.#phase.kind === 'list'
        ? { reason: this.#phase.reason, initial: new InitialEvents<T>(this.#prepare) }
        : undefined;
    const timeoutSeconds = Math.floor(minWatchTimeoutSeconds * (1 + this.#random()));
    const idleMs = timeoutSeconds * 1000 + watchIdleGraceMs;
    const clock = this.#clock;
    const idle = new AbortController();
    const started = clock.now();
    let lastData = started;
    let events = 0;
    // One timer per watch, re-armed for the remaining silence instead of reset on every event.
    const check = (): void => {
      const silentMs = clock.now() - lastData;
      if (silentMs < idleMs) {
        timer = clock.setTimeout(check, idleMs - silentMs);
        return;
      }
      idle.abort(new Error(`watch silent for ${silentMs} ms`));
    };
    let timer = clock.setTimeout(check, idleMs);
    // Ended before a watch-list's initial state was complete: nothing was stored, so a failed list.
    const closed = (broken?: TransportError): WatchClosed => {
      const how = { idle: idle.signal.aborted, broken };
      if (this.#phase.kind === 'list') throw new WatchListIncompleteError(how);
      return { events, durationMs: clock.now() - started, ...how };
    };
    try {
      const query = listing
        ? watchListQuery(timeoutSeconds)
        : {
            ...(this.#resourceVersion !== undefined ? { resourceVersion: this.#resourceVersion } : {}),
            allowWatchBookmarks: true,
            timeoutSeconds,
          };
      for await (const event of this.#listWatch.watch(query, AbortSignal.any([signal, idle.signal]))) {
        lastData = clock.now();
        if (listing && this.#phase.kind === 'list') {
          const list = listing.initial.add(event);
          if (list) this.#replace(list, listing.reason, 'watchlist');
        } else {
          this.#apply(event);
        }
        events++;
      }
      return closed();
    } catch (err) {
      if (signal.aborted || err instanceof WatchListIncompleteError) throw err;
      if (idle.signal.aborted) return closed();
      if (err instanceof TransportError) return closed(err);
      throw err;
    } finally {
      clock.clearTimeout(timer);
    }
  }

  #apply(event: WatchEvent<KubeObject>): void {
    if (event.type === 'ERROR') throw ApiError.fromStatus(event.object);
    const resourceVersion = event.object.metadata?.resourceVersion;
    // A bookmark only moves the resourceVersion: nothing changed in the store.
    if (event.type !== 'BOOKMARK') this.#store.apply(event.type, this.#prepare(event.object));
    if (resourceVersion) this.#resourceVersion = resourceVersion;
    this.#eventsSinceList++;
  }
}
