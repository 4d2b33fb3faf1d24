import { ApiError, type TransportError, type Query, type WatchEvent } from '../client/index.ts';
import { INITIAL_EVENTS_END_ANNOTATION } from './defaults.ts';
import { objectKey } from './object-key.ts';
import type { ListResult } from './pager.ts';
import type { KubeObject } from './types.ts';

/**
 * The query of a watch-list (KEP-3157, client-go's watchList): the current state at a consistent
 * read, as a list reads it (no resourceVersion), then an initial-events-end bookmark, then changes.
 */
export function watchListQuery(timeoutSeconds: number): Query {
  return {
    sendInitialEvents: true,
    resourceVersionMatch: 'NotOlderThan',
    allowWatchBookmarks: true,
    timeoutSeconds,
  };
}

/**
 * A watch-list's initial state, gathered aside until the server says it is complete: nothing of it
 * reaches the store before the initial-events-end bookmark, so a stream that breaks half-way leaves
 * the store as it was.
 */
export class InitialEvents<T> {
  readonly #prepare: (obj: KubeObject) => T;
  readonly #items = new Map<string, T>();

  constructor(prepare: (obj: KubeObject) => T) {
    this.#prepare = prepare;
  }

  /**
   * Takes one event of the stream; returns the complete list once it is the initial-events-end bookmark.
   * @throws ApiError for an ERROR event; Error for an end bookmark without a resourceVersion.
   */
  add(event: WatchEvent<KubeObject>): ListResult<T> | undefined {
    if (event.type === 'ERROR') throw ApiError.fromStatus(event.object);
    const metadata = event.object.metadata;
    if (event.type === 'BOOKMARK') {
      if (metadata?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] !== 'true') return undefined;
      const resourceVersion = metadata.resourceVersion;
      if (!resourceVersion) throw new Error('initial-events-end bookmark has no resourceVersion');
      return { items: [...this.#items.values()], resourceVersion };
    }
    const key = objectKey(event.object);
    if (event.type === 'DELETED') this.#items.delete(key);
    else this.#items.set(key, this.#prepare(event.object));
    return undefined;
  }
}

/** A watch-list stream that ended (closed, broke or went silent) before its initial-events-end bookmark. */
export class WatchListIncompleteError extends Error {
  override name = 'WatchListIncompleteError';

  constructor(how: { broken?: TransportError | undefined; idle?: boolean }) {
    const why = how.idle ? 'went silent' : how.broken ? `broke: ${how.broken.message}` : 'was closed';
    super(`watch-list stream ${why} before its initial-events-end bookmark`, { cause: how.broken });
  }
}
