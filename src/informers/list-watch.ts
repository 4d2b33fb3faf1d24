import type { ObjectList, Query, RestClient, WatchEvent } from '../client/index.ts';
import type { KubeObject, ResourceRef } from './types.ts';

/**
 * controller-runtime's metadata-only media types: the API server answers with PartialObjectMetadata
 * (lists: PartialObjectMetadataList), i.e. only apiVersion, kind and metadata of each object. The
 * trailing application/json lets a server that cannot transform answer with full objects.
 */
export const METADATA_LIST_ACCEPT =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
export const METADATA_WATCH_ACCEPT =
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export interface ListWatchScope {
  /** One namespace; all when absent or empty. Ignored for a cluster-scoped resource. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  metadataOnly?: boolean | undefined;
}

/** The list and watch calls of one informer, with its path, selectors and media type fixed. */
export interface ListWatch {
  /** e.g. "pods in default", for logs. */
  readonly description: string;
  list(query: Query, signal: AbortSignal): Promise<ObjectList<KubeObject>>;
  watch(query: Query, signal: AbortSignal): AsyncIterable<WatchEvent<KubeObject>>;
}

/** /api/v1/namespaces/ns/pods, /apis/apps/v1/replicasets, ... */
export function resourcePath(resource: ResourceRef, namespace?: string): string {
  const root = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  const scope = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${root}${scope}/${resource.resource}`;
}

export function listWatchFor(
  client: RestClient,
  resource: ResourceRef,
  scope: ListWatchScope = {},
): ListWatch {
  const namespace = resource.namespaced && scope.namespace ? scope.namespace : undefined;
  const path = resourcePath(resource, namespace);
  const selectors: Query = {
    ...(scope.labelSelector ? { labelSelector: scope.labelSelector } : {}),
    ...(scope.fieldSelector ? { fieldSelector: scope.fieldSelector } : {}),
  };
  const listOptions = scope.metadataOnly ? { accept: METADATA_LIST_ACCEPT } : undefined;
  const watchOptions = scope.metadataOnly ? { accept: METADATA_WATCH_ACCEPT } : undefined;
  const group = resource.group ? `.${resource.group}` : '';
  return {
    description: `${resource.resource}${group} in ${namespace ?? 'all namespaces'}`,
    list: (query, signal) => client.list<KubeObject>(path, { ...query, ...selectors }, signal, listOptions),
    watch: (query, signal) =>
      client.watch<KubeObject>(path, { ...query, ...selectors }, signal, watchOptions),
  };
}
