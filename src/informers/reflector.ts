import { pino, type Logger } from 'pino';
import { realClock, type Clock } from '../clock/clock.ts';
import {
  ApiError,
  isDenied,
  isGone,
  isTooManyRequests,
  retryAfterMs,
  TransportError,
  WatchDecodeError,
} from '../client/errors.ts';
import type { WatchEvent } from '../client/watch-stream.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import {
  INITIAL_EVENTS_END_ANNOTATION,
  LIST_PAGE_SIZE,
  MAX_EXPIRED_LIST_RESTARTS,
  MIN_WATCH_TIMEOUT_SECONDS,
  SHORT_WATCH_MS,
  WATCH_IDLE_GRACE_MS,
  WATCH_LIST,
} from './defaults.ts';
import type { ListWatch } from './list-watch.ts';
import { objectKey } from './object-key.ts';
import type { KubeObject } from './types.ts';

/** Where a reflector puts what it learns; called synchronously, in order. */
export interface ReflectorSink<T> {
  /** A complete, consistent list: the cache becomes exactly `items`. */
  replace(items: T[], resourceVersion: string): void;
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
}

/** The reflector's knobs; client-go's values by default (see defaults.ts). */
export interface ReflectorTimings {
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

export const DEFAULT_REFLECTOR_TIMINGS: Readonly<ReflectorTimings> = Object.freeze({
  pageSize: LIST_PAGE_SIZE,
  minWatchTimeoutSeconds: MIN_WATCH_TIMEOUT_SECONDS,
  watchIdleGraceMs: WATCH_IDLE_GRACE_MS,
  shortWatchMs: SHORT_WATCH_MS,
  maxExpiredListRestarts: MAX_EXPIRED_LIST_RESTARTS,
  backoff: {},
  watchList: WATCH_LIST,
});

/** Why a list happened: the first one, a 410 on the watch, a malformed event, or another failure. */
export type ListReason = 'initial' | 'expired' | 'malformed' | 'error';

/** How a list was read: one watch stream of the initial state, or pages of a LIST. */
export type ListMethod = 'watchlist' | 'paged';

export interface ReflectorOptions<T> {
  listWatch: ListWatch;
  sink: ReflectorSink<T>;
  /** Turns a decoded object into the stored one (transform, freeze); runs before the sink sees it. */
  prepare: (obj: KubeObject) => T;
  clock?: Clock;
  logger?: Logger;
  timings?: Partial<ReflectorTimings>;
  random?: () => number;
  /** Called after each completed list, paged or streamed. */
  onList?: (reason: ListReason, method: ListMethod) => void;
  /** Called with the error of each failed list (an ApiError 403 when RBAC refuses it), before the backoff. */
  onListError?: (err: unknown) => void;
}

interface WatchOutcome {
  events: number;
  durationMs: number;
  /** No byte for timeoutSeconds + grace: the connection was presumed dead and dropped. */
  idle?: boolean;
  /** The connection failed or broke (TransportError); the watch can resume from the same version. */
  broken?: TransportError;
}

/** A watch-list in progress: the initial state gathers here until the server says it is complete. */
interface InitialState<T> {
  reason: ListReason;
  items: Map<string, T>;
  /** The initial-events-end bookmark arrived and the sink was replaced. */
  done: boolean;
}

/**
 * Lists then watches one resource, keeping a sink equal to the server's state: client-go's Reflector.
 * A list is a consistent read, by default streamed (WatchList: one watch that first sends the current
 * state, then an initial-events-end bookmark, then goes on as a normal watch); if that stream fails
 * before its bookmark, as on a server without WatchList, the list is paged instead, once. Watches
 * resume from the last resourceVersion seen until the server answers 410, which means a relist.
 * resourceVersions are opaque: compared for equality only, never ordered.
 */
export class Reflector<T> {
  readonly #listWatch: ListWatch;
  readonly #sink: ReflectorSink<T>;
  readonly #prepare: (obj: KubeObject) => T;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #timings: ReflectorTimings;
  readonly #random: () => number;
  readonly #backoff: Backoff;
  readonly #onList: ((reason: ListReason, method: ListMethod) => void) | undefined;
  readonly #onListError: ((err: unknown) => void) | undefined;
  #resourceVersion: string | undefined;
  #eventsSinceList = 0;
  #running = false;

  constructor(options: ReflectorOptions<T>) {
    this.#listWatch = options.listWatch;
    this.#sink = options.sink;
    this.#prepare = options.prepare;
    this.#clock = options.clock ?? realClock;
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ watch: options.listWatch.description });
    this.#timings = { ...DEFAULT_REFLECTOR_TIMINGS, ...options.timings };
    this.#random = options.random ?? Math.random;
    this.#backoff = new Backoff(this.#clock, this.#timings.backoff, this.#random);
    this.#onList = options.onList;
    this.#onListError = options.onListError;
  }

  /** The resourceVersion of the last list, event or bookmark applied. */
  lastSyncResourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  /** Lists and watches until `signal` aborts; resolves once the watch is closed. Never rejects for API errors. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error(`reflector for ${this.#listWatch.description} is already running`);
    this.#running = true;
    let listReason: ListReason | undefined = 'initial';
    // The last watch-list failed before its end: the next list is paged, then streams are tried again.
    let streamFailed = false;
    while (!signal.aborted) {
      let delayMs = 0;
      const initial: InitialState<T> | undefined =
        listReason !== undefined && this.#timings.watchList && !streamFailed
          ? { reason: listReason, items: new Map(), done: false }
          : undefined;
      let listing = listReason !== undefined;
      try {
        if (listReason !== undefined && !initial) {
          await this.#list(signal);
          this.#onList?.(listReason, 'paged');
          streamFailed = false;
        }
        listReason = undefined;
        listing = false;
        const outcome = await this.#watch(signal, initial);
        if (initial && !initial.done) {
          // Ended before the initial state was complete: nothing was stored, so this was a failed list.
          throw new WatchListIncompleteError(outcome.broken, outcome.idle === true);
        }
        const fields = { events: outcome.events, durationMs: outcome.durationMs, err: outcome.broken };
        if (outcome.idle) {
          this.#log.warn(fields, 'watch silent past its timeout, presumed dead: reconnecting');
        } else if (outcome.events === 0 && outcome.durationMs < this.#timings.shortWatchMs) {
          delayMs = this.#backoff.next();
          this.#log.warn({ ...fields, delayMs }, 'very short watch: backing off before watching again');
        } else {
          this.#log.debug(fields, outcome.broken ? 'watch broke, resuming' : 'watch ended, resuming');
        }
      } catch (err) {
        if (isAborted(signal)) break;
        if (initial && !initial.done && asksToWait(err)) {
          // A 429 (API Priority and Fairness) says "wait", not "this server cannot stream": client-go's
          // watchList retries it as a watch-list after the backoff; we also wait out Retry-After. A 5xx
          // with a Retry-After (an API server starting up or shutting down) is treated the same.
          listReason = initial.reason;
          delayMs = this.#delayAfter(err);
          this.#log.warn({ err, delayMs }, 'watch-list refused: waiting, then streaming again');
        } else if (initial && !initial.done) {
          // client-go's fallback: a server without WatchList, or a stream that broke, gets a paged list now.
          listReason = initial.reason;
          streamFailed = true;
          this.#log.info(
            { err },
            'watch-list failed before its initial state was complete: listing by pages',
          );
        } else if (listing) {
          delayMs = this.#delayAfter(err);
          // Forbidden or unauthorized will not heal by retrying: say so at error, with the server's
          // message naming the verb and resource. The cache stays unsynced, so /readyz stays 503.
          if (isDenied(err)) this.#log.error({ err, delayMs }, 'list failed: access denied');
          else this.#log.warn({ err, delayMs }, 'list failed');
          this.#onListError?.(err);
        } else if (isGone(err)) {
          listReason = 'expired';
          // A 410 before any event since the list is not worth an immediate second list.
          if (this.#eventsSinceList === 0) delayMs = this.#delayAfter(err);
          this.#log.info(
            { resourceVersion: this.#resourceVersion, delayMs },
            'resourceVersion expired: relisting',
          );
        } else if (err instanceof WatchDecodeError) {
          listReason = 'malformed';
          delayMs = this.#delayAfter(err);
          this.#log.error({ err, line: err.line, delayMs }, 'malformed watch event: relisting');
        } else if (err instanceof ApiError && (err.code === 429 || err.code === 503)) {
          delayMs = this.#delayAfter(err);
          this.#log.warn({ err, delayMs }, 'watch refused: backing off, then watching from the same version');
        } else {
          listReason = 'error';
          delayMs = this.#delayAfter(err);
          if (isDenied(err)) this.#log.error({ err, delayMs }, 'watch failed: access denied: relisting');
          else this.#log.warn({ err, delayMs }, 'watch failed: relisting');
        }
      }
      if (delayMs > 0) await this.#clock.sleep(delayMs, signal).catch(() => undefined);
    }
  }

  /** The backoff or the server's Retry-After, whichever is longer, for every retry whatever failed. */
  #delayAfter(err: unknown): number {
    return Math.max(this.#backoff.next(), retryAfterMs(err) ?? 0);
  }

  async #list(signal: AbortSignal): Promise<void> {
    const { pageSize, maxExpiredListRestarts } = this.#timings;
    const items: T[] = [];
    let token: string | undefined;
    let expired = 0;
    for (;;) {
      const paginate = expired < maxExpiredListRestarts;
      let page;
      try {
        page = await this.#listWatch.list(
          paginate ? { limit: pageSize, ...(token ? { continue: token } : {}) } : {},
          signal,
        );
      } catch (err) {
        if (token === undefined || !isGone(err)) throw err;
        expired++;
        items.length = 0;
        token = undefined;
        this.#log.info({ expired }, 'list continue token expired: listing again from the start');
        continue;
      }
      // Prepared page by page, so a page's raw objects can be collected before the next arrives.
      for (const raw of page.items) items.push(this.#prepare(raw));
      token = (paginate && page.metadata?.continue) || undefined;
      if (token) continue;
      const resourceVersion = page.metadata?.resourceVersion;
      if (!resourceVersion) throw new Error('list response has no resourceVersion');
      this.#sink.replace(items, resourceVersion);
      this.#resourceVersion = resourceVersion;
      this.#eventsSinceList = 0;
      return;
    }
  }

  /** Watches until the server ends the stream; with `initial`, first gathers the initial state into the sink. */
  async #watch(signal: AbortSignal, initial?: InitialState<T>): Promise<WatchOutcome> {
    const { minWatchTimeoutSeconds, watchIdleGraceMs } = this.#timings;
    const timeoutSeconds = Math.floor(minWatchTimeoutSeconds * (1 + this.#random()));
    const idleMs = timeoutSeconds * 1000 + watchIdleGraceMs;
    const clock = this.#clock;
    const controller = new AbortController();
    const onAbort = (): void => {
      controller.abort(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const started = clock.now();
    let lastData = started;
    let events = 0;
    const idle = { fired: false };
    // One timer per watch, re-armed for the remaining silence instead of reset on every event.
    const check = (): void => {
      const silentMs = clock.now() - lastData;
      if (silentMs < idleMs) {
        timer = clock.setTimeout(check, idleMs - silentMs);
        return;
      }
      idle.fired = true;
      controller.abort(new Error(`watch silent for ${silentMs} ms`));
    };
    let timer = clock.setTimeout(check, idleMs);
    try {
      // A watch-list asks for the current state at a consistent read (no resourceVersion), as a list does.
      const query = initial
        ? {
            sendInitialEvents: true,
            resourceVersionMatch: 'NotOlderThan',
            allowWatchBookmarks: true,
            timeoutSeconds,
          }
        : {
            ...(this.#resourceVersion !== undefined ? { resourceVersion: this.#resourceVersion } : {}),
            allowWatchBookmarks: true,
            timeoutSeconds,
          };
      for await (const event of this.#listWatch.watch(query, controller.signal)) {
        lastData = clock.now();
        if (initial && !initial.done) this.#gather(initial, event);
        else this.#apply(event);
        events++;
      }
      return { events, durationMs: clock.now() - started };
    } catch (err) {
      if (signal.aborted) throw err;
      if (idle.fired) return { events, durationMs: clock.now() - started, idle: true };
      if (err instanceof TransportError) return { events, durationMs: clock.now() - started, broken: err };
      throw err;
    } finally {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** An event of a watch-list's initial state: kept aside until the end bookmark, then one replace. */
  #gather(initial: InitialState<T>, event: WatchEvent<KubeObject>): void {
    if (event.type === 'ERROR') throw ApiError.fromStatus(event.object);
    const metadata = event.object.metadata;
    if (event.type === 'BOOKMARK') {
      if (metadata?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] !== 'true') return;
      const resourceVersion = metadata.resourceVersion;
      if (!resourceVersion) throw new Error('initial-events-end bookmark has no resourceVersion');
      this.#sink.replace([...initial.items.values()], resourceVersion);
      this.#resourceVersion = resourceVersion;
      this.#eventsSinceList = 0;
      initial.done = true;
      this.#onList?.(initial.reason, 'watchlist');
      return;
    }
    const key = objectKey(event.object);
    if (event.type === 'DELETED') initial.items.delete(key);
    else initial.items.set(key, this.#prepare(event.object));
  }

  #apply(event: WatchEvent<KubeObject>): void {
    if (event.type === 'ERROR') throw ApiError.fromStatus(event.object);
    const resourceVersion = event.object.metadata?.resourceVersion;
    // A bookmark only moves the resourceVersion: nothing changed in the cache.
    if (event.type !== 'BOOKMARK') this.#sink.apply(event.type, this.#prepare(event.object));
    if (resourceVersion) this.#resourceVersion = resourceVersion;
    this.#eventsSinceList++;
  }
}

/** A watch-list stream that ended (closed, broke or went silent) before its initial-events-end bookmark. */
class WatchListIncompleteError extends Error {
  constructor(broken: TransportError | undefined, idle: boolean) {
    const why = idle ? 'went silent' : broken ? `broke: ${broken.message}` : 'was closed';
    super(`watch-list stream ${why} before its initial-events-end bookmark`, { cause: broken });
    this.name = 'WatchListIncompleteError';
  }
}

/**
 * The server asked for a pause, as client-go's checkWait reads it (a 429, or a 5xx with a
 * Retry-After): the same request, later.
 */
function asksToWait(err: unknown): boolean {
  if (isTooManyRequests(err)) return true;
  return err instanceof ApiError && err.code >= 500 && err.retryAfterSeconds !== undefined;
}

/** Read through a call: TypeScript keeps `signal.aborted` narrowed to false across awaits otherwise. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
