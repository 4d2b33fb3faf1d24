export { credentialsFor, pemOf } from './credentials.ts';
export { KUBE_API_BURST, KUBE_API_QPS } from './defaults.ts';
export {
  ApiError,
  isConflict,
  isDenied,
  isGone,
  isNotFound,
  isTooManyRequests,
  retryAfterMs,
  type Status,
  TransportError,
  WatchDecodeError,
} from './errors.ts';
export {
  HttpRestClient,
  type ObjectList,
  type Query,
  type RequestOptions,
  type RestClient,
  type RestWriter,
} from './rest-client.ts';
export { anonymousConfig, isTransportTls, type RestConfig } from './rest-config.ts';
export { KubeTransport } from './transport.ts';
export type { WatchEvent } from './watch-stream.ts';
export { ConnectionHealth } from './connection-health.ts';
export { ExecAuthenticator } from './exec-authenticator.ts';
