import type { Logger } from 'pino';
import { isGone, type ObjectList, type Query } from '../client/index.ts';
import type { KubeObject } from './types.ts';

/** A complete, consistent list: every object, and the resourceVersion to watch from. */
export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface ListPagerOptions {
  /** Objects per page (`limit`). */
  pageSize: number;
  /** Restarts from the first page after an expired continue token before one unpaginated list. */
  maxExpiredListRestarts: number;
}

/**
 * Reads one complete list in pages of `pageSize`, following continue tokens: client-go's
 * tools/pager ListPager. A continue token that expires (410) restarts the list from its first page;
 * after `maxExpiredListRestarts` restarts the list is read in one unpaginated request (the pager's
 * FullListIfExpired, which client-go takes at the first expiry). Any other error is the caller's.
 */
export class ListPager<T> {
  readonly #page: (query: Query, signal: AbortSignal) => Promise<ObjectList<KubeObject>>;
  readonly #prepare: (obj: KubeObject) => T;
  readonly #options: ListPagerOptions;
  readonly #log: Logger;

  constructor(
    page: (query: Query, signal: AbortSignal) => Promise<ObjectList<KubeObject>>,
    prepare: (obj: KubeObject) => T,
    options: ListPagerOptions,
    log: Logger,
  ) {
    this.#page = page;
    this.#prepare = prepare;
    this.#options = options;
    this.#log = log;
  }

  /**
   * Every page, each prepared as it arrives.
   * @throws the page request's error (ApiError, TransportError, the signal's reason); Error when the
   *   last page has no resourceVersion.
   */
  async list(signal: AbortSignal): Promise<ListResult<T>> {
    const { pageSize, maxExpiredListRestarts } = this.#options;
    const items: T[] = [];
    let token: string | undefined;
    let expired = 0;
    for (;;) {
      const paginate = expired < maxExpiredListRestarts;
      let page;
      try {
        page = await this.#page(
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
      return { items, resourceVersion };
    }
  }
}
