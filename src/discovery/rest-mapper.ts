import type { Logger } from 'pino';
import { loggerOr } from '../logging/index.ts';
import { ApiError } from '../client/index.ts';
import { realClock, type Clock } from '../clock/index.ts';
import { MIN_REFRESH_INTERVAL_MS } from './defaults.ts';
import type { DiscoveryClient } from './discovery-client.ts';
import {
  formatGroupKind,
  parseGroupVersion,
  type APIGroup,
  type APIResource,
  type GroupKind,
} from './types.ts';

/** Where a kind is served: group, the version picked, the resource (plural) and its scope. */
export interface RESTMapping {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

/** The server serves no resource of that kind (apimachinery's NoKindMatchError). */
export class NoKindMatchError extends Error {
  override name = 'NoKindMatchError';
  readonly groupKind: GroupKind;

  constructor(groupKind: GroupKind) {
    super(`no matches for kind "${groupKind.kind}" in group "${groupKind.group}"`);
    this.groupKind = groupKind;
  }
}

export interface RESTMapperOptions {
  discovery: Pick<DiscoveryClient, 'groupsAndMaybeResources' | 'serverResourcesForGroupVersion'>;
  clock?: Clock;
  logger?: Logger;
  /** Least time between two refreshes of one group, and between two full discoveries. */
  minRefreshIntervalMs?: number;
}

/**
 * Maps a kind to the resource that serves it, learning lazily from discovery and refreshing on a
 * miss: controller-runtime's dynamic RESTMapper (pkg/client/apiutil/restmapper.go,
 * addKnownGroupAndReload). A miss in a group not seen before runs a full discovery (with aggregated
 * discovery, /api and /apis hold every resource); a miss in a known group re-reads that group's
 * versions (/apis/<group>/<version>), so a CRD added to an existing group is found; a version the
 * server no longer serves (404) forgets the group, so the next miss runs a full discovery. Unlike
 * controller-runtime, refreshes are rate-limited (minRefreshIntervalMs), so a bogus kind cannot make
 * us hammer discovery; client-go's memory cache would not refresh at all.
 *
 * The version picked is the group's preferred one when it serves the kind, else the first that does
 * (client-go's discovery RESTMapper order). A caller's version only widens what a refresh reads: an
 * object's metadata is the same in every version, so owners need no particular one.
 */
export class DynamicRESTMapper {
  readonly #discovery: RESTMapperOptions['discovery'];
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #minIntervalMs: number;
  readonly #groups = new Map<string, APIGroup>();
  /** group -> version -> resources. */
  readonly #resources = new Map<string, Map<string, APIResource[]>>();
  #initialDone = false;
  #lastFullDiscovery = Number.NEGATIVE_INFINITY;
  readonly #lastGroupRefresh = new Map<string, number>();
  readonly #reloads = new Map<string, Promise<void>>();

  constructor(options: RESTMapperOptions) {
    this.#discovery = options.discovery;
    this.#clock = options.clock ?? realClock;
    this.#log = loggerOr(options.logger).child({ component: 'restmapper' });
    this.#minIntervalMs = options.minRefreshIntervalMs ?? MIN_REFRESH_INTERVAL_MS;
  }

  /** The mapping from what is cached, without a request; undefined on a miss. */
  cachedRESTMapping(gk: GroupKind): RESTMapping | undefined {
    const versions = this.#resources.get(gk.group);
    if (!versions) return undefined;
    const group = this.#groups.get(gk.group);
    const order = [
      ...(group?.preferredVersion ? [group.preferredVersion.version] : []),
      ...(group?.versions.map((v) => v.version) ?? []),
      ...versions.keys(),
    ];
    for (const version of new Set(order)) {
      const found = versions.get(version)?.find((r) => r.kind === gk.kind && !r.name.includes('/'));
      if (found) {
        return {
          group: gk.group,
          version,
          resource: found.name,
          kind: gk.kind,
          namespaced: found.namespaced,
        };
      }
    }
    return undefined;
  }

  /**
   * The mapping, refreshing discovery on a miss (at most once per minRefreshIntervalMs per group).
   * Throws NoKindMatchError when the server does not serve the kind, ApiError or TransportError when
   * discovery fails.
   */
  async restMapping(gk: GroupKind, version?: string, signal?: AbortSignal): Promise<RESTMapping> {
    const cached = this.cachedRESTMapping(gk);
    if (cached) return cached;
    await this.#reload(gk, version, signal);
    const found = this.cachedRESTMapping(gk);
    if (!found) throw new NoKindMatchError(gk);
    return found;
  }

  /** Concurrent misses in one group share one refresh. */
  async #reload(gk: GroupKind, version: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    const pending = this.#reloads.get(gk.group);
    if (pending) return pending;
    const reload = this.#refresh(gk, version, signal).finally(() => this.#reloads.delete(gk.group));
    this.#reloads.set(gk.group, reload);
    return reload;
  }

  async #refresh(gk: GroupKind, version: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    const now = this.#clock.now();
    const group = gk.group;
    if (!this.#initialDone || !this.#groups.has(group)) {
      if (this.#initialDone && now - this.#lastFullDiscovery < this.#minIntervalMs) {
        this.#log.debug({ kind: formatGroupKind(gk) }, 'discovery refresh skipped: rate-limited');
        return;
      }
      this.#lastFullDiscovery = now;
      this.#lastGroupRefresh.set(group, now);
      const { groups, resources } = await this.#discovery.groupsAndMaybeResources(signal);
      this.#groups.clear();
      for (const g of groups) this.#groups.set(g.name, g);
      this.#initialDone = true;
      if (resources) {
        this.#resources.clear();
        for (const [groupVersion, list] of resources) {
          const { group: g, version: v } = parseGroupVersion(groupVersion);
          let versions = this.#resources.get(g);
          if (!versions) this.#resources.set(g, (versions = new Map<string, APIResource[]>()));
          versions.set(v, list);
        }
        this.#log.debug({ kind: formatGroupKind(gk), groups: groups.length }, 'discovery read (aggregated)');
        return;
      }
      this.#log.debug({ kind: formatGroupKind(gk), groups: groups.length }, 'discovery read (legacy)');
    } else if (now - (this.#lastGroupRefresh.get(group) ?? Number.NEGATIVE_INFINITY) < this.#minIntervalMs) {
      this.#log.debug({ kind: formatGroupKind(gk) }, 'discovery refresh skipped: rate-limited');
      return;
    }
    this.#lastGroupRefresh.set(group, now);
    const served = this.#groups.get(group);
    // A group the server does not serve has nothing to read: the kind is not served.
    if (!served) return;
    const known = new Set(served.versions.map((v) => v.version));
    const versions = new Set(known);
    if (version && !version.includes('/')) versions.add(version);
    for (const v of versions) {
      const groupVersion = group ? `${group}/${v}` : v;
      try {
        const list = await this.#discovery.serverResourcesForGroupVersion(groupVersion, signal);
        let cached = this.#resources.get(group);
        if (!cached) this.#resources.set(group, (cached = new Map<string, APIResource[]>()));
        cached.set(v, list);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
        // Only the caller's guess: nothing served there.
        if (!known.has(v)) continue;
        // A version discovery listed is gone: forget the group, so that the next miss reads discovery afresh.
        this.#groups.delete(group);
        this.#resources.delete(group);
        this.#log.debug({ groupVersion }, 'group version not served any more: group forgotten');
      }
    }
    this.#log.debug({ kind: formatGroupKind(gk), versions: [...versions] }, 'group re-read from discovery');
  }
}
