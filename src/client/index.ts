export {
  credentialsFor,
  type ClientIdentity,
  type CredentialHeaders,
  type CredentialSource,
  type RequestCredentials,
} from './credentials.ts';
export * from './defaults.ts';
export {
  ApiError,
  isAlreadyExists,
  isConflict,
  isDenied,
  isGone,
  isNotFound,
  isStatus,
  isTooManyRequests,
  ResponseDecodeError,
  retryAfterMs,
  TransportError,
  WatchDecodeError,
  type Status,
} from './errors.ts';
export {
  REST_CLIENT_REQUESTS,
  restClientRequests,
  TRANSPORT_ERROR_CODE,
  type RequestCounter,
} from './metrics.ts';
export {
  HttpRestClient,
  withQuery,
  type ListMeta,
  type ObjectList,
  type Query,
  type RequestOptions,
  type RestClient,
  type RestWriter,
} from './rest-client.ts';
export { parseRetryAfter } from './retry-after.ts';
export {
  anonymousConfig,
  type ExecProviderConfig,
  type ImpersonationConfig,
  type RestConfig,
  type TlsClientConfig,
} from './rest-config.ts';
export { ExecAuthenticator, type ExecCredential } from './exec-authenticator.ts';
export { TokenFile } from './token-file.ts';
export {
  KubeTransport,
  type ServerTls,
  type TransportOptions,
  type TransportRequest,
  type TransportResponse,
} from './transport.ts';
export { decodeWatchEvent, decodeWatchStream, type WatchEvent, type WatchEventType } from './watch-stream.ts';
