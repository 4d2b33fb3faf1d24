import { ApiError, type RestClient } from '../client/index.ts';
import { isAggregated, splitGroupsAndResources } from './aggregated.ts';
import type { APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions } from './types.ts';

/**
 * client-go's Accept for discovery (discovery_client.go, v0.37): the aggregated document first, plain
 * JSON (the legacy documents) for a server without it. The server needs the parameters in g, v, as order.
 */
export const AGGREGATED_DISCOVERY_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const DISCOVERY_ACCEPT = `${AGGREGATED_DISCOVERY_ACCEPT},application/json`;
const LEGACY_ACCEPT = 'application/json';

/** The groups a server serves and, when its discovery is aggregated, every resource of every version. */
export interface GroupsAndMaybeResources {
  groups: APIGroup[];
  /** By "group/version" ("v1" for core); undefined when the server answered with legacy documents. */
  resources: Map<string, APIResource[]> | undefined;
  /** Group versions the aggregated document marked Stale. */
  stale: string[];
}

export interface DiscoveryClientOptions {
  /** Ask for the legacy documents only (client-go's WithLegacy()). */
  legacyOnly?: boolean;
}

/**
 * Reads what the API server serves: client-go's DiscoveryClient (discovery/discovery_client.go,
 * GroupsAndMaybeResources, downloadLegacy, downloadAPIs, ServerResourcesForGroupVersion). Requests go
 * through the RestClient, so they share its connection, rate limit and request metrics.
 */
export class DiscoveryClient {
  readonly #client: RestClient;
  readonly #accept: string;

  constructor(client: RestClient, options: DiscoveryClientOptions = {}) {
    this.#client = client;
    this.#accept = options.legacyOnly ? LEGACY_ACCEPT : DISCOVERY_ACCEPT;
  }

  /**
   * GET /api and /apis. client-go picks the format by the response's Content-Type; the body's
   * apiVersion and kind (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) name the same thing, and the
   * RestClient returns bodies only. A 404 from /api is tolerated (an aggregated server may have no
   * core group). Resources are returned only when both answers were aggregated, as client-go does.
   * Throws ApiError or TransportError.
   */
  async groupsAndMaybeResources(signal?: AbortSignal): Promise<GroupsAndMaybeResources> {
    const [core, apis] = await Promise.all([this.#download('/api', signal), this.#download('/apis', signal)]);
    const groups = [...core.groups, ...apis.groups];
    const stale = [...core.stale, ...apis.stale];
    if (!core.resources || !apis.resources) return { groups, resources: undefined, stale };
    return { groups, resources: new Map([...core.resources, ...apis.resources]), stale };
  }

  /**
   * GET /api/v1 or /apis/<group>/<version>: one version's resources, in the legacy format. A 404 for
   * "v1" is an empty list (client-go tolerates it); any other error is thrown (ApiError 404 when the
   * group version is not served).
   */
  async serverResourcesForGroupVersion(groupVersion: string, signal?: AbortSignal): Promise<APIResource[]> {
    if (!groupVersion) throw new Error('groupVersion must not be empty');
    const path = groupVersion === 'v1' ? '/api/v1' : `/apis/${groupVersion}`;
    try {
      const list = await this.#client.get<APIResourceList>(path, undefined, signal, {
        accept: LEGACY_ACCEPT,
      });
      return list.resources ?? [];
    } catch (err) {
      if (groupVersion === 'v1' && err instanceof ApiError && err.code === 404) return [];
      throw err;
    }
  }

  async #download(
    path: '/api' | '/apis',
    signal: AbortSignal | undefined,
  ): Promise<{ groups: APIGroup[]; resources: Map<string, APIResource[]> | undefined; stale: string[] }> {
    let body: unknown;
    try {
      body = await this.#client.get<unknown>(path, undefined, signal, { accept: this.#accept });
    } catch (err) {
      if (path === '/api' && err instanceof ApiError && err.code === 404) {
        return { groups: [], resources: new Map(), stale: [] };
      }
      throw err;
    }
    if (isAggregated(body)) return splitGroupsAndResources(body);
    if (path === '/api') {
      const versions = (body as APIVersions).versions ?? [];
      if (versions.length === 0) return { groups: [], resources: undefined, stale: [] };
      const entries = versions.map((version) => ({ groupVersion: version, version }));
      return {
        groups: [{ name: '', versions: entries, preferredVersion: entries[0] }],
        resources: undefined,
        stale: [],
      };
    }
    return { groups: (body as APIGroupList).groups ?? [], resources: undefined, stale: [] };
  }
}
