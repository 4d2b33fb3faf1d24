export {
  AGGREGATED_API_VERSION,
  AGGREGATED_KIND,
  isAggregated,
  splitGroupsAndResources,
} from './aggregated.ts';
export * from './defaults.ts';
export {
  AGGREGATED_DISCOVERY_ACCEPT,
  DISCOVERY_ACCEPT,
  DiscoveryClient,
  type DiscoveryClientOptions,
  type GroupsAndMaybeResources,
} from './discovery-client.ts';
export {
  DynamicRESTMapper,
  NoKindMatchError,
  type RESTMapperOptions,
  type RESTMapping,
} from './rest-mapper.ts';
export {
  formatGroupKind,
  parseGroupVersion,
  type APIGroup,
  type APIResource,
  type GroupKind,
} from './types.ts';
