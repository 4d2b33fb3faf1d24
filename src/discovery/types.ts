/**
 * The discovery documents as the API server serves them (k8s.io/apimachinery meta/v1 and
 * k8s.io/api apidiscovery/v2), reduced to the fields a RESTMapper reads.
 */

/** A group and kind, without version: what an owner reference names once its apiVersion is split. */
export interface GroupKind {
  /** '' for the core group. */
  group: string;
  kind: string;
}

/** meta/v1 GroupVersionForDiscovery. */
export interface GroupVersionForDiscovery {
  /** "apps/v1", or "v1" for the core group. */
  groupVersion: string;
  version: string;
}

/** meta/v1 APIGroup: a group, its served versions, and the one the server prefers. */
export interface APIGroup {
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion?: GroupVersionForDiscovery;
}

/** meta/v1 APIResource: one resource of a group version; names with a "/" are subresources. */
export interface APIResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
}

/** meta/v1 APIResourceList: what /api/v1 and /apis/<group>/<version> serve. */
export interface APIResourceList {
  groupVersion?: string;
  resources?: APIResource[] | null;
}

/** meta/v1 APIVersions: the legacy /api document. */
export interface APIVersions {
  kind?: string;
  versions?: string[] | null;
}

/** meta/v1 APIGroupList: the legacy /apis document. */
export interface APIGroupList {
  kind?: string;
  groups?: APIGroup[] | null;
}

/** apidiscovery/v2 APIGroupDiscoveryList: every group, version and resource in one document. */
export interface APIGroupDiscoveryList {
  apiVersion?: string;
  kind?: string;
  items?: APIGroupDiscovery[] | null;
}

export interface APIGroupDiscovery {
  metadata?: { name?: string };
  /** In the server's order of preference: the first one that is not stale is preferred. */
  versions?: APIVersionDiscovery[] | null;
}

export interface APIVersionDiscovery {
  version: string;
  resources?: APIResourceDiscovery[] | null;
  /** "Stale" when an aggregated API server could not be reached: that version is left out. */
  freshness?: 'Current' | 'Stale';
}

export interface APIResourceDiscovery {
  resource: string;
  responseKind?: { group?: string; version?: string; kind?: string };
  scope: 'Cluster' | 'Namespaced';
  singularResource?: string;
  verbs?: string[];
}

/** "apps/v1" -> { group: 'apps', version: 'v1' }; "v1" -> core. */
export function parseGroupVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** "ReplicaSet.apps", "Pod" for core: kubectl's way of writing a group-qualified kind. */
export function formatGroupKind({ group, kind }: GroupKind): string {
  return group ? `${kind}.${group}` : kind;
}
