import type { APIGroup, APIGroupDiscoveryList, APIResource } from './types.ts';

/** The aggregated discovery document of apidiscovery.k8s.io/v2, as its apiVersion and kind name it. */
export const AGGREGATED_API_VERSION = 'apidiscovery.k8s.io/v2';
export const AGGREGATED_KIND = 'APIGroupDiscoveryList';

/** Groups and, by "group/version" ("v1" for core), the resources each served version has. */
export interface SplitDiscovery {
  groups: APIGroup[];
  resources: Map<string, APIResource[]>;
  /** Group versions marked Stale (an aggregated API server that did not answer): left out above. */
  stale: string[];
}

export function isAggregated(body: unknown): body is APIGroupDiscoveryList {
  const doc = body as { apiVersion?: unknown; kind?: unknown } | null;
  return doc?.apiVersion === AGGREGATED_API_VERSION && doc.kind === AGGREGATED_KIND;
}

/**
 * The aggregated document split into the legacy shapes, as client-go's SplitGroupsAndResources: a
 * Stale version is left out, the preferred version is the first one that is not stale, and a
 * resource without a responseKind is dropped (subresources are not kept: a RESTMapper ignores them).
 */
export function splitGroupsAndResources(doc: APIGroupDiscoveryList): SplitDiscovery {
  const groups: APIGroup[] = [];
  const resources = new Map<string, APIResource[]>();
  const stale: string[] = [];
  for (const item of doc.items ?? []) {
    const name = item.metadata?.name ?? '';
    const group: APIGroup = { name, versions: [] };
    for (const v of item.versions ?? []) {
      const groupVersion = name ? `${name}/${v.version}` : v.version;
      if (v.freshness === 'Stale') {
        stale.push(groupVersion);
        continue;
      }
      const entry = { groupVersion, version: v.version };
      group.versions.push(entry);
      group.preferredVersion ??= entry;
      const list: APIResource[] = [];
      for (const r of v.resources ?? []) {
        const kind = r.responseKind?.kind;
        if (!kind) continue;
        list.push({
          name: r.resource,
          ...(r.singularResource ? { singularName: r.singularResource } : {}),
          namespaced: r.scope === 'Namespaced',
          kind,
          ...(r.verbs ? { verbs: r.verbs } : {}),
        });
      }
      resources.set(groupVersion, list);
    }
    groups.push(group);
  }
  return { groups, resources, stale };
}
