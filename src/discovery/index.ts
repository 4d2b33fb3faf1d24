export { DiscoveryClient } from './discovery-client.ts';
export { DynamicRESTMapper, NoKindMatchError, type RESTMapping } from './rest-mapper.ts';
export { formatGroupKind, type GroupKind, parseGroupVersion } from './types.ts';
